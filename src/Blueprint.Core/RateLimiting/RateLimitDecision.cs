namespace Blueprint.Core.RateLimiting;

/// <summary>
/// The outcome of one rate-limit decision. All durations are in the caller's tick unit
/// (the same unit as the timestamps passed in).
/// </summary>
/// <param name="Allowed">Whether the permits were granted.</param>
/// <param name="RemainingPermits">Permits that could still be granted right now after this decision.</param>
/// <param name="RetryAfterTicks">When denied, how long until the same request would be granted; 0 when allowed.</param>
/// <param name="ResetAfterTicks">How long until the limiter is back to its initial, fully available state.</param>
/// <param name="DelayTicks">For shaping algorithms (a leaky-bucket queue), how long the caller waits before proceeding; 0 for policers.</param>
public readonly record struct RateLimitDecision(bool Allowed, long RemainingPermits, long RetryAfterTicks, long ResetAfterTicks, long DelayTicks = 0);
