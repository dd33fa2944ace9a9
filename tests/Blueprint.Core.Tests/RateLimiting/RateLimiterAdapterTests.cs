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

    [Fact]
    public void LeakyBucketRateLimiter_AttemptRolledBack_StatisticsAndIdleDurationDescribeTheRestoredQueue()
    {
        FakeTimeProvider time = new();
        using LeakyBucketRateLimiter limiter = new(3, TimeSpan.FromSeconds(1), time);
        Assert.True(limiter.AttemptAcquire().IsAcquired);

        // The second attempt would wait 1 s, so it is refused and its place is given back: one permit (1 s) queued.
        using RateLimitLease refused = limiter.AttemptAcquire();
        Assert.False(refused.IsAcquired);
        RateLimiterStatistics statistics = limiter.GetStatistics()!;
        Assert.Equal(2, statistics.CurrentAvailablePermits);
        Assert.Equal(1, statistics.TotalSuccessfulLeases);
        Assert.Equal(1, statistics.TotalFailedLeases);
        Assert.Null(limiter.IdleDuration);

        time.Advance(TimeSpan.FromMilliseconds(1500));
        Assert.Equal(TimeSpan.FromMilliseconds(500), limiter.IdleDuration);
    }

    [Fact]
    public async Task LeakyBucketRateLimiter_AlreadyCancelled_ThrowsAndTakesNoPlace()
    {
        FakeTimeProvider time = new();
        using LeakyBucketRateLimiter limiter = new(1, TimeSpan.FromSeconds(1), time);
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await limiter.AcquireAsync(1, new CancellationToken(canceled: true)));

        // The queue of one is still empty, so a request that can start now is granted.
        using RateLimitLease lease = limiter.AttemptAcquire();
        Assert.True(lease.IsAcquired);
        Assert.Equal(0, limiter.GetStatistics()!.CurrentAvailablePermits);
    }

    [Fact]
    public async Task LeakyBucketRateLimiter_CancelledWhileLastInQueue_GivesThePlaceBack()
    {
        FakeTimeProvider time = new();
        using LeakyBucketRateLimiter limiter = new(3, TimeSpan.FromSeconds(1), time);
        Assert.True(limiter.AttemptAcquire().IsAcquired);
        using CancellationTokenSource cancellation = new();
        ValueTask<RateLimitLease> waiting = limiter.AcquireAsync(1, cancellation.Token);
        Assert.False(waiting.IsCompleted);
        Assert.Equal(1, limiter.GetStatistics()!.CurrentAvailablePermits);

        await cancellation.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await waiting);

        // Only the first permit is queued again: the next caller waits 1 s, not 2 s.
        Assert.Equal(2, limiter.GetStatistics()!.CurrentAvailablePermits);
        using RateLimitLease refused = limiter.AttemptAcquire();
        Assert.Equal(TimeSpan.FromSeconds(1), RetryAfterOf(refused));
    }

    [Fact]
    public async Task LeakyBucketRateLimiter_CancelledWithOthersBehind_KeepsTheirStartTimes()
    {
        FakeTimeProvider time = new();
        using LeakyBucketRateLimiter limiter = new(3, TimeSpan.FromSeconds(1), time);
        Assert.True(limiter.AttemptAcquire().IsAcquired);
        using CancellationTokenSource cancellation = new();
        ValueTask<RateLimitLease> cancelled = limiter.AcquireAsync(1, cancellation.Token);
        ValueTask<RateLimitLease> behind = limiter.AcquireAsync(1, TestContext.Current.CancellationToken);
        await cancellation.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await cancelled);

        // The caller behind was promised a start at 2 s; the queue still holds all three permits.
        Assert.Equal(0, limiter.GetStatistics()!.CurrentAvailablePermits);
        time.Advance(TimeSpan.FromMilliseconds(1999));
        Assert.False(behind.IsCompleted);
        time.Advance(TimeSpan.FromMilliseconds(1));
        using RateLimitLease lease = await behind;
        Assert.True(lease.IsAcquired);
    }
}
