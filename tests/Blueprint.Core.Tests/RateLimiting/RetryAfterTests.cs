using Blueprint.Core.RateLimiting;

namespace Blueprint.Core.Tests.RateLimiting;

public sealed class RetryAfterTests
{
    /// <summary>After a denial, the same request is still denied one tick before RetryAfter and granted at RetryAfter.</summary>
    private static void AssertRetryAfterIsExact<TState>(IRateLimitAlgorithm<TState> algorithm, (long Ticks, int Permits)[] trace, Func<TState, TState> copy)
    {
        TState state = algorithm.CreateState(0);
        foreach ((long ticks, int permits) in trace)
        {
            TState before = copy(state);
            RateLimitDecision decision = algorithm.Decide(ref state, ticks, permits);
            if (decision.Allowed)
            {
                continue;
            }

            Assert.True(decision.RetryAfterTicks > 0);
            TState atRetry = copy(before);
            Assert.True(algorithm.Decide(ref atRetry, ticks + decision.RetryAfterTicks, permits).Allowed, $"denied at retry-after {decision.RetryAfterTicks}");
            TState early = copy(before);
            Assert.False(algorithm.Decide(ref early, ticks + decision.RetryAfterTicks - 1, permits).Allowed, "granted before retry-after");
        }
    }

    private static (long Ticks, int Permits)[] Clamp((long Ticks, int Permits)[] trace, int limit) => [.. trace.Select(a => (a.Ticks, Math.Min(a.Permits, limit)))];

    [Fact]
    public void TokenBucket_Denial_RetryAfterIsExact()
    {
        Gen.Select(Traces.Bursty, Gen.Int[3, 8], Gen.Int[2, 20]).Sample(t =>
            AssertRetryAfterIsExact(new TokenBucket(t.Item2, t.Item3), Clamp(t.Item1, t.Item2), static s => s), iter: 150);
    }

    [Fact]
    public void Gcra_Denial_RetryAfterIsExact()
    {
        Gen.Select(Traces.Bursty, Gen.Int[3, 8], Gen.Int[2, 20]).Sample(t =>
            AssertRetryAfterIsExact(new Gcra(t.Item2, t.Item3), Clamp(t.Item1, t.Item2), static s => s), iter: 150);
    }

    [Fact]
    public void FixedWindow_Denial_RetryAfterIsExact()
    {
        Gen.Select(Traces.Bursty, Gen.Int[3, 8], Gen.Int[20, 200]).Sample(t =>
            AssertRetryAfterIsExact(new FixedWindow(t.Item2, t.Item3), Clamp(t.Item1, t.Item2), static s => s), iter: 150);
    }

    [Fact]
    public void SlidingWindowCounter_Denial_RetryAfterIsExact()
    {
        Gen.Select(Traces.Bursty, Gen.Int[3, 8], Gen.Int[20, 200]).Sample(t =>
            AssertRetryAfterIsExact(new SlidingWindowCounter(t.Item2, t.Item3), Clamp(t.Item1, t.Item2), static s => s), iter: 150);
    }

    [Fact]
    public void SlidingLog_Denial_RetryAfterIsExact()
    {
        Gen.Select(Traces.Bursty, Gen.Int[3, 8], Gen.Int[20, 200]).Sample(t =>
            AssertRetryAfterIsExact(new SlidingLog(t.Item2, t.Item3), Clamp(t.Item1, t.Item2), s => new SlidingLogState(s.CapacityPermits, s.ToArray(), s.LastTicks)), iter: 150);
    }

    [Fact]
    public void LeakyBucketShaper_Denial_RetryAfterIsExact()
    {
        Gen.Select(Traces.Bursty, Gen.Int[3, 8], Gen.Int[2, 20]).Sample(t =>
            AssertRetryAfterIsExact(new LeakyBucketShaper(t.Item2, t.Item3), Clamp(t.Item1, t.Item2), static s => s), iter: 150);
    }
}
