using Blueprint.Core.RateLimiting;

namespace Blueprint.Core.Tests.RateLimiting;

public sealed class BackwardsTimeTests
{
    /// <summary>Traces whose clock sometimes steps back (by up to 30 ticks), with 1–3 permits per request.</summary>
    private static readonly Gen<(long Ticks, int Permits)[]> Jittery =
        Gen.Select(Gen.Long[-30, 40], Gen.Int[1, 3]).Array[1, 250].Select(static steps =>
        {
            long now = 0;
            return steps.Select(s => (now = Math.Max(0, now + s.Item1), s.Item2)).ToArray();
        });

    /// <summary>The same trace with every timestamp raised to the latest one seen so far: what the contract says a core must act on.</summary>
    private static (long Ticks, int Permits)[] Monotonic((long Ticks, int Permits)[] trace)
    {
        long latest = 0;
        return [.. trace.Select(a => (latest = Math.Max(latest, a.Ticks), a.Permits))];
    }

    private static void AssertBackwardsTimeIsTheLaterTime<TState>(IRateLimitAlgorithm<TState> algorithm, (long Ticks, int Permits)[] trace) =>
        Assert.Equal(Traces.Replay(algorithm, Monotonic(trace)), Traces.Replay(algorithm, trace));

    [Fact]
    public void Gcra_ClockStepsBack_StillDecidesExactlyLikeTheTokenBucket()
    {
        Gen.Select(Jittery, Gen.Int[1, 10], Gen.Int[1, 30]).Sample(t =>
        {
            ((long Ticks, int Permits)[] trace, int burst, int interval) = t;
            trace = [.. trace.Select(a => (a.Ticks, Math.Min(a.Permits, burst)))];
            Assert.Equal(Traces.Replay(new TokenBucket(burst, interval), trace), Traces.Replay(new Gcra(burst, interval), trace));
        }, iter: 300);
    }

    [Fact]
    public void Gcra_RequestEarlierThanOneSeen_IsAdmittedLikeTheTokenBucket()
    {
        // burst 2, T = 10: at 200 the bucket is full again; at 195 (already past) one token is still left.
        (long, int)[] trace = [(0, 1), (200, 1), (195, 1)];
        RateLimitDecision[] gcra = Traces.Replay(new Gcra(2, 10), trace);
        Assert.Equal([true, true, true], gcra.Select(d => d.Allowed));
        Assert.Equal(0, gcra[2].RemainingPermits);
    }

    [Fact]
    public void EveryLimiter_ClockStepsBack_DecidesAsIfAtTheLatestTimeSeen()
    {
        Gen.Select(Jittery, Gen.Int[3, 8], Gen.Int[2, 200]).Sample(t =>
        {
            ((long Ticks, int Permits)[] trace, int limit, int ticks) = t;
            trace = [.. trace.Select(a => (a.Ticks, Math.Min(a.Permits, limit)))];
            AssertBackwardsTimeIsTheLaterTime(new TokenBucket(limit, ticks), trace);
            AssertBackwardsTimeIsTheLaterTime(new Gcra(limit, ticks), trace);
            AssertBackwardsTimeIsTheLaterTime(new LeakyBucketMeter(limit, ticks), trace);
            AssertBackwardsTimeIsTheLaterTime(new LeakyBucketShaper(limit, ticks), trace);
            AssertBackwardsTimeIsTheLaterTime(new FixedWindow(limit, ticks), trace);
            AssertBackwardsTimeIsTheLaterTime(new SlidingWindowCounter(limit, ticks), trace);
            AssertBackwardsTimeIsTheLaterTime(new SlidingLog(limit, ticks), trace);
        }, iter: 300);
    }
}
