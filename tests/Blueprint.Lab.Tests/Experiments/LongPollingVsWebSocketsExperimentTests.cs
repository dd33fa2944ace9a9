using System.Globalization;

using Blueprint.Lab.Experiments;

namespace Blueprint.Lab.Tests.Experiments;

/// <summary>
/// A quick run with the feed and its clients in the test process. Latency and CPU depend on the machine, so these tests
/// check what does not: every message reaches every client in order, a sparse feed costs long polling one poll per
/// message, keep-alive gives one connection per client, and a WebSocket client sends nothing while it receives.
/// </summary>
public sealed class LongPollingVsWebSocketsExperimentTests
{
    private static readonly Lazy<ExperimentResult> QuickRun = new(() =>
        new LongPollingVsWebSocketsExperiment().Run(new ExperimentOptions(LabCommand.DefaultSeed, Quick: true), new Progress<double>()));

    [Fact]
    public void QuickRun_Always_StatesEveryClaim()
    {
        Assert.Equal(
            ["all-delivered", "ws-fewer-bytes", "lp-one-poll-per-message", "lp-amortizes", "ws-lower-tail-latency", "ws-less-cpu", "lp-holds-connections", "sse-close-to-ws"],
            QuickRun.Value.Claims.Select(claim => claim.Id));
    }

    [Fact]
    public void QuickRun_EveryTransport_DeliversEverythingOnOneConnectionPerClient()
    {
        foreach (string id in new[] { "all-delivered", "lp-one-poll-per-message", "lp-holds-connections" })
        {
            Claim claim = QuickRun.Value.Claims.Single(claim => claim.Id == id);
            Assert.True(claim.Holds, $"{id}: {claim.Measured}");
        }

        ResultTable table = Assert.Single(QuickRun.Value.Tables);
        Assert.Equal(6, table.Rows.Count);
        Assert.All(table.Rows.Where(row => row[0] == "WebSocket"), row => Assert.Equal(0, Number(row[3])));
        Assert.All(table.Rows.Where(row => row[0] == "long polling"), row => Assert.True(Number(row[3]) > 0, "a poll is a request: bytes go up"));
    }

    private static double Number(string cell) => double.Parse(cell, NumberStyles.Number, CultureInfo.InvariantCulture);
}
