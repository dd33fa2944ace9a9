namespace Blueprint.Core.RateLimiting;

/// <summary>
/// Token bucket: a bucket of <see cref="CapacityPermits"/> tokens refills continuously at one token per
/// <see cref="TicksPerPermit"/>; a request takes tokens or is denied. It passes a burst of up to the capacity at
/// once, then the refill rate: in any interval of length <c>t</c> it grants at most <c>capacity + t / TicksPerPermit</c>.
/// </summary>
/// <remarks>
/// The level is stored as credit in ticks (tokens × <see cref="TicksPerPermit"/>), so refilling is the exact
/// integer <c>credit + elapsed</c> with no fractional tokens. That makes it decision-for-decision identical to
/// <see cref="Gcra"/> on any monotonic trace.
/// </remarks>
/// <param name="CapacityPermits">The bucket size: the largest burst.</param>
/// <param name="TicksPerPermit">The refill interval per token (the inverse of the rate).</param>
public sealed record TokenBucket(long CapacityPermits, long TicksPerPermit) : IRateLimitAlgorithm<TokenBucketState>
{
    /// <summary>Gets the bucket size: the largest burst.</summary>
    public long CapacityPermits { get; } = Checked(CapacityPermits, TicksPerPermit);

    /// <summary>Gets the full-bucket credit, <c>CapacityPermits × TicksPerPermit</c>.</summary>
    public long CreditTicksMax => CapacityPermits * TicksPerPermit;

    /// <inheritdoc/>
    public TokenBucketState CreateState(long nowTicks) => new(CreditTicksMax, nowTicks);

    /// <inheritdoc/>
    public RateLimitDecision Decide(ref TokenBucketState state, long nowTicks, int permits)
    {
        Guard.Permits(permits, CapacityPermits);
        long now = Math.Max(nowTicks, state.LastTicks);
        long elapsed = now - state.LastTicks;
        long credit = elapsed >= CreditTicksMax - state.CreditTicks ? CreditTicksMax : state.CreditTicks + elapsed;
        long cost = permits * TicksPerPermit;
        bool allowed = credit >= cost;
        if (allowed)
        {
            credit -= cost;
        }

        state = new TokenBucketState(credit, now);
        return new RateLimitDecision(allowed, credit / TicksPerPermit, allowed ? 0 : cost - credit, CreditTicksMax - credit);
    }

    private static long Checked(long capacityPermits, long ticksPerPermit)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacityPermits, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(ticksPerPermit, 1);
        Guard.Product(capacityPermits, ticksPerPermit, nameof(CapacityPermits));
        return capacityPermits;
    }
}

/// <summary>The state of a <see cref="TokenBucket"/>.</summary>
/// <param name="CreditTicks">Tokens held, as ticks of refill (tokens × TicksPerPermit).</param>
/// <param name="LastTicks">The time of the last decision.</param>
public readonly record struct TokenBucketState(long CreditTicks, long LastTicks);
