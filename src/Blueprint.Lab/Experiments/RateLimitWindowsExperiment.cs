using Blueprint.Core.RateLimiting;

namespace Blueprint.Lab.Experiments;

/// <summary>Fixed window vs sliding log vs sliding window counter vs GCRA on a boundary burst and on a random trace.</summary>
public sealed class RateLimitWindowsExperiment : IExperiment
{
    private const int LimitPermits = 100;
    private const long WindowTicks = TimeSpan.TicksPerSecond;
    private const long SampleTicks = 50 * TimeSpan.TicksPerMillisecond;

    /// <inheritdoc/>
    public string Name => "rate-limit-windows";

    /// <inheritdoc/>
    public string Description => "Fixed window's 2× boundary burst, sliding log exactness, sliding window counter error, GCRA exactness.";

    /// <inheritdoc/>
    public ExperimentResult Run(ExperimentOptions options, IProgress<double> progress)
    {
        ArgumentNullException.ThrowIfNull(options);
        int seconds = options.Quick ? 20 : 120;
        long tenMs = 10 * TimeSpan.TicksPerMillisecond;

        // The boundary trace: a full limit in the last 10 ms of window 0 and another in the first 10 ms of window 1.
        long[] boundary = [.. Enumerable.Range(0, 2 * LimitPermits).Select(i => WindowTicks - tenMs + (i * tenMs / LimitPermits))];
        (double, int)[] bursts = [.. Enumerable.Range(0, seconds / 4).Select(i => ((i * 4) + 1.7, LimitPermits / 2))];
        long[] random = Trace.Bursty(new Random(options.Seed), LimitPermits * 1.5, seconds, bursts);

        Outcome[] onBoundary = RunAll(boundary);
        progress.Report(0.2);
        Outcome[] onRandom = RunAll(random);
        progress.Report(0.7);

        Outcome fixedB = onBoundary[0];
        Outcome fixedR = onRandom[0];
        Outcome logB = onBoundary[1];
        Outcome logR = onRandom[1];
        Outcome counterR = onRandom[2];
        Outcome gcraB = onBoundary[3];
        Outcome gcraR = onRandom[3];
        int logViolations = CountLogDefinitionViolations(boundary, logB.Allowed) + CountLogDefinitionViolations(random, logR.Allowed);
        int overLimitMax = LimitPermits * 11 / 10;
        int gcraVsBucket = CountDifferences(boundary, onBoundary[3].Allowed, onBoundary[4].Allowed) + CountDifferences(random, gcraR.Allowed, onRandom[4].Allowed);
        progress.Report(0.9);

        List<Claim> claims =
        [
            new("fixed-window-boundary-burst", "A fixed window admits up to 2× the limit across a window boundary.",
                $"2 × {LimitPermits} = {2 * LimitPermits} admitted within 20 ms around the boundary, i.e. 2.0× the limit in a 1 s interval",
                $"{fixedB.MaxPerWindow} in one 1 s interval ({Fmt.Num(fixedB.MaxPerWindow / (double)LimitPermits)}×); random trace max {fixedR.MaxPerWindow} ({Fmt.Num(fixedR.MaxPerWindow / (double)LimitPermits)}×)",
                fixedB.MaxPerWindow == 2 * LimitPermits),
            new("sliding-log-exact", "A sliding window log is exact.",
                $"never more than {LimitPermits} in any 1 s interval, and every decision equals the definition (admitted in (t−W, t] + 1 ≤ limit)",
                $"max {logB.MaxPerWindow} (boundary), {logR.MaxPerWindow} (random); {logViolations} decisions differ from the definition",
                logB.MaxPerWindow <= LimitPermits && logR.MaxPerWindow <= LimitPermits && logViolations == 0),
            new("sliding-window-counter-error", "A sliding window counter approximates the exact log with a small error.",
                $"max in any 1 s interval within 10% of the limit (≤ {overLimitMax}), because it assumes the previous window's requests were evenly spread; Cloudflare reports 0.003% wrong decisions on real traffic",
                $"max {counterR.MaxPerWindow} ({Fmt.Pct((counterR.MaxPerWindow / (double)LimitPermits) - 1, 1)} over the limit) on the random trace at 1.5× the limit, boundary burst max {onBoundary[2].MaxPerWindow}; admitted {Fmt.Int(counterR.Count)} vs the exact log's {Fmt.Int(logR.Count)} ({Fmt.Pct((counterR.Count / (double)logR.Count) - 1, 1)})",
                counterR.MaxPerWindow <= overLimitMax && onBoundary[2].MaxPerWindow <= overLimitMax),
            new("gcra-exact", "GCRA is exact: it is a token bucket (burst + rate) computed from one timestamp.",
                $"decisions identical to a token bucket with burst {LimitPermits} and rate {LimitPermits}/s; at most burst + rate·t = {2 * LimitPermits} in any 1 s interval",
                $"{gcraVsBucket} decisions differ; max {gcraB.MaxPerWindow} (boundary), {gcraR.MaxPerWindow} (random) per 1 s interval",
                gcraVsBucket == 0 && gcraB.MaxPerWindow <= 2 * LimitPermits && gcraR.MaxPerWindow <= 2 * LimitPermits),
        ];

        string[] names = ["fixed window", "sliding log", "sliding window counter", "GCRA", "token bucket"];
        ResultTable table = new($"Limit {LimitPermits} per 1 s: most admitted in any 1 s interval", ["algorithm", "boundary trace: admitted", "boundary: max/1 s", $"random trace ({Fmt.Int(random.Length)} requests): admitted", "random: max/1 s"],
            [.. names.Select((name, i) => (IReadOnlyList<string>)[name, Fmt.Int(onBoundary[i].Count), Fmt.Int(onBoundary[i].MaxPerWindow), Fmt.Int(onRandom[i].Count), Fmt.Int(onRandom[i].MaxPerWindow)])]);

        int plotSeconds = Math.Min(seconds, 20);
        double[] xs = [.. Enumerable.Range(0, (int)(plotSeconds * TimeSpan.TicksPerSecond / SampleTicks)).Select(i => i * SampleTicks / (double)TimeSpan.TicksPerSecond)];
        List<PlotSeries> series = [.. names[..4].Select((name, i) => new PlotSeries(name, xs, TrailingCounts(random, onRandom[i].Allowed, xs)))];
        series.Add(new PlotSeries("limit", [0, plotSeconds], [LimitPermits, LimitPermits]));
        PlotSpec plot = new($"Admitted in the trailing 1 s (limit {LimitPermits}/s, arrivals at 1.5× the limit plus bursts)", "time (s)", "admitted in trailing 1 s", series);
        progress.Report(1);

        string summary = $"Limit {LimitPermits} per 1 s window. Boundary trace: {2 * LimitPermits} requests in the 20 ms around a window boundary. Random trace: {seconds} s of Poisson arrivals at {LimitPermits * 1.5}/s plus a {LimitPermits / 2}-request burst every 4 s. GCRA and the token bucket use burst {LimitPermits}, rate {LimitPermits}/s. Seed {options.Seed}{(options.Quick ? ", quick mode" : string.Empty)}.";
        return new ExperimentResult("rate-limit-windows", summary, claims, [table], plot);
    }

