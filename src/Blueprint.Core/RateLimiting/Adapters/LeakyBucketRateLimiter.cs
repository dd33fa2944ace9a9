using System.Threading.RateLimiting;

using Blueprint.Core.RateLimiting;

namespace Blueprint.Core.RateLimiting.Adapters;

/// <summary>
/// A <see cref="RateLimiter"/> running the <see cref="LeakyBucketShaper"/>; the framework has no leaky bucket.
/// <see cref="RateLimiter.AttemptAcquire"/> succeeds only when the request can start now;
/// <see cref="RateLimiter.AcquireAsync"/> takes a place in the queue and completes when the request reaches its head.
/// </summary>
/// <remarks>
/// A caller cancelled before it decides takes no place. A caller cancelled while waiting gives its place back when it
/// is still the last in the queue; when others have queued behind it, their start times are already promised, so the
/// place stays used and the queue drains that much later.
/// </remarks>
/// <param name="queueCapacityPermits">Permits that may wait.</param>
/// <param name="leakInterval">The time per permit (the inverse of the rate).</param>
/// <param name="timeProvider">The clock; the wait uses it too.</param>
public sealed class LeakyBucketRateLimiter(long queueCapacityPermits, TimeSpan leakInterval, TimeProvider timeProvider)
    : AlgorithmRateLimiter<LeakyBucketShaperState>(new LeakyBucketShaper(queueCapacityPermits, leakInterval.Ticks), timeProvider)
{
    /// <inheritdoc/>
    protected override async ValueTask<RateLimitLease> AcquireAsyncCore(int permitCount, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        RateLimitDecision decision = Decide(permitCount, commitDelayed: true, out LeakyBucketShaperState queued);
        if (decision.Allowed && decision.DelayTicks > 0)
        {
            try
            {
                await Task.Delay(TimeSpan.FromTicks(decision.DelayTicks), TimeProvider, cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                long workTicks = permitCount * leakInterval.Ticks;
                RewriteState(state => state.NextFreeTicks == queued.NextFreeTicks ? state with { NextFreeTicks = state.NextFreeTicks - workTicks } : state);
                throw;
            }
        }

        return new DecisionLease(decision.Allowed, TimeSpan.FromTicks(decision.RetryAfterTicks));
    }
}
