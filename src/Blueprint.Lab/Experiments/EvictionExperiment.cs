using Blueprint.Lab.Experiments.Eviction;

namespace Blueprint.Lab.Experiments;

/// <summary>
/// Hit ratio of cache eviction policies at several cache sizes: exact LRU, FIFO, LFU and expiry-only TTL simulators
/// (the subject, in <c>Experiments/Eviction</c>) beside BitFaster.Caching's W-TinyLFU and 2Q-like pseudo-LRU, on
/// Zipf traces of four skews, the same Zipf accesses with one-time scans mixed in, and a loop a little larger than
/// the cache. Every trace is seeded and every policy runs on one thread in trace order, so a seed gives one answer.
/// </summary>
public sealed partial class EvictionExperiment : IExperiment
{
    /// <summary>Cache sizes as fractions of the distinct recurring keys.</summary>
    internal static readonly double[] SizeFractions = [0.001, 0.01, 0.05, 0.1];

    /// <summary>Zipf skews: 0.6 is a flat web-like tail, 1.2 a few very hot keys.</summary>
    internal static readonly double[] Skews = [0.6, 0.8, 1.0, 1.2];

    /// <summary>The policies in table order.</summary>
    internal static readonly string[] Policies = ["LRU", "FIFO", "LFU", "TTL", "W-TinyLFU", "ConcurrentLru"];

    /// <summary>The TTL sweep, as multiples of the TTL that gives the expiry-only cache the cache size's mean memory.</summary>
    internal static readonly double[] TtlSweepFactors = [0.125, 0.25, 0.5, 1, 2, 4, 8];

    /// <summary>The skew of the Zipf accesses the scans are mixed into.</summary>
    internal const double ScanSkew = 1.0;

    /// <summary>The share of all accesses that belong to scans.</summary>
    internal const double ScanShare = 0.25;

    /// <summary>The loop trace cycles over this many times the cache size (at least one key more).</summary>
    internal const double LoopOverCache = 1.1;

    /// <summary>Each trace has this many accesses per distinct recurring key.</summary>
    internal const int AccessesPerKey = 10;

    /// <summary>BitFaster's caches need at least three entries.</summary>
    private const int CapacityMin = 3;

    /// <summary>The size index (1% of the keys) of the TTL sweep.</summary>
    private const int TtlSweepSizeIndex = 1;

    /// <inheritdoc/>
    public string Name => "eviction";

    /// <inheritdoc/>
    public string Description => "Hit ratio of LRU, FIFO, LFU, TTL, W-TinyLFU and a 2Q-like pseudo-LRU at 0.1–10% of the keys, on Zipf, scan-polluted and loop traces.";

    /// <inheritdoc/>
    public ExperimentResult Run(ExperimentOptions options, IProgress<double> progress)
    {
        ArgumentNullException.ThrowIfNull(options);
        int keyCount = options.Quick ? 10_000 : 50_000;
        int length = keyCount * AccessesPerKey;
        int[] capacities = [.. SizeFractions.Select(f => Math.Max(CapacityMin, (int)Math.Round(keyCount * f)))];
        int traceCount = Skews.Length + 2;
        ProgressSteps steps = new(progress, 1 + (traceCount * capacities.Length) + TtlSweepFactors.Length);

        IReadOnlyList<string> checkFailures = PolicyChecks.Failures();
        steps.Step();

        AccessTrace[] zipf = [.. Skews.Select((skew, i) => new AccessTrace($"zipf s={Fmt.Num(skew, 1)}", AccessTraces.Zipf(keyCount, skew, length, new Random(options.Seed + i)), keyCount))];
        List<TraceResult> traces = [];
        for (int i = 0; i < Skews.Length; i++)
        {
            AccessTrace trace = zipf[i];
            traces.Add(Measure(trace.Name, $"Zipf, s = {Fmt.Num(Skews[i], 1)}", _ => trace, capacities, steps));
        }

        int scanBaseIndex = Array.IndexOf(Skews, ScanSkew);
        int scanLength = capacities[^1];
        AccessTrace scans = new("zipf+scans", AccessTraces.WithScans(zipf[scanBaseIndex].Keys, keyCount, scanLength, ScanShare, new Random(options.Seed + Skews.Length)), keyCount);
        traces.Add(Measure(scans.Name, $"the {zipf[scanBaseIndex].Name} accesses with scans of {Fmt.Int(scanLength)} one-time keys mixed in ({Fmt.Pct(ScanShare, 0)} of {Fmt.Int(scans.Keys.Length)} accesses)", _ => scans, capacities, steps));

        traces.Add(Measure("loop", $"keys 0…L−1 cycled, L = ⌈{Fmt.Num(LoopOverCache, 1)} × cache size⌉", capacity => LoopTrace(capacity, length), capacities, steps));

        long fairTtl = traces[scanBaseIndex].FairTtls[TtlSweepSizeIndex];
        List<TtlPoint> sweep = [];
        foreach (double factor in TtlSweepFactors)
        {
            long ttl = Math.Max(1, (long)Math.Round(fairTtl * factor));
            (ReplayResult result, double mean, int peak) = Replay.Ttl(zipf[scanBaseIndex], ttl);
            sweep.Add(new(factor, ttl, result.HitRatio, mean, peak));
            steps.Step();
        }

        return Report(options, keyCount, length, capacities, checkFailures, traces, sweep);
    }

