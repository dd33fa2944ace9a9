namespace Blueprint.Core.RateLimiting.Stores;

/// <summary>The algorithms a limit can use; each has a pure core in <c>Blueprint.Core.RateLimiting</c> and a Lua script on the KV.</summary>
public enum RateLimitAlgorithm
{
    /// <summary>Token bucket: bursts up to <see cref="LimitSpec.BurstPermits"/>, then the rate.</summary>
    TokenBucket,

    /// <summary>Generic cell rate algorithm: the token bucket's decisions with one timestamp of state.</summary>
    Gcra,

    /// <summary>Sliding window counter: the previous window's count weighted by its overlap; approximate, O(1) state.</summary>
    SlidingWindowCounter,

    /// <summary>Sliding window log: one timestamp per admitted request; exact, O(limit) state.</summary>
    SlidingLog,

    /// <summary>Fixed window: a counter per window; admits up to twice the limit across a boundary.</summary>
    FixedWindow,

    /// <summary>Leaky bucket as a meter: the level drains at the rate; a request that would overflow is denied.</summary>
    LeakyBucket,
}

/// <summary>
/// One limit: <see cref="RequestsPerUnit"/> requests per <see cref="Unit"/> with <see cref="Algorithm"/>.
/// Time inside the KV is in microseconds, so the interval per permit is <c>Unit / RequestsPerUnit</c>
/// rounded down to a whole microsecond (an error of at most 1 µs per permit).
/// </summary>
/// <param name="Algorithm">The algorithm.</param>
/// <param name="RequestsPerUnit">The number of requests allowed per unit; at least 1.</param>
/// <param name="Unit">The unit of time (second, minute, hour, day).</param>
/// <param name="BurstPermits">For token bucket, GCRA and leaky bucket, the largest burst; the window algorithms ignore it. 0 means <see cref="RequestsPerUnit"/>.</param>
public sealed record LimitSpec(RateLimitAlgorithm Algorithm, long RequestsPerUnit, TimeSpan Unit, long BurstPermits = 0)
{
    /// <summary>Microseconds per <see cref="Unit"/>.</summary>
    public long UnitMicroseconds => Unit.Ticks / TimeSpan.TicksPerMicrosecond;

    /// <summary>The interval between permits in microseconds, at least 1.</summary>
    public long MicrosecondsPerPermit => Math.Max(1, UnitMicroseconds / RequestsPerUnit);

    /// <summary>The burst actually used: <see cref="BurstPermits"/>, or <see cref="RequestsPerUnit"/> when 0.</summary>
    public long EffectiveBurstPermits => BurstPermits > 0 ? BurstPermits : RequestsPerUnit;

    /// <summary>The largest number of permits one decision may ask for.</summary>
    public long HitsMax => Algorithm is RateLimitAlgorithm.TokenBucket or RateLimitAlgorithm.Gcra or RateLimitAlgorithm.LeakyBucket
        ? EffectiveBurstPermits
        : RequestsPerUnit;
}

/// <summary>The outcome of one decision.</summary>
/// <param name="Allowed">Whether the hits were admitted.</param>
/// <param name="RemainingPermits">Permits that could still be admitted now.</param>
/// <param name="RetryAfter">When denied, how long until the same request would be admitted; zero when allowed.</param>
/// <param name="ResetAfter">How long until the limit is fully available again.</param>
public readonly record struct RateLimitOutcome(bool Allowed, long RemainingPermits, TimeSpan RetryAfter, TimeSpan ResetAfter);

/// <summary>
/// Where decisions are made: atomically, with the state shared by every node that uses the same
/// store. The ratelimit module's KV implementation runs one Lua script per decision (one round trip);
/// the stores here decide in process, without I/O.
/// </summary>
public interface IRateLimitStore
{
    /// <summary>Decides whether <paramref name="hits"/> requests under <paramref name="key"/> are admitted by <paramref name="limit"/>.</summary>
    /// <param name="key">The counter's key (the rule and descriptor values), without the store's prefix.</param>
    /// <param name="limit">The limit.</param>
    /// <param name="hits">How many requests this decision covers; 0 asks without consuming.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    ValueTask<RateLimitOutcome> DecideAsync(string key, LimitSpec limit, int hits, CancellationToken cancellationToken = default);
}
