using Blueprint.Core.RateLimiting;

namespace Blueprint.Core.Tests.RateLimiting;

public sealed class EquivalenceTests
{
    [Fact]
    public void Gcra_SameTraceAsTokenBucket_MakesIdenticalDecisions()
    {
        // Theory: GCRA with burst B and interval T is the token bucket with capacity B and one token per T.
        Gen.Select(Traces.Bursty, Gen.Int[3, 10], Gen.Int[1, 30]).Sample(t =>
        {
            ((long Ticks, int Permits)[] trace, int burst, int interval) = t;
            Assert.Equal(Traces.Replay(new TokenBucket(burst, interval), trace), Traces.Replay(new Gcra(burst, interval), trace));
        }, iter: 300);
    }

    [Fact]
    public void LeakyBucketMeter_SameTraceAsTokenBucket_MakesIdenticalDecisions()
    {
        // Theory: the meter's level is the token bucket's spent tokens, so as policers they agree.
        Gen.Select(Traces.Bursty, Gen.Int[3, 10], Gen.Int[1, 30]).Sample(t =>
        {
            ((long Ticks, int Permits)[] trace, int capacity, int interval) = t;
            RateLimitDecision[] meter = Traces.Replay(new LeakyBucketMeter(capacity, interval), trace);
            RateLimitDecision[] bucket = Traces.Replay(new TokenBucket(capacity, interval), trace);
            Assert.Equal(bucket.Select(d => d.Allowed), meter.Select(d => d.Allowed));
            Assert.Equal(bucket.Select(d => d.RemainingPermits), meter.Select(d => d.RemainingPermits));
        }, iter: 300);
    }

    [Fact]
    public void LeakyBucketMeter_OverflowThenLeak_ReportsHandComputedRetryAndReset()
    {
        // Capacity 3, one permit leaks per 10 ticks, so the full level is 30 ticks of water.
        LeakyBucketMeter meter = new(3, 10);
        LeakyBucketMeterState state = meter.CreateState(0);
        Assert.Equal(new RateLimitDecision(true, 0, 0, 30), meter.Decide(ref state, 0, 3));

        // At 5 the level is 25; pouring 20 more would reach 45, 15 over, so retry in 15; the bucket empties in 25.
        Assert.Equal(new RateLimitDecision(false, 0, 15, 25), meter.Decide(ref state, 5, 2));

        // At 5 + 15 = 20 the level is 10 and 10 + 20 = 30 fits exactly.
        Assert.Equal(new RateLimitDecision(true, 0, 0, 30), meter.Decide(ref state, 20, 2));

        // At 45 the level is 5: two permits of room remain, and it is empty in 5.
        Assert.Equal(new RateLimitDecision(true, 2, 0, 5), meter.Decide(ref state, 45, 0));
    }
}
