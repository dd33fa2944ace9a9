using System.CommandLine;
using System.Globalization;
using Blueprint.Simulation.Raft;

namespace Blueprint.Simulation;

/// <summary>
/// <c>blueprint sim raft [--seeds N] [--seed S] [--nodes 3|5] [--steps K]</c>: deterministic simulation of a Raft
/// cluster under faults. Exit 0 when no property failed, 1 when one did, 2 for a bad argument.
/// </summary>
public static class SimCommand
{
    private const int DefaultSeeds = 100;
    private const int SeedsMax = 1_000_000;
    private const int StepsMax = 1_000_000;
    private const int UsageErrorExitCode = 2;

    /// <summary>Creates the <c>sim</c> verb.</summary>
    public static Command Create()
    {
        Option<string?> seeds = new("--seeds") { Description = $"How many seeds to run, from seed 1 (default {DefaultSeeds})." };
        Option<string?> seed = new("--seed") { Description = "Run only this seed and print its trace: replays a failure exactly." };
        Option<string?> nodes = new("--nodes") { Description = "Cluster size, 3 or 5 (default: even seeds 3, odd seeds 5)." };
        Option<string?> steps = new("--steps") { Description = $"Steps per seed (default {RaftSimulationOptions.DefaultSteps})." };
        var raft = new Command("raft", "Simulate Raft clusters under delay, loss, duplication, partitions, crashes, clock skew and membership changes; check safety and liveness after every step.");
        raft.Options.Add(seeds);
        raft.Options.Add(seed);
        raft.Options.Add(nodes);
        raft.Options.Add(steps);
        raft.SetAction(parse =>
        {
            var stdout = parse.InvocationConfiguration.Output;
            var stderr = parse.InvocationConfiguration.Error;
            if (!TryParse(parse.GetValue(seeds), "--seeds", 1, SeedsMax, DefaultSeeds, stderr, out int seedCount)
                || !TryParse(parse.GetValue(steps), "--steps", 1, StepsMax, RaftSimulationOptions.DefaultSteps, stderr, out int stepCount)
                || !TryParse(parse.GetValue(nodes), "--nodes", 3, 5, 0, stderr, out int nodeCount))
            {
                return UsageErrorExitCode;
            }

            if (nodeCount is not (0 or 3 or 5))
            {
                stderr.WriteLine($"blueprint: --nodes must be 3 or 5, got '{nodeCount}'");
                return UsageErrorExitCode;
            }

            int? fixedNodes = nodeCount == 0 ? null : nodeCount;
            string? seedText = parse.GetValue(seed);
            if (seedText is not null)
            {
                if (!ulong.TryParse(seedText, NumberStyles.None, CultureInfo.InvariantCulture, out ulong single))
                {
                    stderr.WriteLine($"blueprint: --seed needs a non-negative integer, got '{seedText}'");
                    return UsageErrorExitCode;
                }

                return Replay(single, fixedNodes ?? RaftCampaign.NodesForSeed(single), stepCount, stdout);
            }

            var result = RaftCampaign.Run(seedCount, 1, fixedNodes, stepCount);
            foreach (var failure in result.Failures)
            {
                WriteFailure(failure, stdout, traceLines: 12);
            }

            stdout.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"sim raft: {result.SeedsRun} seeds ({(fixedNodes is null ? "3 and 5" : fixedNodes.ToString())} nodes, {stepCount} steps each), {result.Failures.Count} violations, {result.Steps} steps, {result.StepsPerSecond:F0} steps/s"));
            return result.Failures.Count == 0 ? 0 : 1;
        });

        var sim = new Command("sim", "Deterministic simulations of the pure cores.");
        sim.Subcommands.Add(raft);
        return sim;
    }

    private static int Replay(ulong seed, int nodes, int steps, TextWriter stdout)
    {
        var result = RaftSimulation.Run(new RaftSimulationOptions { Seed = seed, Nodes = nodes, Steps = steps });
        if (result.Violation is not null)
        {
            WriteFailure(result, stdout, traceLines: TraceRing.CapacityMax);
            return 1;
        }

        var stats = result.Stats;
        stdout.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"sim raft: seed {seed} ({nodes} nodes, {result.Steps} steps): no violation; {stats.LeadersElected} leaders, {stats.EntriesCommitted} entries committed, {stats.WritesAcknowledged} writes and {stats.ReadsChecked} reads checked, {stats.Crashes} crashes, {stats.Partitions} partitions, {stats.ConfigChanges} configuration changes, {stats.Transfers} transfers, {stats.SnapshotsInstalled} snapshots installed; trace hash {result.TraceHash:x16}"));
        return 0;
    }

    private static void WriteFailure(RaftSimulationResult failure, TextWriter stdout, int traceLines)
    {
        var violation = failure.Violation!;
        stdout.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"VIOLATION seed {failure.Seed} ({failure.Nodes} nodes) step {violation.Step}: {violation.Property}: {violation.Detail}"));
        stdout.WriteLine("  settings: " + failure.Stats.Settings);
        foreach (var line in failure.Trace.Skip(Math.Max(0, failure.Trace.Count - traceLines)))
        {
            stdout.WriteLine("  " + line);
        }

        foreach (var node in failure.NodeStates)
        {
            stdout.WriteLine("  " + node);
        }

        stdout.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  replay: blueprint sim raft --seed {failure.Seed} --nodes {failure.Nodes}"));
    }

    private static bool TryParse(string? text, string flag, int min, int max, int fallback, TextWriter stderr, out int value)
    {
        value = fallback;
        if (text is null)
        {
            return true;
        }

        if (int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out value) && value >= min && value <= max)
        {
            return true;
        }

        stderr.WriteLine($"blueprint: {flag} must be an integer from {min} to {max}, got '{text}'");
        return false;
    }
}
