namespace Blueprint.Core.RateLimiting;

/// <summary>
/// A rate-limit algorithm as a pure state machine: <c>(state, now, permits) → decision</c>, with the state
/// held by the caller. Time is whatever monotonic tick count the caller passes (TimeSpan ticks, microseconds, …)
/// as long as every tick parameter of the algorithm uses the same unit; a timestamp earlier than one already seen
/// is treated as the later one.
/// </summary>
/// <typeparam name="TState">The explicit, serializable state (a few integers).</typeparam>
public interface IRateLimitAlgorithm<TState>
{
    /// <summary>Returns the initial state: nothing consumed yet.</summary>
    /// <param name="nowTicks">The current time.</param>
    /// <returns>The state.</returns>
    TState CreateState(long nowTicks);

    /// <summary>Decides whether <paramref name="permits"/> may be consumed at <paramref name="nowTicks"/>, updating <paramref name="state"/>.</summary>
    /// <param name="state">The state; updated in place.</param>
    /// <param name="nowTicks">The current time.</param>
    /// <param name="permits">Permits requested; at least 0 and at most the algorithm's limit.</param>
    /// <returns>The decision.</returns>
    RateLimitDecision Decide(ref TState state, long nowTicks, int permits);
}
