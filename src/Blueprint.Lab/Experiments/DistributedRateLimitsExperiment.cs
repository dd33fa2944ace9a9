using Blueprint.Core.RateLimiting.Stores;
using Microsoft.Extensions.Time.Testing;

namespace Blueprint.Lab.Experiments;

/// <summary>
/// Three nodes behind a skewed load balancer share one limit: per-node local limits vs one exact
/// distributed limit vs the approximate local-batch mode. The distributed store here is the
/// in-process twin of the KV scripts (the scripts are tested decision-for-decision against the same
/// cores), so the experiment is deterministic and needs no server.
/// </summary>
public sealed class DistributedRateLimitsExperiment : IExperiment
{
    private const int Nodes = 3;
    private const long LimitPerSecond = 100;
    private static readonly double[] DemandPerSecond = [200, 70, 30];

    /// <inheritdoc/>
    public string Name => "distributed-rate-limits";

    /// <inheritdoc/>
    public string Description => "Three nodes, one limit: per-node local limits over- or under-admit, a distributed limit is exact at one round trip per decision, local batches trade a bounded error for fewer round trips.";

    /// <inheritdoc/>
    public ExperimentResult Run(ExperimentOptions options, IProgress<double> progress)
    {
        ArgumentNullException.ThrowIfNull(options);
        int seconds = options.Quick ? 10 : 30;
        var random = new Random(options.Seed);
        var arrivals = Enumerable.Range(0, Nodes)
            .SelectMany(node => Trace.Bursty(random, DemandPerSecond[node], seconds, []).Select(time => (Time: time, Node: node)))
            .OrderBy(arrival => arrival.Time)
            .ToArray();
        var limit = new LimitSpec(RateLimitAlgorithm.TokenBucket, LimitPerSecond, TimeSpan.FromSeconds(1));
        var share = limit with { RequestsPerUnit = LimitPerSecond / Nodes };

        var localFull = Simulate(arrivals, time => Enumerable.Range(0, Nodes).Select(_ => (IRateLimitStore)new LocalRateLimitStore(time, 16)).ToArray(), limit);
        progress.Report(0.25);
        var localShare = Simulate(arrivals, time => Enumerable.Range(0, Nodes).Select(_ => (IRateLimitStore)new LocalRateLimitStore(time, 16)).ToArray(), share);
        progress.Report(0.5);
        var exact = Simulate(arrivals, time =>
        {
            var shared = new CountingStore(new LocalRateLimitStore(time, 16));
            return Enumerable.Repeat((IRateLimitStore)shared, Nodes).ToArray();
        }, limit);
        progress.Report(0.75);
        var batched = Simulate(arrivals, time =>
        {
            var shared = new CountingStore(new LocalRateLimitStore(time, 16));
            return Enumerable.Range(0, Nodes).Select(_ => (IRateLimitStore)new LocalBatchStore(shared, time, 16)).ToArray();
        }, limit);
        progress.Report(1);

        double bound = LimitPerSecond + (LimitPerSecond * (arrivals[^1].Time / (double)Trace.TicksPerSecond));
        double localFullExpected = DemandPerSecond.Sum(demand => Math.Min(demand, LimitPerSecond));
        int batch = LocalBatchStore.BatchPermits(limit);
        List<Claim> claims =
        [
            new("local-full-over-admits", "Each node enforcing the whole limit locally admits up to n times the limit.",
                $"each node admits min(its demand, the limit): Σ = {localFullExpected}/s, {localFullExpected / LimitPerSecond:F1}× the limit (±5%)",
                $"{localFull.AdmittedPerSecond:F1}/s admitted ({localFull.AdmittedPerSecond / LimitPerSecond:F2}× the limit)",
                Math.Abs(localFull.AdmittedPerSecond - localFullExpected) <= 0.05 * localFullExpected && localFull.AdmittedPerSecond > 1.5 * LimitPerSecond),
            new("local-share-under-admits", "Splitting the limit into n local shares under-admits when load is skewed.",
                $"a node whose demand ({DemandPerSecond[^1]}/s) is below its share ({share.RequestsPerUnit}/s) leaves budget unused: total < the limit",
                $"{localShare.AdmittedPerSecond:F1}/s admitted of {LimitPerSecond}/s",
                localShare.AdmittedPerSecond < 0.98 * LimitPerSecond),
            new("distributed-exact", "One distributed limit is exact: never above capacity + rate·t, and (with enough demand) not below it.",
                $"admitted ≤ {bound:F0} and ≥ 99% of it; one round trip per decision",
                $"admitted {exact.Admitted} ({exact.Admitted / bound:P2} of the bound); {exact.RoundTripsPerDecision:F2} round trips per decision",
                exact.Admitted <= bound && exact.Admitted >= 0.99 * bound && Math.Abs(exact.RoundTripsPerDecision - 1) < 1e-9),
            new("local-batch-bounded-error", "Local batches cut round trips for a bounded error.",
                $"admitted ≤ the exact bound {bound:F0} (reserved permits were all granted) and within 5% of exact (up to n × batch = {Nodes * batch} reserved permits can expire unused); fewer than 1 round trip per decision (at saturation the saving comes from remembering refusals)",
                $"admitted {batched.Admitted} ({(batched.Admitted - exact.Admitted) / (double)exact.Admitted:+0.0%;-0.0%} vs exact); {batched.RoundTripsPerDecision:F3} round trips per decision",
                batched.Admitted <= bound && Math.Abs(batched.Admitted - exact.Admitted) <= 0.05 * exact.Admitted && batched.RoundTripsPerDecision < 1),
        ];

        var table = new ResultTable("Three nodes, 300 requests/s demand (skewed 200/70/30), limit 100/s", ["mode", "admitted", "admitted/s after the first second", "round trips per decision"],
        [
            Row("local: full limit on each node", localFull),
            Row($"local: limit/{Nodes} on each node", localShare),
            Row("distributed: exact (one script per decision)", exact),
            Row($"distributed: local batches of {batch}", batched),
        ]);
        var xs = Enumerable.Range(0, seconds).Select(second => (double)second).ToArray();
        var plot = new PlotSpec("Admitted per second, three nodes sharing a 100/s limit", "second", "admitted per second",
        [
            new PlotSeries("local, full limit each", xs, localFull.PerSecond(seconds)),
            new PlotSeries("local, limit/3 each", xs, localShare.PerSecond(seconds)),
            new PlotSeries("distributed exact", xs, exact.PerSecond(seconds)),
            new PlotSeries("distributed, local batches", xs, batched.PerSecond(seconds)),
        ]);
        return new ExperimentResult(Name,
            $"{seconds} s of Poisson arrivals at 200, 70 and 30 per second on three nodes; token bucket 100/s with a burst of 100.",
            claims, [table], plot);
    }

