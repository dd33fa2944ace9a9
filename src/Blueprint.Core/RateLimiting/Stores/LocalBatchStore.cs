using System.Collections.Concurrent;

namespace Blueprint.Core.RateLimiting.Stores;

/// <summary>
/// Approximate local-batch mode: a node reserves <c>batch</c> permits from the exact store in one
/// round trip and hands them out locally, so a busy key costs about one round trip per batch instead
/// of one per request.
/// </summary>
/// <remarks>
/// Error bound, per key with <c>n</c> nodes: every permit admitted was granted by the exact store,
/// so the total never exceeds the exact limit; but a permit reserved in one window may be spent in a
/// later one (at most a reservation's lifetime later), so any window can see up to <c>n × batch</c>
/// more than the exact limit allows in it, and up to <c>n × batch</c> reserved permits can expire
/// unused (under-admission). The batch size follows what the exact store last reported as left, so
/// at saturation a node asks for single permits (batching cannot beat the refill rate) and a refusal
/// is remembered until its retry-after, which is where the round trips are saved then.
/// </remarks>
public sealed class LocalBatchStore(IRateLimitStore exact, TimeProvider timeProvider, int keysMax) : IRateLimitStore
{
    private readonly ConcurrentDictionary<string, Reserve> _reserves = new(StringComparer.Ordinal);

    /// <summary>How many decisions went to the exact store (for the round-trip measurement).</summary>
    public long RoundTrips => Interlocked.Read(ref _roundTrips);

    private long _roundTrips;

    /// <summary>The batch size, in permits, for <paramref name="limit"/>: a tenth of the burst, at least 1 and at most 100.</summary>
    public static int BatchPermits(LimitSpec limit)
    {
        ArgumentNullException.ThrowIfNull(limit);
        return (int)Math.Clamp(limit.HitsMax / 10, 1, BatchPermitsMax);
    }

    /// <summary>The largest batch one node reserves.</summary>
    public const int BatchPermitsMax = 100;

    /// <inheritdoc />
    public async ValueTask<RateLimitOutcome> DecideAsync(string key, LimitSpec limit, int hits, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(limit);
        var now = timeProvider.GetTimestamp();
        if (_reserves.Count >= keysMax && !_reserves.ContainsKey(key))
        {
            _reserves.Clear();
        }

        var reserve = _reserves.GetOrAdd(key, static _ => new Reserve());
        lock (reserve)
        {
            // A denial is remembered until its retry-after: a storm of refused requests costs nothing.
            if (hits > 0 && reserve.DeniedUntil > now)
            {
                return new RateLimitOutcome(false, 0, timeProvider.GetElapsedTime(now, reserve.DeniedUntil), TimeSpan.Zero);
            }

            if (reserve.Permits >= hits && timeProvider.GetElapsedTime(reserve.ReservedAt, now) < Lifetime(limit))
            {
                reserve.Permits -= hits;
                return new RateLimitOutcome(true, reserve.Permits, TimeSpan.Zero, TimeSpan.Zero);
            }
        }

        // Ask for a batch sized by what the exact store last said was left: a full batch while
        // there is headroom, a single request at saturation (where a batch would only be refused).
        int want;
        lock (reserve)
        {
            want = (int)Math.Clamp(reserve.LastRemaining, hits, Math.Max(hits, BatchPermits(limit)));
        }

        Interlocked.Increment(ref _roundTrips);
        var outcome = await exact.DecideAsync(key, limit, want, cancellationToken).ConfigureAwait(false);
        if (!outcome.Allowed && want > hits && outcome.RemainingPermits >= hits)
        {
            // The batch was too big for what is left: take what is left instead.
            want = (int)Math.Min(outcome.RemainingPermits, want);
            Interlocked.Increment(ref _roundTrips);
            outcome = await exact.DecideAsync(key, limit, want, cancellationToken).ConfigureAwait(false);
        }

        lock (reserve)
        {
            reserve.LastRemaining = outcome.RemainingPermits;
            if (outcome.Allowed)
            {
                reserve.Permits = want - hits;
                reserve.ReservedAt = now;
            }
            else if (hits > 0)
            {
                reserve.DeniedUntil = now + (long)(outcome.RetryAfter.TotalSeconds * timeProvider.TimestampFrequency);
            }
        }

        return outcome.Allowed ? outcome with { RemainingPermits = outcome.RemainingPermits + want - hits } : outcome;
    }

    // A reservation lives as long as the limit takes to grant one batch, within [100 ms, 1 s]: long
    // enough that a fast limit's batches are used before they lapse, short enough that stale permits
    // cannot pile up across windows (the error bound is one batch per node per lifetime).
    private static TimeSpan Lifetime(LimitSpec limit) => TimeSpan.FromMicroseconds(Math.Clamp(
        limit.MicrosecondsPerPermit * (double)BatchPermits(limit),
        ReservationLifetimeMin.TotalMicroseconds,
        ReservationLifetimeMax.TotalMicroseconds));

    /// <summary>The shortest time a reservation may be spent in.</summary>
    public static readonly TimeSpan ReservationLifetimeMin = TimeSpan.FromMilliseconds(100);

    /// <summary>The longest time a reservation may be spent in.</summary>
    public static readonly TimeSpan ReservationLifetimeMax = TimeSpan.FromSeconds(1);

    private sealed class Reserve
    {
        public long Permits { get; set; }

        public long ReservedAt { get; set; }

        public long DeniedUntil { get; set; }

        public long LastRemaining { get; set; } = BatchPermitsMax;
    }
}