    private static Outcome[] RunAll(long[] trace) =>
    [
        Replay(new FixedWindow(LimitPermits, WindowTicks), trace),
        Replay(new SlidingLog(LimitPermits, WindowTicks), trace),
        Replay(new SlidingWindowCounter(LimitPermits, WindowTicks), trace),
        Replay(new Gcra(LimitPermits, WindowTicks / LimitPermits), trace),
        Replay(new TokenBucket(LimitPermits, WindowTicks / LimitPermits), trace),
    ];

    private static Outcome Replay<TState>(IRateLimitAlgorithm<TState> algorithm, long[] trace)
    {
        TState state = algorithm.CreateState(0);
        bool[] allowed = new bool[trace.Length];
        List<long> admitted = [];
        for (int i = 0; i < trace.Length; i++)
        {
            allowed[i] = algorithm.Decide(ref state, trace[i], 1).Allowed;
            if (allowed[i])
            {
                admitted.Add(trace[i]);
            }
        }

        return new Outcome(allowed, admitted.Count, Trace.MaxInWindow(admitted, WindowTicks));
    }

    /// <summary>Recomputes the sliding-log definition from scratch and counts decisions that disagree with it.</summary>
    private static int CountLogDefinitionViolations(long[] trace, bool[] allowed)
    {
        Queue<long> window = new();
        int violations = 0;
        for (int i = 0; i < trace.Length; i++)
        {
            while (window.Count > 0 && window.Peek() <= trace[i] - WindowTicks)
            {
                _ = window.Dequeue();
            }

            bool fits = window.Count + 1 <= LimitPermits;
            violations += fits == allowed[i] ? 0 : 1;
            if (allowed[i])
            {
                window.Enqueue(trace[i]);
            }
        }

        return violations;
    }

    private static int CountDifferences(long[] trace, bool[] left, bool[] right) => Enumerable.Range(0, trace.Length).Count(i => left[i] != right[i]);

    private static double[] TrailingCounts(long[] trace, bool[] allowed, double[] sampleSeconds)
    {
        long[] admitted = [.. trace.Where((_, i) => allowed[i])];
        double[] counts = new double[sampleSeconds.Length];
        int start = 0;
        int end = 0;
        for (int s = 0; s < sampleSeconds.Length; s++)
        {
            long now = (long)(sampleSeconds[s] * TimeSpan.TicksPerSecond);
            while (end < admitted.Length && admitted[end] <= now)
            {
                end++;
            }

            while (start < end && admitted[start] <= now - WindowTicks)
            {
                start++;
            }

            counts[s] = end - start;
        }

        return counts;
    }

    private sealed record Outcome(bool[] Allowed, int Count, int MaxPerWindow);
}