    private static IReadOnlyList<string> Row(string mode, Outcome outcome) =>
        [mode, outcome.Admitted.ToString("N0", System.Globalization.CultureInfo.InvariantCulture), outcome.AdmittedPerSecond.ToString("F1", System.Globalization.CultureInfo.InvariantCulture), outcome.RoundTripsPerDecision.ToString("F3", System.Globalization.CultureInfo.InvariantCulture)];

    private static Outcome Simulate((long Time, int Node)[] arrivals, Func<TimeProvider, IRateLimitStore[]> build, LimitSpec limit)
    {
        var time = new FakeTimeProvider(DateTimeOffset.UnixEpoch);
        var stores = build(time);
        var admittedAt = new List<long>(arrivals.Length);
        long elapsed = 0;
        foreach (var (at, node) in arrivals)
        {
            time.Advance(TimeSpan.FromTicks(at - elapsed));
            elapsed = at;

            // The stores complete synchronously (no I/O in this simulation).
            if (stores[node].DecideAsync("tenant", limit, 1).AsTask().GetAwaiter().GetResult().Allowed)
            {
                admittedAt.Add(at);
            }
        }

        long roundTrips = stores.Distinct().Sum(store => store switch
        {
            CountingStore counting => counting.Calls,
            LocalBatchStore batched => batched.RoundTrips,
            _ => arrivals.Length,
        });
        if (stores.All(store => store is LocalRateLimitStore))
        {
            roundTrips = 0;
        }

        return new Outcome(admittedAt, arrivals.Length, roundTrips, arrivals[^1].Time);
    }

    private sealed record Outcome(List<long> AdmittedAt, long Decisions, long RoundTrips, long DurationTicks)
    {
        public long Admitted => AdmittedAt.Count;

        // Steady state: the first second holds the initial burst of a full bucket.
        public double AdmittedPerSecond =>
            AdmittedAt.Count(at => at >= Trace.TicksPerSecond) / ((DurationTicks - Trace.TicksPerSecond) / (double)Trace.TicksPerSecond);

        public double RoundTripsPerDecision => RoundTrips / (double)Decisions;

        public double[] PerSecond(int seconds) => Trace.Histogram(AdmittedAt, Trace.TicksPerSecond, seconds * Trace.TicksPerSecond);
    }

    /// <summary>The shared store, counting calls: each is one round trip to the KV in a real cluster.</summary>
    private sealed class CountingStore(IRateLimitStore inner) : IRateLimitStore
    {
        private long _calls;

        public long Calls => Interlocked.Read(ref _calls);

        public ValueTask<RateLimitOutcome> DecideAsync(string key, LimitSpec limit, int hits, CancellationToken cancellationToken = default)
        {
            Interlocked.Increment(ref _calls);
            return inner.DecideAsync(key, limit, hits, cancellationToken);
        }
    }
}
