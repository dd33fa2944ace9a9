using System.ComponentModel.DataAnnotations;

namespace Blueprint.Gateway.Resilience;

/// <summary>
/// Retries and circuit breakers for proxied requests (configuration section <c>Gateway:Resilience</c>).
/// A cluster's metadata <c>Retries</c> overrides <see cref="Retries"/> for that cluster.
/// </summary>
public sealed class ResilienceOptions
{
    /// <summary>
    /// How many other destinations a request may be retried on after a connection error or timeout,
    /// as nginx's <c>proxy_next_upstream error timeout</c>: only idempotent methods without a body,
    /// and only before any of the response was sent. <value>0–5; default 2.</value>
    /// </summary>
    [Range(0, RetriesMax, ErrorMessage = "must be from 0 to 5")]
    public int Retries { get; set; } = 2;

    /// <summary>The most retries a request may get.</summary>
    public const int RetriesMax = 5;

    /// <summary>Retries may add at most this share of the requests, in percent. <value>0–100; default 20.</value></summary>
    [Range(0, 100, ErrorMessage = "must be from 0 to 100")]
    public double RetryBudgetPercent { get; set; } = 20;

    /// <summary>Retries always allowed per second, on top of the percentage. <value>0–1000; default 10.</value></summary>
    [Range(0, 1000, ErrorMessage = "must be from 0 to 1000")]
    public int RetryBudgetMinPerSecond { get; set; } = 10;

    /// <summary>Whether each destination has a circuit breaker. <value>Default true.</value></summary>
    public bool CircuitBreaker { get; set; } = true;

    /// <summary>The share of failed requests (errors, timeouts, 5xx) in the sampling window that opens a circuit. <value>0.01–1; default 0.5.</value></summary>
    [Range(0.01, 1.0, ErrorMessage = "must be from 0.01 to 1")]
    public double BreakerFailureRatio { get; set; } = 0.5;

    /// <summary>The fewest requests in the window before the ratio counts. <value>2–10000; default 10.</value></summary>
    [Range(2, 10_000, ErrorMessage = "must be from 2 to 10000")]
    public int BreakerMinimumThroughput { get; set; } = 10;

    /// <summary>The sampling window. <value>1–600 seconds; default 10.</value></summary>
    [Range(1, 600, ErrorMessage = "must be from 1 to 600 seconds")]
    public int BreakerSamplingSeconds { get; set; } = 10;

    /// <summary>How long an open circuit keeps its destination out before one trial request. <value>1–600 seconds; default 5.</value></summary>
    [Range(1, 600, ErrorMessage = "must be from 1 to 600 seconds")]
    public int BreakerBreakSeconds { get; set; } = 5;
}
