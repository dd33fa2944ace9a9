using System.Globalization;
using Npgsql;

namespace Blueprint.Testing;

/// <summary>
/// A real PostgreSQL server (Debian's) on a free loopback port with a throw-away cluster, for
/// proving the sql module against the engine it scales out to. PostgreSQL refuses to run as root,
/// so under root the server runs as the <c>postgres</c> user. Stopped with its process tree on dispose.
/// </summary>
public sealed class PostgresPeer : IAsyncDisposable
{
    private const string User = "blueprint";
    private readonly ProcessRunner _process;
    private readonly TempDirectory _directory;

    private PostgresPeer(ProcessRunner process, TempDirectory directory, int port)
    {
        _process = process;
        _directory = directory;
        Port = port;
    }

    /// <summary>The port.</summary>
    public int Port { get; }

    /// <summary>A connection string for <paramref name="database"/>.</summary>
    public string ConnectionString(string database = "postgres") =>
        $"Host=127.0.0.1;Port={Port};Username={User};Database={database};Timeout=15;Pooling=false";

    /// <summary>Creates an empty database with a unique name and returns its connection string.</summary>
    public async Task<string> CreateDatabaseAsync()
    {
        var name = $"t_{Guid.NewGuid():N}";
        await using var connection = new NpgsqlConnection(ConnectionString());
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand($"CREATE DATABASE {name}", connection);
        await command.ExecuteNonQueryAsync();
        return ConnectionString(name);
    }

    /// <summary>Starts a server (skips the test when PostgreSQL is not installed, fails in CI).</summary>
    public static async Task<PostgresPeer> StartAsync()
    {
        var bin = FindBinDirectory();
        var directory = new TempDirectory("blueprint-pg");
        var port = FreePorts.Next();
        var data = Path.Combine(directory.Path, "data");
        var asRoot = Environment.UserName == "root";
        if (asRoot)
        {
            await RunAsync("chown", ["-R", "postgres:", directory.Path]);
        }

        await RunAsync(Wrap(asRoot, Path.Combine(bin, "initdb")), [.. WrapArguments(asRoot, Path.Combine(bin, "initdb")), "-D", data, "-U", User, "--auth=trust", "-E", "UTF8", "--no-sync"]);
        var process = ProcessRunner.Start(Wrap(asRoot, Path.Combine(bin, "postgres")),
        [
            .. WrapArguments(asRoot, Path.Combine(bin, "postgres")),
            "-D", data,
            "-p", port.ToString(CultureInfo.InvariantCulture),
            "-k", directory.Path,
            "-c", "listen_addresses=127.0.0.1",
            "-c", "fsync=off",
        ]);
        try
        {
            await process.WaitForLineAsync(line => line.Contains("ready to accept connections", StringComparison.Ordinal), TimeSpan.FromSeconds(60));
        }
        catch
        {
            await process.DisposeAsync();
            directory.Dispose();
            throw;
        }

        return new PostgresPeer(process, directory, port);
    }

    private static string FindBinDirectory()
    {
        const string root = "/usr/lib/postgresql";
        var bin = Directory.Exists(root)
            ? Directory.GetDirectories(root).Select(version => Path.Combine(version, "bin"))
                .Where(path => File.Exists(Path.Combine(path, "postgres")))
                .OrderByDescending(path => path, StringComparer.Ordinal)
                .FirstOrDefault()
            : null;
        return bin ?? Path.GetDirectoryName(Peers.Require("postgres", "postgresql"))!;
    }

    private static string Wrap(bool asRoot, string binary) => asRoot ? "runuser" : binary;

    private static string[] WrapArguments(bool asRoot, string binary) => asRoot ? ["-u", "postgres", "--", binary] : [];

    private static async Task RunAsync(string fileName, string[] arguments)
    {
        await using var process = ProcessRunner.Start(fileName, arguments);
        var exit = await process.WaitForExitAsync(TimeSpan.FromSeconds(120));
        if (exit != 0)
        {
            throw new InvalidOperationException($"{fileName} {string.Join(' ', arguments)} exited {exit}: {process.StandardError}");
        }
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        await _process.DisposeAsync();
        _directory.Dispose();
    }
}
