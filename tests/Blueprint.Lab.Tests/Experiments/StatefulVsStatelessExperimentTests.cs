using System.Globalization;

using Blueprint.Lab.Experiments;

namespace Blueprint.Lab.Tests.Experiments;

/// <summary>
/// A quick run against a real kv node process. Latency depends on the machine, so these tests check what does not:
/// sticky sessions in memory lose exactly the stopped node's users, sessions in the shared KV lose none, and both modes
/// fail over.
/// </summary>
public sealed class StatefulVsStatelessExperimentTests
{
    private static readonly Lazy<ExperimentResult> QuickRun = new(() =>
        new StatefulVsStatelessExperiment().Run(new ExperimentOptions(LabCommand.DefaultSeed, Quick: true), new Progress<double>()));

    [Fact]
    public void QuickRun_Always_StatesEveryClaim()
    {
        Assert.Equal(
            ["sticky-loses-the-dead-nodes-sessions", "shared-state-loses-none", "both-fail-over", "shared-state-costs-a-round-trip"],
            QuickRun.Value.Claims.Select(claim => claim.Id));
    }

    [Fact]
    public void QuickRun_OnlySessionsInTheDeadNodesMemory_AreLost()
    {
        foreach (string id in new[] { "sticky-loses-the-dead-nodes-sessions", "shared-state-loses-none", "both-fail-over" })
        {
            Claim claim = QuickRun.Value.Claims.Single(claim => claim.Id == id);
            Assert.True(claim.Holds, $"{id}: {claim.Measured}");
        }

        ResultTable table = Assert.Single(QuickRun.Value.Tables);
        IReadOnlyList<string> sticky = table.Rows.Single(row => row[1] == "sticky");
        IReadOnlyList<string> shared = table.Rows.Single(row => row[1] == "round robin");
        Assert.Equal(20, Number(sticky[2])); // 60 users, every third pinned to the stopped node
        Assert.InRange(Number(sticky[3]), 16, 20);
        Assert.Equal(0, Number(shared[3]));
    }

    private static double Number(string cell) => double.Parse(cell, NumberStyles.Number, CultureInfo.InvariantCulture);
}
