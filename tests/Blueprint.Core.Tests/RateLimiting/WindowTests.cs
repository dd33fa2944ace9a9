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
        Assert.Equal(new SlidingWindowCounterState(200, 10, 0, 250), state);
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

    [Fact]
    public void SlidingLog_LimitAboveLimitPermitsMax_ThrowsNamingTheLimit()
    {
        Assert.Equal(100_000, SlidingLog.LimitPermitsMax);
        ArgumentOutOfRangeException error = Assert.Throws<ArgumentOutOfRangeException>(() => new SlidingLog(int.MaxValue, 10));
        Assert.Contains("LimitPermitsMax", error.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentOutOfRangeException>(() => new SlidingLog(SlidingLog.LimitPermitsMax + 1, 10));
        Assert.Throws<ArgumentOutOfRangeException>(() => new SlidingLogState(SlidingLog.LimitPermitsMax + 1));
    }

    [Fact]
    public void SlidingLog_AtLimitPermitsMax_GrowsItsLogAsPermitsAreGranted()
    {
        SlidingLog log = new(SlidingLog.LimitPermitsMax, 1000);
        SlidingLogState state = log.CreateState(0);
        for (int t = 0; t < 40; t++)
        {
            Assert.True(log.Decide(ref state, t, 1).Allowed);
        }

        Assert.Equal(Enumerable.Range(0, 40).Select(t => (long)t), state.ToArray());
        Assert.Equal(SlidingLog.LimitPermitsMax - 40, log.Decide(ref state, 40, 0).RemainingPermits);
    }

    [Fact]
    public void SlidingLog_LimitsAboveTheInitialBuffer_DecideExactlyLikeTheDefinition()
    {
        // Dense traces fill logs of 17–60 entries, so the buffer grows while its head has already moved.
        Gen<(long Ticks, int Permits)[]> dense = Gen.Select(Gen.Long[0, 3], Gen.Int[1, 3]).Array[1, 300].Select(static steps =>
        {
            long now = 0;
            return steps.Select(s => (now += s.Item1, s.Item2)).ToArray();
        });
        Gen.Select(dense, Gen.Int[17, 60], Gen.Int[5, 80]).Sample(t =>
        {
            ((long Ticks, int Permits)[] trace, int limit, int window) = t;
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
        }, iter: 100);
    }

    [Fact]
    public void Windows_LongerThanWindowTicksMax_ThrowOutOfRangeNamingTheLimit()
    {
        ArgumentOutOfRangeException error = Assert.Throws<ArgumentOutOfRangeException>(() => new FixedWindow(1, long.MaxValue));
        Assert.Contains("WindowTicksMax", error.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentOutOfRangeException>(() => new FixedWindow(1, (1L << 53) + 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => new SlidingLog(1, long.MaxValue));
    }

    [Fact]
    public void FixedWindow_LongestWindow_FloorsNegativeAndPositiveTimes()
    {
        const long Window = 1L << 53;
        FixedWindow limiter = new(1, Window);
        Assert.Equal(-Window, limiter.CreateState(-1).WindowStartTicks);
        Assert.Equal(Window, limiter.CreateState(Window + 7).WindowStartTicks);
        FixedWindowState state = limiter.CreateState(0);
        Assert.Equal(new RateLimitDecision(true, 0, 0, Window - 5), limiter.Decide(ref state, 5, 1));
    }
}
