using System.Diagnostics;

using Blueprint.Core.Probabilistic;

namespace Blueprint.Lab.Experiments;

/// <summary>Bloom filter false-positive rate vs theory, bits per item vs the optimum, and memory and speed vs <see cref="HashSet{T}"/>.</summary>
public sealed class BloomFilterExperiment : IExperiment
{
    private static readonly double[] Rates = [0.01, 0.001];
    private static readonly double[] FillCheckpoints = [0.25, 0.5, 0.75, 1.0, 1.25, 1.5, 1.75, 2.0];

    /// <inheritdoc/>
    public string Name => "bloom-filter";

    /// <inheritdoc/>
    public string Description => "False-positive rate vs theory at p=1% and 0.1%, bits per item vs 1.44·log2(1/p), memory and ops/s vs HashSet<string>.";

    /// <inheritdoc/>
    public ExperimentResult Run(ExperimentOptions options, IProgress<double> progress)
    {
        ArgumentNullException.ThrowIfNull(options);
        int n = options.Quick ? 100_000 : 1_000_000;
        ProgressSteps steps = new(progress, (Rates.Length * 2) + 3 + FillCheckpoints.Length);

        long stringBytesBefore = GC.GetAllocatedBytesForCurrentThread();
        string[] items = [.. Enumerable.Range(0, n).Select(i => $"item-{options.Seed}-{i}")];
        long itemStringBytes = GC.GetAllocatedBytesForCurrentThread() - stringBytesBefore - ((long)n * IntPtr.Size) - 32;
        string[] probes = [.. Enumerable.Range(0, n).Select(i => $"probe-{options.Seed}-{i}")];
        steps.Step();

        List<Claim> claims = [];
        List<IReadOnlyList<string>> fprRows = [];
        List<IReadOnlyList<string>> costRows = [];
        long bloomBytesAtOnePercent = 0;
        foreach (double p in Rates)
        {
            BloomFilter filter = new(n, p);
            double addSeconds = Time(() =>
            {
                foreach (string item in items)
                {
                    _ = filter.Add(item);
                }
            });
            steps.Step();
            int falsePositives = 0;
            double containsSeconds = Time(() =>
            {
                foreach (string probe in probes)
                {
                    falsePositives += filter.Contains(probe) ? 1 : 0;
                }
            });
            steps.Step();

            double measured = falsePositives / (double)n;
            double theory = BloomMath.ExpectedFalsePositiveRate(filter.BitCount, filter.HashCount, n);

            // The count of false positives is binomial, so the tolerance is the larger of 15% and four standard errors.
            double tolerance = Math.Max(0.15, 4 / Math.Sqrt(theory * n));
            string label = Fmt.Pct(p, p < 0.01 ? 1 : 0);
            claims.Add(new($"fpr-{label}", $"A Bloom filter sized for n items at p = {label} has a false-positive rate of about p.",
                $"(1 − e^(−kn/m))^k = {Fmt.Pct(theory, 3)} with m={Fmt.Int(filter.BitCount)}, k={filter.HashCount}, n={Fmt.Int(n)} (±{Fmt.Pct(tolerance, 0)} relative)",
                $"{Fmt.Pct(measured, 3)} ({Fmt.Int(falsePositives)} of {Fmt.Int(n)} non-members)",
                Fmt.Within(measured, theory, tolerance)));

            double bitsPerItem = filter.BitCount / (double)n;
            double optimum = 1.44 * Math.Log2(1 / p);
            claims.Add(new($"bits-per-item-{label}", $"At p = {label} the optimum is 1.44·log2(1/p) bits per item, with k = ln 2 · m/n hashes.",
                $"1.44·log2(1/p) = {Fmt.Num(optimum)} bits/item (±2% relative), k = {Math.Round(Math.Log(2) * bitsPerItem)}",
                $"{Fmt.Num(bitsPerItem)} bits/item, k = {filter.HashCount}",
                Fmt.Within(bitsPerItem, optimum, 0.02) && filter.HashCount == (int)Math.Round(Math.Log(2) * bitsPerItem)));

            fprRows.Add([label, Fmt.Int(filter.BitCount), filter.HashCount.ToString(System.Globalization.CultureInfo.InvariantCulture), Fmt.Num(bitsPerItem), Fmt.Num(optimum), Fmt.Pct(theory, 3), Fmt.Pct(measured, 3)]);
            costRows.Add([$"BloomFilter p={label}", Fmt.Num(filter.SizeBytes / 1048576.0), Fmt.Num(filter.SizeBytes / (double)n), Fmt.Num(n / addSeconds / 1e6), Fmt.Num(n / containsSeconds / 1e6)]);
            if (p == 0.01)
            {
                bloomBytesAtOnePercent = filter.SizeBytes;
            }
        }

        long setBytesBefore = GC.GetAllocatedBytesForCurrentThread();
        HashSet<string> set = new(n, StringComparer.Ordinal);
        double setAddSeconds = Time(() =>
        {
            foreach (string item in items)
            {
                _ = set.Add(item);
            }
        });
        long setBytes = GC.GetAllocatedBytesForCurrentThread() - setBytesBefore;
        int setHits = 0;
        double setContainsSeconds = Time(() =>
        {
            foreach (string probe in probes)
            {
                setHits += set.Contains(probe) ? 1 : 0;
            }
        });
        steps.Step();
        costRows.Add(["HashSet<string> (table only)", Fmt.Num(setBytes / 1048576.0), Fmt.Num(setBytes / (double)n), Fmt.Num(n / setAddSeconds / 1e6), Fmt.Num(n / setContainsSeconds / 1e6)]);
        costRows.Add(["HashSet<string> + the strings", Fmt.Num((setBytes + itemStringBytes) / 1048576.0), Fmt.Num((setBytes + itemStringBytes) / (double)n), "", ""]);

        double ratio = (setBytes + itemStringBytes) / (double)bloomBytesAtOnePercent;
        claims.Add(new("memory-vs-hashset", "A Bloom filter answers membership in a fraction of the memory of a set holding the items.",
            "Bloom filter at 1% ≥ 10× smaller than HashSet<string> with its strings",
            $"{Fmt.Num(ratio, 1)}× smaller ({Fmt.Num(bloomBytesAtOnePercent / (double)n)} vs {Fmt.Num((setBytes + itemStringBytes) / (double)n)} bytes/item; table alone {Fmt.Num(setBytes / (double)n)} bytes/item)",
            ratio >= 10 && setHits == 0));

        PlotSpec plot = FillCurve(options, n, steps);
        ResultTable fprTable = new($"False-positive rate at n = {Fmt.Int(n)} items", ["target p", "bits m", "hashes k", "bits/item", "optimum 1.44·log2(1/p)", "theory FPR", "measured FPR"], fprRows);
        ResultTable costTable = new($"Memory and throughput on the same {Fmt.Int(n)} items (single thread)", ["structure", "MiB", "bytes/item", "add (M ops/s)", "contains (M ops/s)"], costRows);
        string summary = $"{Fmt.Int(n)} distinct items inserted, {Fmt.Int(n)} distinct non-members probed. Seed {options.Seed}{(options.Quick ? ", quick mode" : string.Empty)}.";
        return new ExperimentResult("bloom-filter", summary, claims, [fprTable, costTable], plot);
    }

