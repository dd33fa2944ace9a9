namespace Blueprint.Core.RateLimiting;

/// <summary>
/// The generic cell rate algorithm, virtual-scheduling form (ATM Forum Traffic Management 4.0, 1996; as described
/// for HTTP APIs by Brandur Leach, "Rate limiting, cells, and GCRA", 2015). The only state is the theoretical
/// arrival time (TAT): a request is admitted when <c>max(TAT, now) + permits·T − now ≤ burst·T</c>.
/// One integer of state and no refill loop, and it admits exactly what a <see cref="TokenBucket"/> with the same
/// capacity and rate admits.
/// </summary>
/// <param name="BurstPermits">The largest burst (the token-bucket capacity).</param>
/// <param name="TicksPerPermit">The emission interval T (the inverse of the rate).</param>
public sealed record Gcra(long BurstPermits, long TicksPerPermit) : IRateLimitAlgorithm<GcraState>
{
    /// <summary>Gets the largest burst.</summary>
    public long BurstPermits { get; } = Checked(BurstPermits, TicksPerPermit);

    /// <summary>Gets the delay-variation tolerance plus one interval: how far TAT may run ahead of now, <c>BurstPermits × T</c>.</summary>
    public long ToleranceTicksMax => BurstPermits * TicksPerPermit;

    /// <inheritdoc/>
    public GcraState CreateState(long nowTicks) => new(nowTicks, nowTicks);

    /// <inheritdoc/>
    public RateLimitDecision Decide(ref GcraState state, long nowTicks, int permits)
    {
        Guard.Permits(permits, BurstPermits);

        // TAT alone cannot tell that time went backwards, so the last time seen is kept to act on the later one.
        long now = Math.Max(nowTicks, state.LastTicks);
        long tat = Math.Max(state.TatTicks, now);
        long newTat = tat + (permits * TicksPerPermit);
        long ahead = newTat - now;
        bool allowed = ahead <= ToleranceTicksMax;
        state = new GcraState(allowed ? newTat : state.TatTicks, now);
        long finalAhead = Math.Max(0, (allowed ? newTat : tat) - now);
        return new RateLimitDecision(
            allowed,
            (ToleranceTicksMax - finalAhead) / TicksPerPermit,
            allowed ? 0 : ahead - ToleranceTicksMax,
            finalAhead);
    }

    private static long Checked(long burstPermits, long ticksPerPermit)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(burstPermits, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(ticksPerPermit, 1);
        Guard.Product(burstPermits, ticksPerPermit, nameof(BurstPermits));
        return burstPermits;
    }
}

/// <summary>The state of a <see cref="Gcra"/>.</summary>
/// <param name="TatTicks">The theoretical arrival time of the next permit.</param>
/// <param name="LastTicks">The latest time a decision was made at; an earlier timestamp is treated as this one.</param>
public readonly record struct GcraState(long TatTicks, long LastTicks);
