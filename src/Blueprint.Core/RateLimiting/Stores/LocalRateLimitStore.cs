using System.Collections.Concurrent;

namespace Blueprint.Core.RateLimiting.Stores;

/// <summary>
/// Decides in this process with the pure cores: the per-node fallback while the KV is unreachable,
/// and the "local limits" baseline that distributed limits are compared with. Keys are bounded by
/// <c>keysMax</c>; when full, every key is forgotten at once (an over-admission, never a leak).
/// </summary>
public sealed class LocalRateLimitStore(TimeProvider timeProvider, int keysMax) : IRateLimitStore
{
    private readonly ConcurrentDictionary<string, Entry> _entries = new(StringComparer.Ordinal);
    private readonly long _origin = timeProvider.GetTimestamp();

    /// <summary>How many keys are tracked.</summary>
    public int Count => _entries.Count;

    /// <inheritdoc />
    public ValueTask<RateLimitOutcome> DecideAsync(string key, LimitSpec limit, int hits, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(limit);
        ArgumentOutOfRangeException.ThrowIfNegative(hits);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(hits, limit.HitsMax);
        var now = (long)timeProvider.GetElapsedTime(_origin).TotalMicroseconds;
        if (_entries.Count >= keysMax && !_entries.ContainsKey(key))
        {
            _entries.Clear();
        }

        var entry = _entries.GetOrAdd(key, static (_, state) => new Entry(state.limit, state.now), (limit, now));
        RateLimitDecision decision;
        lock (entry)
        {
            if (entry.Limit != limit)
            {
                entry.Reset(limit, now);
            }

            decision = entry.Decide(now, hits);
        }

        return ValueTask.FromResult(ToOutcome(decision));
    }

    /// <summary>Converts a core decision in microseconds to an outcome.</summary>
    internal static RateLimitOutcome ToOutcome(RateLimitDecision decision) => new(
        decision.Allowed,
        decision.RemainingPermits,
        TimeSpan.FromMicroseconds(decision.RetryAfterTicks),
        TimeSpan.FromMicroseconds(decision.ResetAfterTicks));

    /// <summary>One key's algorithm and state; callers lock it.</summary>
    private sealed class Entry
    {
        private Func<long, int, RateLimitDecision> _decide = null!;

        public Entry(LimitSpec limit, long now)
        {
            Limit = limit;
            Reset(limit, now);
        }

        public LimitSpec Limit { get; private set; }

        public RateLimitDecision Decide(long now, int hits) => _decide(now, hits);

        public void Reset(LimitSpec limit, long now)
        {
            Limit = limit;
            _decide = limit.Algorithm switch
            {
                RateLimitAlgorithm.TokenBucket => Bind(new TokenBucket(limit.EffectiveBurstPermits, limit.MicrosecondsPerPermit), now),
                RateLimitAlgorithm.Gcra => Bind(new Gcra(limit.EffectiveBurstPermits, limit.MicrosecondsPerPermit), now),
                RateLimitAlgorithm.LeakyBucket => Bind(new LeakyBucketMeter(limit.EffectiveBurstPermits, limit.MicrosecondsPerPermit), now),
                RateLimitAlgorithm.FixedWindow => Bind(new FixedWindow(limit.RequestsPerUnit, limit.UnitMicroseconds), now),
                RateLimitAlgorithm.SlidingWindowCounter => Bind(new SlidingWindowCounter(limit.RequestsPerUnit, limit.UnitMicroseconds), now),
                RateLimitAlgorithm.SlidingLog => Bind(new SlidingLog(checked((int)limit.RequestsPerUnit), limit.UnitMicroseconds), now),
                _ => throw new ArgumentOutOfRangeException(nameof(limit), limit.Algorithm, "unknown algorithm"),
            };
        }

        private static Func<long, int, RateLimitDecision> Bind<TState>(IRateLimitAlgorithm<TState> algorithm, long now)
        {
            var state = algorithm.CreateState(now);
            return (time, hits) => algorithm.Decide(ref state, time, hits);
        }
    }
}
