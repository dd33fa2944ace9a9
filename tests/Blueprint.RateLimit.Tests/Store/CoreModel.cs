using Blueprint.Core.RateLimiting;
using Blueprint.Core.RateLimiting.Stores;

namespace Blueprint.RateLimit.Tests.Store;

/// <summary>
/// The pure core for a <see cref="LimitSpec"/>, with its state held here, in microseconds: what every script must
/// reproduce decision for decision. The mapping is written out independently of the store's.
/// </summary>
internal sealed class CoreModel
{
    private readonly Func<long, int, RateLimitDecision> _decide;

    private CoreModel(Func<long, int, RateLimitDecision> decide) => _decide = decide;

    public RateLimitDecision Decide(long nowMicroseconds, int permits) => _decide(nowMicroseconds, permits);

    /// <summary>The core for <paramref name="limit"/>, starting at <paramref name="startMicroseconds"/>; <paramref name="skew"/> is added to its size (to show a wrong model is caught).</summary>
    public static CoreModel For(LimitSpec limit, long startMicroseconds, long skew = 0)
    {
        long interval = limit.MicrosecondsPerPermit;
        long burst = limit.EffectiveBurstPermits + skew;
        long count = limit.RequestsPerUnit + skew;
        long window = limit.UnitMicroseconds;
        switch (limit.Algorithm)
        {
            case RateLimitAlgorithm.TokenBucket:
                {
                    var core = new TokenBucket(burst, interval);
                    var state = core.CreateState(startMicroseconds);
                    return new CoreModel((now, permits) => core.Decide(ref state, now, permits));
                }

            case RateLimitAlgorithm.Gcra:
                {
                    var core = new Gcra(burst, interval);
                    var state = core.CreateState(startMicroseconds);
                    return new CoreModel((now, permits) => core.Decide(ref state, now, permits));
                }

            case RateLimitAlgorithm.LeakyBucket:
                {
                    var core = new LeakyBucketMeter(burst, interval);
                    var state = core.CreateState(startMicroseconds);
                    return new CoreModel((now, permits) => core.Decide(ref state, now, permits));
                }

            case RateLimitAlgorithm.SlidingWindowCounter:
                {
                    var core = new SlidingWindowCounter(count, window);
                    var state = core.CreateState(startMicroseconds);
                    return new CoreModel((now, permits) => core.Decide(ref state, now, permits));
                }

            case RateLimitAlgorithm.SlidingLog:
                {
                    var core = new SlidingLog(checked((int)count), window);
                    var state = core.CreateState(startMicroseconds);
                    return new CoreModel((now, permits) => core.Decide(ref state, now, permits));
                }

            case RateLimitAlgorithm.FixedWindow:
                {
                    var core = new FixedWindow(count, window);
                    var state = core.CreateState(startMicroseconds);
                    return new CoreModel((now, permits) => core.Decide(ref state, now, permits));
                }

            default:
                throw new ArgumentOutOfRangeException(nameof(limit));
        }
    }
}