    /// <summary>Creates the named policy at <paramref name="capacity"/>; TTL is not here, it needs a TTL rather than a size.</summary>
    internal static IEvictionPolicy Create(string policy, int capacity) => policy switch
    {
        "LRU" => QueuePolicy.Lru(capacity),
        "FIFO" => QueuePolicy.Fifo(capacity),
        "LFU" => new LfuPolicy(capacity),
        "W-TinyLFU" => new WTinyLfuPolicy(capacity),
        "ConcurrentLru" => new PseudoLruPolicy(capacity),
        _ => throw new ArgumentOutOfRangeException(nameof(policy), policy, "no such bounded policy"),
    };

    private static AccessTrace LoopTrace(int capacity, int length)
    {
        int loopLength = Math.Max(capacity + 1, (int)Math.Ceiling(capacity * LoopOverCache));
        return new($"loop {loopLength}", AccessTraces.Loop(loopLength, length), loopLength);
    }

    private static TraceResult Measure(string name, string description, Func<int, AccessTrace> traceFor, int[] capacities, ProgressSteps steps)
    {
        Dictionary<string, ReplayResult[]> results = Policies.ToDictionary(p => p, _ => new ReplayResult[capacities.Length]);
        long[] fairTtls = new long[capacities.Length];
        int[] ttlPeaks = new int[capacities.Length];
        // Sizes run in parallel: each writes only its own slots, and every policy replays the trace on one thread in
        // trace order, so the results do not depend on the scheduling.
        Lock progressGate = new();
        _ = Parallel.For(0, capacities.Length, s =>
        {
            AccessTrace trace = traceFor(capacities[s]);
            foreach (string policy in Policies)
            {
                if (policy == "TTL")
                {
                    fairTtls[s] = Replay.FairTtl(trace, capacities[s]);
                    (results[policy][s], _, ttlPeaks[s]) = Replay.Ttl(trace, fairTtls[s]);
                }
                else
                {
                    results[policy][s] = Replay.Run(Create(policy, capacities[s]), trace);
                }
            }

            lock (progressGate)
            {
                steps.Step();
            }
        });

        return new(name, description, results, fairTtls, ttlPeaks);
    }

    /// <summary>Every policy's result on one trace, by policy then by cache size.</summary>
    private sealed record TraceResult(string Name, string Description, Dictionary<string, ReplayResult[]> Results, long[] FairTtls, int[] TtlPeaks)
    {
        public double Hit(string policy, int size) => Results[policy][size].HitRatio;
    }

    /// <summary>One TTL of the sweep and what the expiry-only cache scored with it.</summary>
    private sealed record TtlPoint(double Factor, long Ttl, double HitRatio, double MeanResident, int PeakResident);
}
