using Blueprint.Core.RateLimiting;

namespace Blueprint.Core.Tests.RateLimiting;

public sealed class TokenBucketTests
{
    [Fact]
    public void Decide_AnyTraceAnyInterval_AdmitsAtMostCapacityPlusRateTimesLength()
    {
        Gen.Select(Traces.Bursty, Gen.Int[1, 10], Gen.Int[3, 30]).Sample(t =>
        {
            ((long Ticks, int Permits)[] trace, int capacity, int ticksPerPermit) = t;
            trace = [.. trace.Select(a => (a.Ticks, Math.Min(a.Permits, capacity)))];
            TokenBucket bucket = new(capacity, ticksPerPermit);
            RateLimitDecision[] decisions = Traces.Replay(bucket, trace);
            for (int i = 0; i < trace.Length; i++)
            {
                long admitted = 0;
                for (int j = i; j < trace.Length; j++)
                {
                    admitted += decisions[j].Allowed ? trace[j].Permits : 0;
                    long length = trace[j].Ticks - trace[i].Ticks;
                    Assert.True(admitted <= capacity + (length / ticksPerPermit), $"{admitted} admitted in {length} ticks");
                }
            }
        }, iter: 150);
    }

    [Fact]
    public void Decide_FullBucket_PassesABurstOfCapacityThenDenies()
    {
        TokenBucket bucket = new(5, 100);
        TokenBucketState state = bucket.CreateState(0);
        for (int i = 0; i < 5; i++)
        {
            Assert.True(bucket.Decide(ref state, 0, 1).Allowed);
        }

        RateLimitDecision denied = bucket.Decide(ref state, 0, 1);
        Assert.Equal(new RateLimitDecision(false, 0, 100, 500), denied);
        Assert.True(bucket.Decide(ref state, 100, 1).Allowed);
    }

    [Fact]
    public void Decide_LongIdle_RefillsOnlyToCapacity()
    {
        TokenBucket bucket = new(3, 10);
        TokenBucketState state = bucket.CreateState(0);
        _ = bucket.Decide(ref state, 0, 3);
        RateLimitDecision decision = bucket.Decide(ref state, 1_000_000, 1);
        Assert.Equal(2, decision.RemainingPermits);
        Assert.Equal(30, state.CreditTicks + 10);
    }

    [Fact]
    public void Decide_MorePermitsThanCapacity_Throws()
    {
        TokenBucket bucket = new(3, 10);
        TokenBucketState state = bucket.CreateState(0);
        Assert.Throws<ArgumentOutOfRangeException>(() => bucket.Decide(ref state, 0, 4));
    }

    [Fact]
    public void Constructor_ProductBeyondDoublePrecision_Throws()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new TokenBucket(1L << 30, 1L << 30));
    }
}
