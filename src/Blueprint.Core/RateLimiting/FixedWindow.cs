namespace Blueprint.Core.RateLimiting;

/// <summary>
/// Fixed window counter: at most <see cref="LimitPermits"/> per aligned window <c>[k·W, (k+1)·W)</c>. Cheap (two
/// integers) but a client can spend a full window's limit just before a boundary and another just after, so up to
/// 2× the limit passes in an interval of length W.
/// </summary>
/// <param name="LimitPermits">Permits per window.</param>
/// <param name="WindowTicks">The window length.</param>
public sealed record FixedWindow(long LimitPermits, long WindowTicks) : IRateLimitAlgorithm<FixedWindowState>
{
    /// <summary>Gets the permits per window.</summary>
    public long LimitPermits { get; } = Checked(LimitPermits, WindowTicks);

    /// <inheritdoc/>
    public FixedWindowState CreateState(long nowTicks) => new(Guard.FloorToWindow(nowTicks, WindowTicks), 0, nowTicks);

    /// <inheritdoc/>
    public RateLimitDecision Decide(ref FixedWindowState state, long nowTicks, int permits)
    {
        Guard.Permits(permits, LimitPermits);
        long now = Math.Max(nowTicks, state.LastTicks);
        long windowStart = Math.Max(Guard.FloorToWindow(now, WindowTicks), state.WindowStartTicks);
        now = Math.Max(now, windowStart);
        long count = windowStart == state.WindowStartTicks ? state.CountPermits : 0;
        bool allowed = count + permits <= LimitPermits;
        if (allowed)
        {
            count += permits;
        }

        state = new FixedWindowState(windowStart, count, now);
        long untilNextWindow = windowStart + WindowTicks - now;
        return new RateLimitDecision(allowed, LimitPermits - count, allowed ? 0 : untilNextWindow, count == 0 ? 0 : untilNextWindow);
    }

    private static long Checked(long limitPermits, long windowTicks)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(limitPermits, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(windowTicks, 1);
        Guard.Window(windowTicks);
        return limitPermits;
    }
}

/// <summary>The state of a <see cref="FixedWindow"/>.</summary>
/// <param name="WindowStartTicks">The start of the current window.</param>
/// <param name="CountPermits">Permits granted in it.</param>
/// <param name="LastTicks">The latest time a decision was made at; an earlier timestamp is treated as this one.</param>
public readonly record struct FixedWindowState(long WindowStartTicks, long CountPermits, long LastTicks);
