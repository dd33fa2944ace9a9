using BitFaster.Caching.Lfu;

namespace Blueprint.Lab.Experiments;

/// <summary>The eviction experiment's claims, tables and plot.</summary>
public sealed partial class EvictionExperiment
{
    /// <summary>How much of its hit ratio on the recurring accesses a scan-resistant policy may lose to scans.</summary>
    private const double ScanLossRelativeMax = 0.05;

    /// <summary>How far below the best policy in a cell W-TinyLFU may fall and still be "near the best".</summary>
    private const double NearBestPointsMax = 0.03;

    /// <summary>How far below exact LRU the pseudo-LRU may fall on a Zipf trace.</summary>
    private const double PseudoLruPointsMax = 0.02;

    /// <summary>The hit ratio W-TinyLFU must keep on the loop trace.</summary>
    private const double LoopHitRatioMin = 0.5;

    private static ExperimentResult Report(
        ExperimentOptions options,
        int keyCount,
        int length,
        int[] capacities,
        IReadOnlyList<string> checkFailures,
        List<TraceResult> traces,
        List<TtlPoint> sweep)
    {
        TraceResult[] zipf = [.. traces.Take(Skews.Length)];
        TraceResult scanBase = zipf[Array.IndexOf(Skews, ScanSkew)];
        TraceResult scans = traces[Skews.Length];
        TraceResult loop = traces[Skews.Length + 1];
        int[] sizes = [.. Enumerable.Range(0, capacities.Length)];
        string[] sizeLabels = [.. sizes.Select(s => $"{Fmt.Pct(SizeFractions[s], SizeFractions[s] < 0.01 ? 1 : 0)} ({Fmt.Int(capacities[s])})")];

        List<Claim> claims =
        [
            new("simulators-checked", "The exact LRU, FIFO, LFU and TTL simulators score hand-computed sequences exactly.",
                "every check passes: LRU ≠ FIFO on A B A C A, LFU keeps a hot key through a scan, LRU and FIFO hit nothing on a loop, TTL expires regardless of reads",
                checkFailures.Count == 0 ? "all 7 checks pass" : string.Join("; ", checkFailures),
                checkFailures.Count == 0),
            Compare("lru-beats-fifo-on-skew", "LRU beats FIFO when recently used keys are used again (skewed popularity).",
                "LRU ≥ FIFO at every size on every Zipf trace", zipf, sizes, "LRU", "FIFO", 0),
            Compare("lfu-beats-lru-on-stable-popularity", "LFU beats LRU when popularity is stable.",
                "LFU ≥ LRU at every size on every Zipf trace (independent draws: popularity never shifts)", zipf, sizes, "LFU", "LRU", 0),
            ScanClaim(scanBase, scans, sizes, sizeLabels),
            ScanResistance(scanBase, scans, sizes, sizeLabels),
            LoopClaim(loop, sizes, sizeLabels),
            NearBest(traces, sizes, sizeLabels),
            TtlSweepClaim(sweep, capacities[TtlSweepSizeIndex], sizeLabels[TtlSweepSizeIndex]),
            Compare("ttl-below-lru-at-equal-memory", "Expiry is a freshness tool, not an eviction policy: at the same memory a TTL cache hits less than LRU.",
                "TTL (its TTL chosen so its mean resident keys equal the cache size) ≤ LRU at every size on every Zipf trace", zipf, sizes, "LRU", "TTL", 0),
            PseudoLruClaim(zipf, scans, sizes),
        ];

        List<ResultTable> tables = [.. traces.Select(t => HitTable(t, sizes, sizeLabels))];
        tables.Add(ScanTable(scanBase, scans, sizes, sizeLabels));
        tables.Add(new ResultTable("TTL at the mean memory of each cache size: the TTL in accesses, and the most keys it held at once",
            ["trace", .. sizeLabels],
            [.. traces.Select(t => (IReadOnlyList<string>)[t.Name, .. sizes.Select(s => $"TTL {Fmt.Int(t.FairTtls[s])}, peak {Fmt.Int(t.TtlPeaks[s])}")])]));
        tables.Add(new ResultTable($"TTL sweep on {scanBase.Name} (LRU with {Fmt.Int(capacities[TtlSweepSizeIndex])} keys: {Fmt.Pct(scanBase.Hit("LRU", TtlSweepSizeIndex), 1)})",
            ["TTL (accesses)", "× equal-memory TTL", "hit ratio", "mean resident keys", "peak resident keys"],
            [.. sweep.Select(p => (IReadOnlyList<string>)[Fmt.Int(p.Ttl), Fmt.Num(p.Factor, 3), Fmt.Pct(p.HitRatio, 1), Fmt.Int((long)Math.Round(p.MeanResident)), Fmt.Int(p.PeakResident)])]));

        double[] xs = [.. sizes.Select(s => Math.Log10(SizeFractions[s] * 100))];
        // Miss ratio rather than hit ratio, as cache papers draw it: the curves fall to the right, clear of the legend.
        PlotSpec plot = new($"Miss ratio vs cache size, Zipf s={Fmt.Num(ScanSkew, 1)} with one-time scans ({Fmt.Pct(ScanShare, 0)} of accesses)", "log10(cache size, % of distinct keys)", "miss ratio (%)",
            [.. Policies.Select(p => new PlotSeries(p, xs, [.. sizes.Select(s => (1 - scans.Hit(p, s)) * 100)], Markers: true))]);

        string version = typeof(ConcurrentLfu<,>).Assembly.GetName().Version?.ToString(3) ?? "?";
        string summary =
            $"{Fmt.Int(keyCount)} distinct keys, {Fmt.Int(length)} accesses per Zipf and loop trace, cache sizes {string.Join(", ", sizeLabels)}. " +
            "LRU, FIFO, LFU (in-cache counts, LRU among equals, no aging) and TTL are exact simulators; TTL has no size bound and expires a key a fixed number of accesses after it was admitted, " +
            "that number chosen per trace and size so its mean resident keys (second half of the trace) equal the cache size. " +
            $"W-TinyLFU is BitFaster.Caching {version} ConcurrentLfu, maintained after every access; ConcurrentLru is its 2Q-like pseudo-LRU. " +
            "Hit ratios count every access, the cold start included. " +
            "No real trace: no public cache trace (ARC, LIRS, Wikibench, CloudPhysics) ships in a NuGet, Debian or npm package reachable here, so every trace is synthetic. " +
            $"Seed {options.Seed}{(options.Quick ? ", quick mode" : string.Empty)}.";
        return new ExperimentResult("eviction", summary, claims, tables, plot);
    }

