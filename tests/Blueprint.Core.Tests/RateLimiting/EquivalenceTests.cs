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
}
