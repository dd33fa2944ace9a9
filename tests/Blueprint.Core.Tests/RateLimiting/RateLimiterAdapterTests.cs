using System.Threading.RateLimiting;

using Blueprint.Core.RateLimiting.Adapters;

using Microsoft.Extensions.Time.Testing;

namespace Blueprint.Core.Tests.RateLimiting;

public sealed class RateLimiterAdapterTests
{
    private static TimeSpan RetryAfterOf(RateLimitLease lease) =>
        lease.TryGetMetadata(MetadataName.RetryAfter, out TimeSpan retryAfter) ? retryAfter : TimeSpan.MinValue;

    [Fact]
    public void GcraRateLimiter_BurstThenWait_GrantsAgainAfterTheInterval()
    {
        FakeTimeProvider time = new();
        using GcraRateLimiter limiter = new(3, TimeSpan.FromSeconds(1), time);
        Assert.All(Enumerable.Range(0, 3), _ => Assert.True(limiter.AttemptAcquire().IsAcquired));
        using RateLimitLease denied = limiter.AttemptAcquire();
        Assert.False(denied.IsAcquired);
        Assert.Equal(TimeSpan.FromSeconds(1), RetryAfterOf(denied));
        time.Advance(TimeSpan.FromSeconds(1));
        Assert.True(limiter.AttemptAcquire().IsAcquired);
        RateLimiterStatistics statistics = limiter.GetStatistics()!;
        Assert.Equal(4, statistics.TotalSuccessfulLeases);
        Assert.Equal(1, statistics.TotalFailedLeases);
    }

    [Fact]
    public void SlidingLogRateLimiter_WindowPasses_ForgetsOldPermits()
    {
        FakeTimeProvider time = new();
        using SlidingLogRateLimiter limiter = new(2, TimeSpan.FromSeconds(10), time);
        Assert.True(limiter.AttemptAcquire().IsAcquired);
        time.Advance(TimeSpan.FromSeconds(4));
        Assert.True(limiter.AttemptAcquire().IsAcquired);
        using RateLimitLease denied = limiter.AttemptAcquire();
        Assert.Equal(TimeSpan.FromSeconds(6), RetryAfterOf(denied));
        time.Advance(TimeSpan.FromSeconds(6));
        Assert.True(limiter.AttemptAcquire().IsAcquired);
        Assert.False(limiter.AttemptAcquire().IsAcquired);
    }

    [Fact]
    public async Task LeakyBucketRateLimiter_AcquireAsync_CompletesWhenItsTurnComes()
    {
        FakeTimeProvider time = new();
        using LeakyBucketRateLimiter limiter = new(3, TimeSpan.FromSeconds(1), time);
        Assert.True(limiter.AttemptAcquire().IsAcquired);

        // AttemptAcquire never waits, so it refuses while the queue is busy and says when it frees up.
        using RateLimitLease refused = limiter.AttemptAcquire();
        Assert.False(refused.IsAcquired);
        Assert.Equal(TimeSpan.FromSeconds(1), RetryAfterOf(refused));

        ValueTask<RateLimitLease> queued = limiter.AcquireAsync(1, TestContext.Current.CancellationToken);
        Assert.False(queued.IsCompleted);
        time.Advance(TimeSpan.FromMilliseconds(999));
        Assert.False(queued.IsCompleted);
        time.Advance(TimeSpan.FromMilliseconds(1));
        using RateLimitLease lease = await queued;
        Assert.True(lease.IsAcquired);
    }

    [Fact]
    public async Task LeakyBucketRateLimiter_QueueFull_FailsWithRetryAfter()
    {
        FakeTimeProvider time = new();
        using LeakyBucketRateLimiter limiter = new(2, TimeSpan.FromSeconds(1), time);
        using RateLimitLease first = await limiter.AcquireAsync(1, TestContext.Current.CancellationToken);
        Task<RateLimitLease> second = limiter.AcquireAsync(1, TestContext.Current.CancellationToken).AsTask();
        using RateLimitLease third = await limiter.AcquireAsync(1, TestContext.Current.CancellationToken);
        Assert.True(first.IsAcquired);
        Assert.False(third.IsAcquired);
        Assert.Equal(TimeSpan.FromSeconds(1), RetryAfterOf(third));
        time.Advance(TimeSpan.FromSeconds(1));
        using RateLimitLease secondLease = await second;
        Assert.True(secondLease.IsAcquired);
    }

    [Fact]
    public void AlgorithmRateLimiter_Disposed_Throws()
    {
        GcraRateLimiter limiter = new(1, TimeSpan.FromSeconds(1), new FakeTimeProvider());
        limiter.Dispose();
        Assert.Throws<ObjectDisposedException>(() => limiter.AttemptAcquire());
    }
}