    private static Claim Compare(string id, string statement, string expected, TraceResult[] traces, int[] sizes, string better, string worse, double slack)
    {
        double[] gaps = [.. traces.SelectMany(t => sizes.Select(s => t.Hit(better, s) - t.Hit(worse, s)))];
        (TraceResult Trace, int Size) worst = traces.SelectMany(t => sizes.Select(s => (t, s))).MinBy(c => c.t.Hit(better, c.s) - c.t.Hit(worse, c.s));
        return new(id, statement, expected,
            $"{better} − {worse} from {Points(gaps.Min())} to {Points(gaps.Max())} over {gaps.Length} cells; smallest on {worst.Trace.Name} at {Fmt.Pct(SizeFractions[worst.Size], 1)}",
            gaps.All(g => g >= -slack));
    }

    private static Claim ScanClaim(TraceResult scanBase, TraceResult scans, int[] sizes, string[] sizeLabels)
    {
        double[] lru = [.. sizes.Select(s => ScanLoss(scanBase, scans, "LRU", s))];
        double[] lfu = [.. sizes.Select(s => ScanLoss(scanBase, scans, "LFU", s))];
        return new("scan-flushes-lru", "A one-time scan flushes an LRU cache; LFU keeps its hot keys.",
            $"on the same Zipf accesses, scans cost LRU more of its hit ratio than LFU at every size, and LFU ≤ {Fmt.Pct(ScanLossRelativeMax, 0)} (relative)",
            $"relative change LRU / LFU: {string.Join(", ", sizes.Select(s => $"{sizeLabels[s]} {Signed(-lru[s])} / {Signed(-lfu[s])}"))}",
            sizes.All(s => lru[s] > lfu[s] && lfu[s] <= ScanLossRelativeMax));
    }

