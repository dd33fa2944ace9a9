using System.Globalization;

using Blueprint.Lab.Experiments;
using Blueprint.Testing;

namespace Blueprint.Lab.Tests.Experiments;

/// <summary>
/// A quick run against a real node process and a real RabbitMQ (skipped when rabbitmq-server is not installed, a
/// failure when BLUEPRINT_REQUIRE_PEERS=1). It checks the counts that follow from the two models, not the speeds.
/// </summary>
public sealed class QueueVsLogExperimentTests
{
    private static readonly Lazy<ExperimentResult> QuickRun = new(() =>
        new QueueVsLogExperiment().Run(new ExperimentOptions(LabCommand.DefaultSeed, Quick: true), new Progress<double>()));

    [Fact]
    public void QuickRun_Always_StatesEveryClaim()
    {
        Assert.Equal(["replay", "fan-out", "order-per-key", "throughput"], Run().Claims.Select(claim => claim.Id));
    }

    [Fact]
    public void QuickRun_Replay_FindsTheLogFullAndTheQueueEmpty()
    {
        Claim replay = Run().Claims.Single(claim => claim.Id == "replay");
        Assert.True(replay.Holds, replay.Measured);
        Assert.Contains("new group 1,000", replay.Measured, StringComparison.Ordinal);
        Assert.Contains("left in the queue 0, new consumer 0", replay.Measured, StringComparison.Ordinal);
    }

    [Fact]
    public void QuickRun_FanOut_OneCopyInTheLogNCopiesInTheQueues()
    {
        ResultTable fanOut = Table("Fan-out");
        Assert.Equal(["1", "3"], fanOut.Rows.Select(row => row[0]));
        Assert.Single(fanOut.Rows.Select(row => row[1]).Distinct()); // the topic's bytes do not grow with the groups
        Assert.All(fanOut.Rows, row =>
        {
            long groups = Number(row[0]);
            Assert.Equal(1_000, Number(row[2]));
            Assert.Equal(groups * 1_000, Number(row[3]));
            Assert.Equal(groups * 1_000 * 1_024, Number(row[4]));
            Assert.Equal(1_000, Number(row[6]));
        });
    }

    [Fact]
    public void QuickRun_Ordering_LogKeepsKeyOrderRequeuedQueueDoesNot()
    {
        ResultTable ordering = Table("Per-key order");
        IReadOnlyList<string> log = ordering.Rows[0], requeued = ordering.Rows[2];
        Assert.Equal([2_000, 0, 0], log.Skip(1).Select(Number));

        // A requeued message goes back behind the deliveries its consumer already holds (prefetch 50, 8 keys), later
        // records of its key among them: the protocol, not timing, makes some late.
        Assert.Equal(2_000, Number(requeued[1]));
        Assert.True(Number(requeued[2]) > 0, $"late records with requeues: {requeued[2]}");
    }

    private static ExperimentResult Run()
    {
        _ = Peers.Require("rabbitmq-server", "rabbitmq-server");
        return QuickRun.Value;
    }

    private static ResultTable Table(string titleStart) =>
        Run().Tables.Single(table => table.Title.StartsWith(titleStart, StringComparison.Ordinal));

    private static long Number(string cell) => long.Parse(cell, NumberStyles.AllowThousands, CultureInfo.InvariantCulture);
}