    private static PlotSpec FillCurve(ExperimentOptions options, int n, ProgressSteps steps)
    {
        // A filter sized for n/10 items at 1%, filled to twice its design load, shows the FPR climbing past p.
        int design = n / 10;
        int probes = options.Quick ? 20_000 : 100_000;
        BloomFilter filter = new(design, 0.01);
        Span<char> buffer = stackalloc char[64];
        List<double> xs = [];
        List<double> measured = [];
        List<double> theory = [];
        int inserted = 0;
        foreach (double checkpoint in FillCheckpoints)
        {
            int target = (int)(design * checkpoint);
            for (; inserted < target; inserted++)
            {
                _ = buffer.TryWrite($"fill-{options.Seed}-{inserted}", out int written);
                _ = filter.Add(buffer[..written]);
            }

            int hits = 0;
            for (int i = 0; i < probes; i++)
            {
                _ = buffer.TryWrite($"miss-{options.Seed}-{i}", out int written);
                hits += filter.Contains(buffer[..written]) ? 1 : 0;
            }

            xs.Add(checkpoint);
            measured.Add(hits * 100.0 / probes);
            theory.Add(BloomMath.ExpectedFalsePositiveRate(filter.BitCount, filter.HashCount, inserted) * 100);
            steps.Step();
        }

        return new PlotSpec($"False-positive rate as a 1% filter fills (designed for {Fmt.Int(design)} items)", "items inserted / design capacity", "false-positive rate (%)",
        [
            new("measured", xs, measured, Markers: true),
            new("theory (1 − e^(−kn/m))^k", xs, theory),
        ]);
    }

    private static double Time(Action action)
    {
        Stopwatch watch = Stopwatch.StartNew();
        action();
        return Math.Max(watch.Elapsed.TotalSeconds, 1e-9);
    }
}
