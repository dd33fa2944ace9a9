namespace Blueprint.Core.RateLimiting;

/// <summary>
/// Sliding window log: remembers the timestamp of every granted permit in the last W and grants a request only
/// if the window <c>(now − W, now]</c> would then hold at most <see cref="LimitPermits"/>. Exact, at the cost of
/// state proportional to the permits granted in the last W, at most <see cref="LimitPermitsMax"/>.
/// </summary>
/// <param name="LimitPermits">Permits per sliding window.</param>
/// <param name="WindowTicks">The window length.</param>
public sealed record SlidingLog(int LimitPermits, long WindowTicks) : IRateLimitAlgorithm<SlidingLogState>
{
    /// <summary>
    /// The largest limit: the log keeps one timestamp per permit, so this bounds one state at 800 KB.
    /// Larger limits want an approximate algorithm such as <see cref="SlidingWindowCounter"/>.
    /// </summary>
    public const int LimitPermitsMax = 100_000;

    /// <summary>Gets the permits per sliding window.</summary>
    public int LimitPermits { get; } = Checked(LimitPermits, WindowTicks);

    /// <inheritdoc/>
    public SlidingLogState CreateState(long nowTicks) => new(LimitPermits) { LastTicks = nowTicks };

    /// <inheritdoc/>
    public RateLimitDecision Decide(ref SlidingLogState state, long nowTicks, int permits)
    {
        ArgumentNullException.ThrowIfNull(state);
        Guard.Permits(permits, LimitPermits);
        if (state.CapacityPermits != LimitPermits)
        {
            throw new ArgumentException($"The log holds {state.CapacityPermits} entries but the limit is {LimitPermits}.", nameof(state));
        }

        // Granted timestamps alone miss denied and empty-handed decisions, so the last time seen is kept as well.
        long now = Math.Max(nowTicks, state.LastTicks);
        state.LastTicks = now;
        state.ExpireThrough(now - WindowTicks);
        bool allowed = state.Count + permits <= LimitPermits;
        if (allowed)
        {
            for (int i = 0; i < permits; i++)
            {
                state.Append(now);
            }
        }

        // When denied, the (count + permits − limit)-th oldest entry must leave the window first.
        long retryAfter = allowed ? 0 : state.At(state.Count + permits - LimitPermits - 1) + WindowTicks - now;
        long resetAfter = state.Count == 0 ? 0 : state.Newest + WindowTicks - now;
        return new RateLimitDecision(allowed, LimitPermits - state.Count, retryAfter, resetAfter);
    }

    private static int Checked(int limitPermits, long windowTicks)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(limitPermits, 1);
        SlidingLogState.ThrowIfAboveLimitPermitsMax(limitPermits, nameof(LimitPermits));
        ArgumentOutOfRangeException.ThrowIfLessThan(windowTicks, 1);
        Guard.Window(windowTicks);
        return limitPermits;
    }
}
