using Blueprint.Core.RateLimiting;

namespace Blueprint.Core.RateLimiting.Adapters;

/// <summary>A <see cref="System.Threading.RateLimiting.RateLimiter"/> running <see cref="Gcra"/>; the framework has no GCRA.</summary>
/// <param name="burstPermits">The largest burst.</param>
/// <param name="emissionInterval">The time per permit (the inverse of the rate).</param>
/// <param name="timeProvider">The clock.</param>
public sealed class GcraRateLimiter(long burstPermits, TimeSpan emissionInterval, TimeProvider timeProvider)
    : AlgorithmRateLimiter<GcraState>(new Gcra(burstPermits, emissionInterval.Ticks), timeProvider);
