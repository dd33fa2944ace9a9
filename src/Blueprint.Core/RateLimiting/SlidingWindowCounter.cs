namespace Blueprint.Core.RateLimiting;

/// <summary>
/// Sliding window counter (as popularized by Cloudflare, "How we built rate limiting capable of scaling to
/// millions of domains", 2017): the count over the last W is estimated as
/// <c>previous · (W − elapsed) / W + current</c>, assuming the previous window's requests were spread evenly.
/// Three integers of state; the estimate errs when traffic within a window is uneven.
/// </summary>
/// <remarks>
/// The comparison is done multiplied through by W, <c>previous · (W − elapsed) + (current + permits) · W ≤ limit · W</c>,
/// so it is exact integer arithmetic; the constructor keeps <c>limit · W</c> below 2^53.
/// </remarks>
/// <param name="LimitPermits">Permits per sliding window.</param>
/// <param name="WindowTicks">The window length.</param>
public sealed record SlidingWindowCounter(long LimitPermits, long WindowTicks) : IRateLimitAlgorithm<SlidingWindowCounterState>
{
    /// <summary>Gets the permits per sliding window.</summary>
    public long LimitPermits { get; } = Checked(LimitPermits, WindowTicks);

    /// <inheritdoc/>
    public SlidingWindowCounterState CreateState(long nowTicks) => new(Guard.FloorToWindow(nowTicks, WindowTicks), 0, 0, nowTicks);

    /// <inheritdoc/>
    public RateLimitDecision Decide(ref SlidingWindowCounterState state, long nowTicks, int permits)
    {
        Guard.Permits(permits, LimitPermits);

        // From an earlier time the previous window would weigh more than it does, so act on the latest time seen.
        long now = Math.Max(nowTicks, state.LastTicks);
        long windowStart = Math.Max(Guard.FloorToWindow(now, WindowTicks), state.WindowStartTicks);
        now = Math.Max(now, windowStart);
        long previous = state.PreviousCountPermits;
        long current = state.CurrentCountPermits;
        if (windowStart != state.WindowStartTicks)
        {
            previous = windowStart == state.WindowStartTicks + WindowTicks ? current : 0;
            current = 0;
        }

        long elapsed = now - windowStart;
        long remainingWeight = WindowTicks - elapsed;
        long budget = LimitPermits * WindowTicks;
        bool allowed = (previous * remainingWeight) + ((current + permits) * WindowTicks) <= budget;
        if (allowed)
        {
            current += permits;
        }

        state = new SlidingWindowCounterState(windowStart, current, previous, now);
        long used = (previous * remainingWeight) + (current * WindowTicks);
        return new RateLimitDecision(
            allowed,
            Math.Max(0, (budget - used) / WindowTicks),
            allowed ? 0 : RetryAfter(previous, current, elapsed, permits),
            current > 0 ? (2 * WindowTicks) - elapsed : previous > 0 ? remainingWeight : 0);
    }

    private long RetryAfter(long previous, long current, long elapsed, int permits)
    {
        if (current + permits <= LimitPermits)
        {
            // Within this window: wait until the previous window's weight has decayed enough.
            long allowedWeight = (LimitPermits - permits - current) * WindowTicks / previous;
            return WindowTicks - allowedWeight - elapsed;
        }

        // Only the next window can help: there this window's count becomes the decaying one.
        long nextAllowedWeight = (LimitPermits - permits) * WindowTicks / current;
        return WindowTicks - elapsed + Math.Max(0, WindowTicks - nextAllowedWeight);
    }

    private static long Checked(long limitPermits, long windowTicks)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(limitPermits, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(windowTicks, 1);
        Guard.Window(windowTicks);
        Guard.Product(limitPermits, windowTicks, nameof(LimitPermits));
        return limitPermits;
    }
}

/// <summary>The state of a <see cref="SlidingWindowCounter"/>.</summary>
/// <param name="WindowStartTicks">The start of the current aligned window.</param>
/// <param name="CurrentCountPermits">Permits granted in the current window.</param>
/// <param name="PreviousCountPermits">Permits granted in the window before it.</param>
/// <param name="LastTicks">The latest time a decision was made at; an earlier timestamp is treated as this one.</param>
public readonly record struct SlidingWindowCounterState(long WindowStartTicks, long CurrentCountPermits, long PreviousCountPermits, long LastTicks);
