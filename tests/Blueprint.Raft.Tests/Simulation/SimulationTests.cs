using Blueprint.Core.Raft;
using Blueprint.Simulation.Raft;

namespace Blueprint.Raft.Tests.Simulation;

/// <summary>The simulator on the correct core: seeds pass, and a seed replays exactly.</summary>
public sealed class SimulationTests(ITestOutputHelper output)
{
    /// <summary>Seeds per cluster size in the default test run; the CLI and the long campaign run more.</summary>
    public const int SeedsPerSize = 200;

    [Theory]
    [InlineData(3)]
    [InlineData(5)]
    public void Simulation_CorrectCore_NoViolationOverSeeds(int nodes)
    {
        var result = RaftCampaign.Run(SeedsPerSize, 1, nodes, RaftSimulationOptions.DefaultSteps);
        foreach (var failure in result.Failures)
        {
            output.WriteLine($"seed {failure.Seed}: {failure.Violation}\n{string.Join('\n', failure.Trace)}");
        }

        Assert.Empty(result.Failures);
        output.WriteLine($"{result.SeedsRun} seeds, {result.Steps} steps, {result.StepsPerSecond:F0} steps/s");
    }

    [Fact]
    public void Simulation_Run_ExercisesEveryFaultAndClient()
    {
        var totals = new RaftSimulationStats();
        for (ulong seed = 1; seed <= 10; seed++)
        {
            var stats = RaftSimulation.Run(new RaftSimulationOptions { Seed = seed, Nodes = RaftCampaign.NodesForSeed(seed) }).Stats;
            totals.Crashes += stats.Crashes;
            totals.Partitions += stats.Partitions;
            totals.ConfigChanges += stats.ConfigChanges;
            totals.Transfers += stats.Transfers;
            totals.SnapshotsInstalled += stats.SnapshotsInstalled;
            totals.ReadsChecked += stats.ReadsChecked;
            totals.WritesAcknowledged += stats.WritesAcknowledged;
            totals.LivenessWindows += stats.LivenessWindows;
        }

        Assert.True(totals.Crashes > 0 && totals.Partitions > 0 && totals.ConfigChanges > 0 && totals.Transfers > 0);
        Assert.True(totals.SnapshotsInstalled > 0 && totals.ReadsChecked > 0 && totals.WritesAcknowledged > 0 && totals.LivenessWindows > 0);
    }

    [Fact]
    public void Simulation_SameSeed_IdenticalTrace()
    {
        var first = RaftSimulation.Run(new RaftSimulationOptions { Seed = 4242, Nodes = 5 });
        var second = RaftSimulation.Run(new RaftSimulationOptions { Seed = 4242, Nodes = 5 });
        var other = RaftSimulation.Run(new RaftSimulationOptions { Seed = 4243, Nodes = 5 });
        Assert.Equal(first.TraceHash, second.TraceHash);
        Assert.Equal(first.Trace, second.Trace);
        Assert.Equal(first.Stats.MessagesDelivered, second.Stats.MessagesDelivered);
        Assert.NotEqual(first.TraceHash, other.TraceHash);
    }

    [Fact]
    public void Simulation_FailingSeed_ReplaysToSameViolation()
    {
        var campaign = RaftCampaign.Run(BugDetectionTests.SeedBudget, 1, null, RaftSimulationOptions.DefaultSteps, RaftBugs.VoteWithoutLogCheck, stopAtFirstFailure: true);
        var failure = Assert.Single(campaign.Failures);
        var replay = RaftSimulation.Run(new RaftSimulationOptions { Seed = failure.Seed, Nodes = failure.Nodes, Bugs = RaftBugs.VoteWithoutLogCheck });
        Assert.Equal(failure.Violation, replay.Violation);
        Assert.Equal(failure.TraceHash, replay.TraceHash);
        Assert.Contains(replay.Trace, line => line.Contains("VIOLATION", StringComparison.Ordinal));
    }

    [Fact]
    [Trait("Category", "Long")]
    public void Simulation_LongCampaign_NoViolation()
    {
        Assert.SkipUnless(Environment.GetEnvironmentVariable("BLUEPRINT_LONG_TESTS") == "1", "set BLUEPRINT_LONG_TESTS=1 to run");
        var result = RaftCampaign.Run(5000, 100_000, null, 4 * RaftSimulationOptions.DefaultSteps);
        output.WriteLine($"{result.SeedsRun} seeds, {result.Steps} steps, {result.StepsPerSecond:F0} steps/s");
        foreach (var failure in result.Failures)
        {
            output.WriteLine($"seed {failure.Seed} ({failure.Nodes} nodes): {failure.Violation}\n  {failure.Stats.Settings}\n  {string.Join("\n  ", failure.Trace.TakeLast(16).Concat(failure.NodeStates))}");
        }

        Assert.Empty(result.Failures);
    }
}