    private static Claim ScanResistance(TraceResult scanBase, TraceResult scans, int[] sizes, string[] sizeLabels)
    {
        double[] loss = [.. sizes.Select(s => ScanLoss(scanBase, scans, "W-TinyLFU", s))];
        return new("wtinylfu-scan-resistant", "W-TinyLFU is scan-resistant: its admission filter keeps one-time keys from displacing frequent ones.",
            $"scans cost W-TinyLFU ≤ {Fmt.Pct(ScanLossRelativeMax, 0)} of its hit ratio on the Zipf accesses (relative), and W-TinyLFU ≥ LRU on the scan trace, at every size",
            $"relative change {string.Join(", ", sizes.Select(s => $"{sizeLabels[s]} {Signed(-loss[s])}"))}; W-TinyLFU vs LRU {string.Join(", ", sizes.Select(s => $"{Fmt.Pct(scans.Hit("W-TinyLFU", s), 1)} vs {Fmt.Pct(scans.Hit("LRU", s), 1)}"))}",
            sizes.All(s => loss[s] <= ScanLossRelativeMax && scans.Hit("W-TinyLFU", s) >= scans.Hit("LRU", s)));
    }

    private static Claim LoopClaim(TraceResult loop, int[] sizes, string[] sizeLabels) =>
        new("loop-defeats-lru", "On a loop slightly larger than the cache, LRU (and FIFO) always evict the key needed next; a frequency filter keeps most of the loop.",
            $"LRU = FIFO = 0 hits exactly at every size; W-TinyLFU ≥ {Fmt.Pct(LoopHitRatioMin, 0)}",
            $"LRU {string.Join(", ", sizes.Select(s => Fmt.Pct(loop.Hit("LRU", s), 1)))}; FIFO {string.Join(", ", sizes.Select(s => Fmt.Pct(loop.Hit("FIFO", s), 1)))}; W-TinyLFU {string.Join(", ", sizes.Select(s => $"{sizeLabels[s]} {Fmt.Pct(loop.Hit("W-TinyLFU", s), 1)}"))}",
            sizes.All(s => loop.Hit("LRU", s) == 0 && loop.Hit("FIFO", s) == 0 && loop.Hit("W-TinyLFU", s) >= LoopHitRatioMin));

    private static Claim NearBest(List<TraceResult> traces, int[] sizes, string[] sizeLabels)
    {
        (TraceResult Trace, int Size, string Best, double Gap)[] cells =
            [.. traces.SelectMany(t => sizes.Select(s =>
            {
                string best = Policies.MaxBy(p => t.Hit(p, s))!;
                return (t, s, best, t.Hit(best, s) - t.Hit("W-TinyLFU", s));
            }))];
        (TraceResult trace, int size, string best, double gap) = cells.MaxBy(c => c.Gap);
        int behind = cells.Count(c => c.Gap > NearBestPointsMax);
        return new("wtinylfu-near-best", "W-TinyLFU is at or near the best of these policies on every workload.",
            $"within {Fmt.Num(NearBestPointsMax * 100, 1)} pts of the best policy in every cell ({cells.Length} cells)",
            $"{cells.Count(c => c.Gap <= 0)} cells best, {behind} more than {Fmt.Num(NearBestPointsMax * 100, 1)} pts behind; worst {Points(-gap)} vs {best} on {trace.Name} at {sizeLabels[size]}",
            behind == 0);
    }

