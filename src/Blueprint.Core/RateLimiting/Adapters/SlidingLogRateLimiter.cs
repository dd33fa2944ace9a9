using Blueprint.Core.RateLimiting;

namespace Blueprint.Core.RateLimiting.Adapters;

/// <summary>
/// A <see cref="System.Threading.RateLimiting.RateLimiter"/> running the exact <see cref="SlidingLog"/>; the
/// framework's sliding window limiter is segmented (an approximation).
/// </summary>
/// <param name="limitPermits">Permits per window.</param>
/// <param name="window">The window length.</param>
/// <param name="timeProvider">The clock.</param>
public sealed class SlidingLogRateLimiter(int limitPermits, TimeSpan window, TimeProvider timeProvider)
    : AlgorithmRateLimiter<SlidingLogState>(new SlidingLog(limitPermits, window.Ticks), timeProvider);
