using System.Diagnostics;
using Blueprint.Core.Raft;

namespace Blueprint.Simulation.Raft;

/// <summary>What a campaign of seeds found.</summary>
/// <param name="SeedsRun">Seeds run.</param>
/// <param name="Failures">The runs with a violation, in seed order.</param>
/// <param name="Steps">Steps simulated in total.</param>
/// <param name="Elapsed">Wall time of the campaign (a measurement only; nothing depends on it).</param>
public sealed record RaftCampaignResult(int SeedsRun, IReadOnlyList<RaftSimulationResult> Failures, long Steps, TimeSpan Elapsed)
{
    /// <summary>Simulated steps per second of wall time.</summary>
    public double StepsPerSecond => Elapsed.TotalSeconds > 0 ? Steps / Elapsed.TotalSeconds : 0;
}

/// <summary>Runs many seeds of <see cref="RaftSimulation"/>.</summary>
public static class RaftCampaign
{
    /// <summary>The cluster size for <paramref name="seed"/> when none is fixed: 3 for even seeds, 5 for odd ones.</summary>
    /// <param name="seed">The seed.</param>
    /// <returns>3 or 5.</returns>
    public static int NodesForSeed(ulong seed) => seed % 2 == 0 ? 3 : 5;

    /// <summary>Runs seeds <paramref name="firstSeed"/> to <paramref name="firstSeed"/> + <paramref name="seeds"/> - 1.</summary>
    /// <param name="seeds">How many seeds.</param>
    /// <param name="firstSeed">The first seed.</param>
    /// <param name="nodes">3 or 5, or null for a mix.</param>
    /// <param name="steps">Steps per seed.</param>
    /// <param name="stopAtFirstFailure">Stop at the first violation.</param>
    /// <returns>The failures and totals.</returns>
    public static RaftCampaignResult Run(int seeds, ulong firstSeed, int? nodes, int steps, bool stopAtFirstFailure = false) =>
        Run(seeds, firstSeed, nodes, steps, RaftBugs.None, stopAtFirstFailure);

    internal static RaftCampaignResult Run(int seeds, ulong firstSeed, int? nodes, int steps, RaftBugs bugs, bool stopAtFirstFailure)
    {
        var failures = new List<RaftSimulationResult>();
        long totalSteps = 0;
        int run = 0;
        var clock = Stopwatch.StartNew();
        for (ulong seed = firstSeed; run < seeds; seed++)
        {
            run++;
            var result = RaftSimulation.Run(new RaftSimulationOptions { Seed = seed, Nodes = nodes ?? NodesForSeed(seed), Steps = steps, Bugs = bugs });
            totalSteps += result.Steps;
            if (result.Violation is not null)
            {
                failures.Add(result);
                if (stopAtFirstFailure)
                {
                    break;
                }
            }
        }

        return new RaftCampaignResult(run, failures, totalSteps, clock.Elapsed);
    }
}
