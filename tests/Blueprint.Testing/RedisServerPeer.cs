using System.Globalization;

namespace Blueprint.Testing;

/// <summary>A real redis-server on a free loopback port with its own directory, stopped by its PID on dispose.</summary>
public sealed class RedisServerPeer : IAsyncDisposable
{
    private readonly ProcessRunner _process;
    private readonly TempDirectory _directory;

    private RedisServerPeer(ProcessRunner process, TempDirectory directory, int port)
    {
        _process = process;
        _directory = directory;
        Port = port;
    }

    /// <summary>The port.</summary>
    public int Port { get; }

    /// <summary>What the server printed so far, for failure messages.</summary>
    public string Output => _process.StandardOutput + _process.StandardError;

    /// <summary>The endpoint as <c>host:port</c>.</summary>
    public string Endpoint => $"127.0.0.1:{Port}";

    /// <summary>Starts redis-server (skips the test when it is not installed, fails in CI).</summary>
    /// <param name="port">The port; null for a free one. Pass a stopped peer's port to bring it back.</param>
    public static async Task<RedisServerPeer> StartAsync(int? port = null)
    {
        var binary = Peers.Require("redis-server", "redis-server");
        var directory = new TempDirectory("blueprint-redis");
        var chosen = port ?? FreePorts.Next();
        var process = ProcessRunner.Start(binary,
        [
            "--port", chosen.ToString(CultureInfo.InvariantCulture),
            "--bind", "127.0.0.1",
            "--save", "",
            "--appendonly", "no",
            "--dir", directory.Path,
        ]);
        try
        {
            await process.WaitForLineAsync(line => line.Contains("Ready to accept connections", StringComparison.Ordinal), TimeSpan.FromSeconds(20));
        }
        catch
        {
            await process.DisposeAsync();
            directory.Dispose();
            throw;
        }

        return new RedisServerPeer(process, directory, chosen);
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        await _process.DisposeAsync();
        _directory.Dispose();
    }
}
