using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace Blueprint.Node.Tests.Cli;

/// <summary>The <c>blueprint</c> executable as a separate process: exit codes, messages, signals.</summary>
public sealed class ExecutableTests
{
    private static readonly TimeSpan StartDeadline = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan ExitDeadline = TimeSpan.FromSeconds(30);

    private static string Port(int port) => port.ToString(CultureInfo.InvariantCulture);

    [Fact]
    public async Task Version_PrintsVersionAndExitsZero()
    {
        using var work = new TempDirectory();
        await using var process = NodeProcess.Start(["version"], work.Path);
        Assert.Equal(0, await process.WaitForExitAsync(ExitDeadline));
        Assert.Matches(@"^blueprint \d+\.\d+\.\d+", process.StandardOutput);
    }

    [Fact]
    public async Task InvalidOptionValue_ExitsTwoWithOneLineNamingKeyValueAndFlag()
    {
        using var work = new TempDirectory();
        await using var process = NodeProcess.Start(["run", "--http-port", "70000", "--data-dir", work.Path], work.Path);
        Assert.Equal(2, await process.WaitForExitAsync(StartDeadline));
        Assert.Contains("blueprint: Node:HttpPort = '70000': must be a port from 1 to 65535 (0 picks a free one) (flag --http-port)", process.StandardError, StringComparison.Ordinal);
    }

    [Fact]
    public async Task NonNumericFlag_ExitsTwoWithParserMessage()
    {
        using var work = new TempDirectory();
        await using var process = NodeProcess.Start(["--resp-port", "lots"], work.Path);
        Assert.Equal(2, await process.WaitForExitAsync(ExitDeadline));
        Assert.Contains("blueprint:", process.StandardError, StringComparison.Ordinal);
        Assert.Contains("lots", process.StandardError, StringComparison.Ordinal);
    }

    [Fact]
    public async Task InvalidEnvironmentValue_ExitsTwo()
    {
        using var work = new TempDirectory();
        await using var process = NodeProcess.Start(["run", "--data-dir", work.Path], work.Path,
            new Dictionary<string, string> { ["BLUEPRINT_Node__LogFormat"] = "yaml" });
        Assert.Equal(2, await process.WaitForExitAsync(StartDeadline));
        Assert.Contains("Node:LogFormat = 'yaml'", process.StandardError, StringComparison.Ordinal);
    }

    [Fact]
    public async Task HttpPortInUse_ExitsTwoNamingPortAndFlag()
    {
        using var work = new TempDirectory();
        using var holder = new TcpListener(IPAddress.Loopback, 0);
        holder.Start();
        var busy = ((IPEndPoint)holder.LocalEndpoint).Port;

        await using var process = NodeProcess.Start(
            ["run", "--http-port", Port(busy), "--resp-port", Port(FreePorts.Next()), "--data-dir", work.Path], work.Path);
        Assert.Equal(2, await process.WaitForExitAsync(StartDeadline));
        Assert.Contains($"blueprint: HTTP port {busy} on 127.0.0.1 is already in use; choose another with --http-port <port>", process.StandardError, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RespPortInUse_ExitsTwoNamingPortAndFlag()
    {
        using var work = new TempDirectory();
        using var holder = new TcpListener(IPAddress.Loopback, 0);
        holder.Start();
        var busy = ((IPEndPoint)holder.LocalEndpoint).Port;

        await using var process = NodeProcess.Start(
            ["run", "--http-port", Port(FreePorts.Next()), "--resp-port", Port(busy), "--data-dir", work.Path], work.Path);
        Assert.Equal(2, await process.WaitForExitAsync(StartDeadline));
        Assert.Contains($"blueprint: RESP port {busy} on 127.0.0.1 is already in use; choose another with --resp-port <port>", process.StandardError, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Sigterm_DrainsCheckpointsAndExitsZero()
    {
        using var work = new TempDirectory();
        var httpPort = FreePorts.Next();
        var respPort = FreePorts.Next();
        await using var process = NodeProcess.Start(
            ["--http-port", Port(httpPort), "--resp-port", Port(respPort), "--data-dir", work.Path], work.Path,
            new Dictionary<string, string> { ["BLUEPRINT_RateLimit__GrpcPort"] = Port(FreePorts.Next()) });
        await process.WaitForLineAsync(line => line.StartsWith("Press Ctrl-C", StringComparison.Ordinal), StartDeadline);
        Assert.Contains($"redis://127.0.0.1:{respPort}", process.StandardOutput, StringComparison.Ordinal);
        Assert.Contains($"http://127.0.0.1:{httpPort}/", process.StandardOutput, StringComparison.Ordinal);

        using (var redis = await StackExchange.Redis.ConnectionMultiplexer.ConnectAsync($"127.0.0.1:{respPort}"))
        {
            Assert.True(await redis.GetDatabase().StringSetAsync("signal:key", "acknowledged"));
        }

        process.Terminate();
        Assert.Equal(0, await process.WaitForExitAsync(ExitDeadline));
        Assert.Contains("Embedded KV checkpoint taken", process.StandardOutput, StringComparison.Ordinal);
        Assert.Contains("SQL database checkpointed and closed", process.StandardOutput, StringComparison.Ordinal);

        // What was acknowledged before the signal is there after a restart.
        await using var node = await TestNode.StartAsync(work.Path, cancellationToken: TestContext.Current.CancellationToken);
        Assert.Equal("acknowledged", (string?)await (await node.RedisAsync()).GetDatabase().StringGetAsync("signal:key"));
    }

    [Fact]
    public async Task LogFormatJson_WritesOneJsonObjectPerLogLine()
    {
        using var work = new TempDirectory();
        await using var process = NodeProcess.Start(
            ["--modules", "sql", "--http-port", Port(FreePorts.Next()), "--data-dir", work.Path, "--log-format", "json"], work.Path);
        await process.WaitForLineAsync(line => line.StartsWith("Press Ctrl-C", StringComparison.Ordinal), StartDeadline);
        process.Terminate();
        Assert.Equal(0, await process.WaitForExitAsync(ExitDeadline));

        var logLines = process.StandardOutput.Split('\n').Where(line => line.StartsWith('{')).ToList();
        Assert.NotEmpty(logLines);
        foreach (var line in logLines)
        {
            using var json = System.Text.Json.JsonDocument.Parse(line);
            Assert.True(json.RootElement.TryGetProperty("Category", out _), line);
        }

        Assert.Contains(logLines, line => line.Contains("SQL database open", StringComparison.Ordinal));
    }
}
