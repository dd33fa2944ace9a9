using Blueprint.Core.RateLimiting;

namespace Blueprint.Lab.Experiments;

/// <summary>One bursty trace through a token bucket and a leaky-bucket queue: burst pass-through vs smoothing.</summary>
public sealed class TokenVsLeakyBucketExperiment : IExperiment
{
    private const int RatePerSecond = 100;
    private const int CapacityPermits = 50;
    private const double BackgroundPerSecond = 60;
    private const int BurstSize = 150;
    private const long BinTicks = 100 * TimeSpan.TicksPerMillisecond;

    /// <inheritdoc/>
    public string Name => "token-vs-leaky-bucket";

    /// <inheritdoc/>
    public string Description => "A bursty trace through a token bucket and a leaky-bucket queue: the token bucket passes bursts up to capacity, the leaky bucket never exceeds its rate.";

    /// <inheritdoc/>
    public ExperimentResult Run(ExperimentOptions options, IProgress<double> progress)
    {
        ArgumentNullException.ThrowIfNull(options);
        int seconds = options.Quick ? 10 : 30;
        (double, int)[] bursts = [.. Enumerable.Range(0, seconds / 5).Select(i => ((i * 5) + 2.5, BurstSize))];
        long[] arrivals = Trace.Bursty(new Random(options.Seed), BackgroundPerSecond, seconds, bursts);
        long interval = Trace.TicksPerSecond / RatePerSecond;

        TokenBucket bucket = new(CapacityPermits, interval);
        LeakyBucketShaper shaper = new(CapacityPermits, interval);
        TokenBucketState bucketState = bucket.CreateState(0);
        LeakyBucketShaperState shaperState = shaper.CreateState(0);
        List<long> tokenPassed = [];
        List<long> leakyStarts = [];
        long maxDelay = 0;
        for (int i = 0; i < arrivals.Length; i++)
        {
            long now = arrivals[i];
            if (bucket.Decide(ref bucketState, now, 1).Allowed)
            {
                tokenPassed.Add(now);
            }

            RateLimitDecision queued = shaper.Decide(ref shaperState, now, 1);
            if (queued.Allowed)
            {
                leakyStarts.Add(now + queued.DelayTicks);
                maxDelay = Math.Max(maxDelay, queued.DelayTicks);
            }

            if (i % 1000 == 0)
            {
                progress.Report(i / (double)arrivals.Length);
            }
        }

        leakyStarts.Sort();
        progress.Report(1);

        long window = BinTicks;
        double ratePerWindow = RatePerSecond * (window / (double)Trace.TicksPerSecond);
        int tokenMax = Trace.MaxInWindow(tokenPassed, window);
        int leakyMax = Trace.MaxInWindow(leakyStarts, window);
        int tokenMaxSecond = Trace.MaxInWindow(tokenPassed, Trace.TicksPerSecond);
        int leakyMaxSecond = Trace.MaxInWindow(leakyStarts, Trace.TicksPerSecond);
        int tokenBurst = Trace.MaxInWindow(tokenPassed, TimeSpan.TicksPerMillisecond);

        List<Claim> claims =
        [
            new("token-bucket-passes-burst", "A token bucket passes a burst up to its capacity at once.",
                $"a 1 ms burst of {BurstSize} passes {CapacityPermits} (the capacity) when the bucket is full; never more than capacity + rate·t",
                $"most passed within 1 ms: {tokenBurst}",
                tokenBurst >= CapacityPermits * 0.9 && tokenBurst <= CapacityPermits + 1),
            new("token-bucket-bound", "A token bucket admits at most capacity + rate·t in any interval t.",
                $"≤ {CapacityPermits} + {RatePerSecond}/s·t: ≤ {CapacityPermits + ratePerWindow} per 100 ms, ≤ {CapacityPermits + RatePerSecond} per second",
                $"max {tokenMax} per 100 ms, {tokenMaxSecond} per second",
                tokenMax <= CapacityPermits + ratePerWindow && tokenMaxSecond <= CapacityPermits + RatePerSecond),
            new("leaky-bucket-never-exceeds-rate", "A leaky bucket (queue) never exceeds its rate: bursts are smoothed, not passed.",
                $"≤ rate·t + 1: ≤ {ratePerWindow + 1} per 100 ms, ≤ {RatePerSecond + 1} per second",
                $"max {leakyMax} per 100 ms, {leakyMaxSecond} per second",
                leakyMax <= ratePerWindow + 1 && leakyMaxSecond <= RatePerSecond + 1),
            new("leaky-bucket-delay-bound", "The leaky bucket pays for smoothness in latency: the wait is bounded by queue size / rate.",
                $"max delay ≤ capacity / rate = {Fmt.Num(CapacityPermits / (double)RatePerSecond * 1000, 0)} ms",
                $"max delay {Fmt.Num(maxDelay / (double)TimeSpan.TicksPerMillisecond, 1)} ms",
                maxDelay <= CapacityPermits * interval),
        ];

        long duration = seconds * Trace.TicksPerSecond;
        double[] xs = [.. Enumerable.Range(0, (int)(duration / BinTicks)).Select(i => i * BinTicks / (double)Trace.TicksPerSecond)];
        double perSecond = Trace.TicksPerSecond / (double)BinTicks;
        PlotSpec plot = new($"Admitted rate over time (rate {RatePerSecond}/s, capacity {CapacityPermits})", "time (s)", "requests per second (100 ms bins)",
        [
            new("arrivals", xs, [.. Trace.Histogram(arrivals, BinTicks, duration).Select(c => c * perSecond)]),
            new("token bucket admitted", xs, [.. Trace.Histogram(tokenPassed, BinTicks, duration).Select(c => c * perSecond)]),
            new("leaky bucket output", xs, [.. Trace.Histogram(leakyStarts, BinTicks, duration).Select(c => c * perSecond)]),
            new("configured rate", [0, seconds], [RatePerSecond, RatePerSecond]),
        ]);
        ResultTable table = new("Admitted traffic", ["algorithm", "admitted", "max per 1 ms", "max per 100 ms", "max per second", "max delay"],
        [
            ["arrivals", Fmt.Int(arrivals.Length), Fmt.Int(Trace.MaxInWindow(arrivals, TimeSpan.TicksPerMillisecond)), Fmt.Int(Trace.MaxInWindow(arrivals, window)), Fmt.Int(Trace.MaxInWindow(arrivals, Trace.TicksPerSecond)), "-"],
            ["token bucket", Fmt.Int(tokenPassed.Count), Fmt.Int(tokenBurst), Fmt.Int(tokenMax), Fmt.Int(tokenMaxSecond), "0 ms"],
            ["leaky bucket (queue)", Fmt.Int(leakyStarts.Count), Fmt.Int(Trace.MaxInWindow(leakyStarts, TimeSpan.TicksPerMillisecond)), Fmt.Int(leakyMax), Fmt.Int(leakyMaxSecond), $"{Fmt.Num(maxDelay / (double)TimeSpan.TicksPerMillisecond, 1)} ms"],
        ]);
        string summary = $"{seconds} s of Poisson arrivals at {BackgroundPerSecond}/s plus a {BurstSize}-request burst every 5 s, through a token bucket and a leaky-bucket queue, both {RatePerSecond}/s with capacity {CapacityPermits}. Seed {options.Seed}{(options.Quick ? ", quick mode" : string.Empty)}.";
        return new ExperimentResult("token-vs-leaky-bucket", summary, claims, [table], plot);
    }
}
