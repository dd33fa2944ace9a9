using Blueprint.Core.Raft;
using Blueprint.Simulation.Raft;

namespace Blueprint.Raft.Tests.Simulation;

/// <summary>
/// Proof that the simulator can fail: each classic bug, switched on in every node, is caught within the default seed
/// budget. A bug that slips through fails the build.
/// </summary>
public sealed class BugDetectionTests(ITestOutputHelper output)
{
    /// <summary>Seeds each bug gets; the campaign stops at the first one that catches it.</summary>
    public const int SeedBudget = 500;

    public static TheoryData<string> Bugs() => new(Enum.GetNames<RaftBugs>().Where(n => n != nameof(RaftBugs.None)));

    [Theory]
    [MemberData(nameof(Bugs))]
    public void Simulator_BugSwitchedOn_CatchesItWithinSeedBudget(string bug)
    {
        var flag = Enum.Parse<RaftBugs>(bug);
        var result = RaftCampaign.Run(SeedBudget, 1, nodes: null, RaftSimulationOptions.DefaultSteps, flag, stopAtFirstFailure: true);
        var failure = Assert.Single(result.Failures);
        output.WriteLine($"{bug}: caught by seed {failure.Seed} ({failure.Nodes} nodes) at step {failure.Violation!.Step} after {result.SeedsRun} seeds: {failure.Violation.Property}: {failure.Violation.Detail}");
    }
}

/// <summary>How many seeds of a longer campaign catch each bug (BLUEPRINT_LONG_TESTS=1), for the notes.</summary>
public sealed class BugCatchRateTests(ITestOutputHelper output)
{
    [Fact]
    [Trait("Category", "Long")]
    public void Campaign_EachBug_CaughtByManySeeds()
    {
        Assert.SkipUnless(Environment.GetEnvironmentVariable("BLUEPRINT_LONG_TESTS") == "1", "set BLUEPRINT_LONG_TESTS=1 to run");
        int seeds = int.TryParse(Environment.GetEnvironmentVariable("BLUEPRINT_BUG_SEEDS"), out int n) ? n : 500;
        var missed = new List<RaftBugs>();
        string? only = Environment.GetEnvironmentVariable("BLUEPRINT_BUG");
        foreach (var bug in Enum.GetValues<RaftBugs>().Where(b => b != RaftBugs.None && (only is null || b.ToString() == only)))
        {
            var result = RaftCampaign.Run(seeds, 1, nodes: null, RaftSimulationOptions.DefaultSteps, bug, stopAtFirstFailure: false);
            var properties = result.Failures.GroupBy(f => f.Violation!.Property).Select(g => $"{g.Key} {g.Count()}");
            output.WriteLine($"{bug}: caught by {result.Failures.Count} of {seeds} seeds; first seed {(result.Failures.Count > 0 ? result.Failures[0].Seed : 0)}; {string.Join(", ", properties)}");
            if (result.Failures.Count == 0)
            {
                missed.Add(bug);
            }
        }

        Assert.Empty(missed);
    }
}
