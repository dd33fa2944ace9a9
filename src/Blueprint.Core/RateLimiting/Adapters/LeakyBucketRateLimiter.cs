using System.Threading.RateLimiting;

using Blueprint.Core.RateLimiting;

namespace Blueprint.Core.RateLimiting.Adapters;

/// <summary>
/// A <see cref="RateLimiter"/> running the <see cref="LeakyBucketShaper"/>; the framework has no leaky bucket.
/// <see cref="RateLimiter.AttemptAcquire"/> succeeds only when the request can start now;
/// <see cref="RateLimiter.AcquireAsync"/> takes a place in the queue and completes when the request reaches its head.
/// </summary>
/// <param name="queueCapacityPermits">Permits that may wait.</param>
/// <param name="leakInterval">The time per permit (the inverse of the rate).</param>
/// <param name="timeProvider">The clock; the wait uses it too.</param>
public sealed class LeakyBucketRateLimiter(long queueCapacityPermits, TimeSpan leakInterval, TimeProvider timeProvider)
    : AlgorithmRateLimiter<LeakyBucketShaperState>(new LeakyBucketShaper(queueCapacityPermits, leakInterval.Ticks), timeProvider)
{
    /// <inheritdoc/>
    protected override async ValueTask<RateLimitLease> AcquireAsyncCore(int permitCount, CancellationToken cancellationToken)
    {
        RateLimitDecision decision = Decide(permitCount, commitDelayed: true);
        if (decision.Allowed && decision.DelayTicks > 0)
        {
            await Task.Delay(TimeSpan.FromTicks(decision.DelayTicks), TimeProvider, cancellationToken).ConfigureAwait(false);
        }

        return new DecisionLease(decision.Allowed, TimeSpan.FromTicks(decision.RetryAfterTicks));
    }
}