    private static Claim TtlSweepClaim(List<TtlPoint> sweep, int capacity, string sizeLabel)
    {
        bool hitsRise = sweep.Zip(sweep.Skip(1)).All(p => p.Second.HitRatio > p.First.HitRatio);
        bool memoryRises = sweep.Zip(sweep.Skip(1)).All(p => p.Second.MeanResident > p.First.MeanResident);
        return new("ttl-sets-hits-and-memory", "A TTL cache's hit ratio is set by its TTL, not by use: a longer TTL buys hits with memory.",
            $"over TTLs from {Fmt.Int(sweep[0].Ttl)} to {Fmt.Int(sweep[^1].Ttl)} accesses, hit ratio and mean resident keys both rise at every step (cache size for comparison: {sizeLabel})",
            $"hit ratio {string.Join(" → ", sweep.Select(p => Fmt.Pct(p.HitRatio, 1)))}; mean resident keys {string.Join(" → ", sweep.Select(p => Fmt.Int((long)Math.Round(p.MeanResident))))} (vs {Fmt.Int(capacity)})",
            hitsRise && memoryRises);
    }

    private static Claim PseudoLruClaim(TraceResult[] zipf, TraceResult scans, int[] sizes)
    {
        double[] zipfGaps = [.. zipf.SelectMany(t => sizes.Select(s => t.Hit("ConcurrentLru", s) - t.Hit("LRU", s)))];
        double[] scanGaps = [.. sizes.Select(s => scans.Hit("ConcurrentLru", s) - scans.Hit("LRU", s))];
        return new("pseudo-lru-tracks-lru", "BitFaster's ConcurrentLru, a lock-free 2Q-like pseudo-LRU, does at least as well as the exact LRU it stands in for, and resists scans better.",
            $"ConcurrentLru ≥ LRU − {Fmt.Num(PseudoLruPointsMax * 100, 1)} pts on every Zipf cell, and ≥ LRU on the scan trace at every size",
            $"Zipf: ConcurrentLru − LRU from {Points(zipfGaps.Min())} to {Points(zipfGaps.Max())}; scans: {string.Join(", ", scanGaps.Select(Points))}",
            zipfGaps.All(g => g >= -PseudoLruPointsMax) && scanGaps.All(g => g >= 0));
    }

    private static ResultTable HitTable(TraceResult trace, int[] sizes, string[] sizeLabels) =>
        new($"Hit ratio on {trace.Name}: {trace.Description}", ["policy", .. sizeLabels],
            [.. Policies.Select(p => (IReadOnlyList<string>)[p, .. sizes.Select(s => Fmt.Pct(trace.Hit(p, s), 1))])]);

    private static ResultTable ScanTable(TraceResult scanBase, TraceResult scans, int[] sizes, string[] sizeLabels) =>
        new($"Hit ratio on the {scanBase.Name} accesses alone → with scans mixed in (relative loss)", ["policy", .. sizeLabels],
            [.. Policies.Select(p => (IReadOnlyList<string>)[p, .. sizes.Select(s =>
                $"{Fmt.Pct(scanBase.Hit(p, s), 1)} → {Fmt.Pct(scans.Results[p][s].RecurringHitRatio, 1)} ({Signed(-ScanLoss(scanBase, scans, p, s))})")])]);

    /// <summary>The share of its hit ratio on the recurring accesses that a policy loses when the scans are mixed in.</summary>
    private static double ScanLoss(TraceResult scanBase, TraceResult scans, string policy, int size)
    {
        double before = scanBase.Hit(policy, size);
        return before == 0 ? 0 : (before - scans.Results[policy][size].RecurringHitRatio) / before;
    }

    private static string Signed(double fraction) => $"{(fraction >= 0 ? "+" : "−")}{Fmt.Pct(Math.Abs(fraction), 1)}";

    private static string Points(double difference) => $"{(difference >= 0 ? "+" : "−")}{Fmt.Num(Math.Abs(difference) * 100, 1)} pts";
}
