using Blueprint.Core.RateLimiting;

namespace Blueprint.Core.Tests.RateLimiting;

public sealed class WindowTests
{
    [Fact]
    public void FixedWindow_BurstAcrossBoundary_AdmitsTwiceTheLimitWithinTwoTicks()
    {
        FixedWindow limiter = new(100, 1000);
        FixedWindowState state = limiter.CreateState(0);
        int admitted = 0;
        for (int i = 0; i < 150; i++)
        {
            admitted += limiter.Decide(ref state, 999, 1).Allowed ? 1 : 0;
        }

        for (int i = 0; i < 150; i++)
        {
            admitted += limiter.Decide(ref state, 1000, 1).Allowed ? 1 : 0;
        }

        Assert.Equal(200, admitted);
    }

    [Fact]
    public void SlidingLog_AnyTrace_NeverAdmitsMoreThanTheLimitInAnyWindow()
    {
        Gen.Select(Traces.Bursty, Gen.Int[3, 10], Gen.Int[20, 200]).Sample(t =>
        {
            ((long Ticks, int Permits)[] trace, int limit, int window) = t;
            trace = [.. trace.Select(a => (a.Ticks, Math.Min(a.Permits, limit)))];
            RateLimitDecision[] decisions = Traces.Replay(new SlidingLog(limit, window), trace);

            // The window is (now − W, now], so any closed interval of length W − 1 lies inside one.
            Assert.True(Traces.MaxAdmittedWithin(trace, decisions, window - 1) <= limit);
        }, iter: 200);
    }

    [Fact]
    public void SlidingLog_AnyTrace_DecidesExactlyLikeTheDefinition()
    {
        Gen.Select(Traces.Bursty, Gen.Int[3, 10], Gen.Int[20, 200]).Sample(t =>
        {
            ((long Ticks, int Permits)[] trace, int limit, int window) = t;
            trace = [.. trace.Select(a => (a.Ticks, Math.Min(a.Permits, limit)))];
            RateLimitDecision[] decisions = Traces.Replay(new SlidingLog(limit, window), trace);
            for (int i = 0; i < trace.Length; i++)
            {
                long inWindow = 0;
                for (int j = 0; j < i; j++)
                {
                    inWindow += decisions[j].Allowed && trace[j].Ticks > trace[i].Ticks - window ? trace[j].Permits : 0;
                }

                Assert.Equal(inWindow + trace[i].Permits <= limit, decisions[i].Allowed);
            }
        }, iter: 200);
    }

    [Fact]
    public void SlidingLogState_RestoredFromItsArray_DecidesTheSame()
    {
        SlidingLog log = new(5, 100);
        SlidingLogState state = log.CreateState(0);
        foreach (long t in new long[] { 0, 10, 20, 30 })
        {
            _ = log.Decide(ref state, t, 1);
        }

        SlidingLogState restored = new(5, state.ToArray());
        Assert.Equal([0, 10, 20, 30], restored.ToArray());
        Assert.Equal(log.Decide(ref state, 40, 2), log.Decide(ref restored, 40, 2));
        Assert.Equal(log.Decide(ref state, 105, 2), log.Decide(ref restored, 105, 2));
    }

    [Fact]
    public void SlidingWindowCounter_HalfwayThroughWindow_WeighsPreviousWindowByHalf()
    {
        SlidingWindowCounter limiter = new(10, 100);
        SlidingWindowCounterState state = limiter.CreateState(0);
        _ = limiter.Decide(ref state, 0, 10);

        // At 150 the previous window counts 10 · 50/100 = 5, so 5 more fit and the 6th does not.
        RateLimitDecision granted = limiter.Decide(ref state, 150, 5);
        RateLimitDecision denied = limiter.Decide(ref state, 150, 1);
        Assert.True(granted.Allowed);
        Assert.Equal(0, granted.RemainingPermits);
        Assert.False(denied.Allowed);
        Assert.Equal(10, denied.RetryAfterTicks);
    }

    [Fact]
    public void SlidingWindowCounter_SkippedWindow_ForgetsOldCounts()
    {
        SlidingWindowCounter limiter = new(10, 100);
        SlidingWindowCounterState state = limiter.CreateState(0);
        _ = limiter.Decide(ref state, 0, 10);
        RateLimitDecision decision = limiter.Decide(ref state, 250, 10);
        Assert.True(decision.Allowed);
        Assert.Equal(new SlidingWindowCounterState(200, 10, 0), state);
    }

    [Fact]
    public void LeakyBucketShaper_AnyTrace_StartsNeverFasterThanTheRate()
    {
        Gen.Select(Traces.Bursty, Gen.Int[3, 10], Gen.Int[2, 20]).Sample(t =>
        {
            ((long Ticks, int Permits)[] trace, int queue, int interval) = t;
            trace = [.. trace.Select(a => (a.Ticks, Math.Min(a.Permits, queue)))];
            RateLimitDecision[] decisions = Traces.Replay(new LeakyBucketShaper(queue, interval), trace);
            long previousEnd = long.MinValue;
            for (int i = 0; i < trace.Length; i++)
            {
                if (!decisions[i].Allowed)
                {
                    continue;
                }

                long start = trace[i].Ticks + decisions[i].DelayTicks;
                Assert.True(start >= previousEnd, $"request {i} starts at {start} before the previous finished at {previousEnd}");
                Assert.True(decisions[i].DelayTicks <= (queue - trace[i].Permits) * (long)interval);
                previousEnd = start + (trace[i].Permits * (long)interval);
            }
        }, iter: 200);
    }

    [Fact]
    public void LeakyBucketShaper_BurstOfFive_QueuesThemOneIntervalApart()
    {
        LeakyBucketShaper shaper = new(3, 10);
        LeakyBucketShaperState state = shaper.CreateState(0);
        long[] delays = [.. Enumerable.Range(0, 5).Select(_ => shaper.Decide(ref state, 0, 1)).Where(d => d.Allowed).Select(d => d.DelayTicks)];
        Assert.Equal([0, 10, 20], delays);
    }
}
