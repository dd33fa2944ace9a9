using System.Globalization;

namespace Blueprint.Log.Tests.Kafka;

/// <summary>A test node running the log module, with its Kafka bootstrap address and helpers for kcat.</summary>
internal sealed class LogNode : IAsyncDisposable
{
    /// <summary>Settings every log test node gets: no initial rebalance delay, so groups form at once.</summary>
    public static readonly IReadOnlyDictionary<string, string?> Defaults = new Dictionary<string, string?>
    {
        ["Log:GroupInitialRebalanceDelayMs"] = "0",
    };

    private LogNode(TestNode node) => Node = node;

    public TestNode Node { get; }

    public int KafkaPort => Node.PortOf("Log:KafkaPort");

    public string Bootstrap => $"127.0.0.1:{KafkaPort.ToString(CultureInfo.InvariantCulture)}";

    public static async Task<LogNode> StartAsync(string? dataDir = null, IReadOnlyDictionary<string, string?>? settings = null)
    {
        var merged = new Dictionary<string, string?>(Defaults);
        foreach (var (key, value) in settings ?? new Dictionary<string, string?>())
        {
            merged[key] = value;
        }

        return new LogNode(await TestNode.StartAsync(dataDir, merged, TestContext.Current.CancellationToken));
    }

    /// <summary>Runs kcat against this node and returns its standard output; fails the test on a non-zero exit.</summary>
    public async Task<string> KcatAsync(string? input, params string[] arguments)
    {
        var kcat = Peers.Require("kcat", "kcat");
        await using var process = ProcessRunner.Start(kcat, ["-b", Bootstrap, .. arguments]);
        if (input is not null)
        {
            await process.WriteStandardInputAsync(input);
        }

        var exit = await process.WaitForExitAsync(TimeSpan.FromSeconds(60));
        Assert.True(exit == 0, $"kcat {string.Join(' ', arguments)} exited {exit}; stderr:\n{process.StandardError}");
        return process.StandardOutput;
    }

    public ValueTask DisposeAsync() => Node.DisposeAsync();
}
