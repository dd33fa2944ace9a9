using System.ComponentModel.DataAnnotations;

namespace Blueprint.RateLimit;

/// <summary>Options of the ratelimit module (configuration section <c>RateLimit</c>).</summary>
public sealed class RateLimitOptions
{
    /// <summary>The configuration section.</summary>
    public const string Section = "RateLimit";

    /// <summary>
    /// A YAML or JSON rules file (envoyproxy/ratelimit shape). Reloaded when it changes; an invalid
    /// reload keeps the last good rules. A relative path is under the data directory.
    /// <value>Default empty: the rules come from <see cref="Rules"/>.</value>
    /// </summary>
    public string? RulesFile { get; set; }

    /// <summary>Rules inline, as YAML or JSON text, used when <see cref="RulesFile"/> is empty. <value>Default empty: no limits.</value></summary>
    public string? Rules { get; set; }

    /// <summary>The prefix of every counter key in the KV. <value>Default <c>rl:</c>.</value></summary>
    [Required(AllowEmptyStrings = false, ErrorMessage = "must be a non-empty key prefix such as rl:")]
    public string KeyPrefix { get; set; } = "rl:";

    /// <summary>How long one decision may wait for the KV before it counts as failed. <value>10–10000 ms; default 250.</value></summary>
    [Range(10, 10_000, ErrorMessage = "must be from 10 to 10000 milliseconds")]
    public int DecisionTimeoutMs { get; set; } = 250;

    /// <summary>How many consecutive KV failures open the circuit (decisions then skip the KV). <value>1–1000; default 5.</value></summary>
    [Range(1, 1000, ErrorMessage = "must be from 1 to 1000")]
    public int BreakAfterFailures { get; set; } = 5;

    /// <summary>How long the circuit stays open before one decision tries the KV again. <value>500–60000 ms; default 2000.</value></summary>
    [Range(500, 60_000, ErrorMessage = "must be from 500 to 60000 milliseconds")]
    public int BreakDurationMs { get; set; } = 2_000;

    /// <summary>The most descriptors one check may carry. <value>1–64; default 16.</value></summary>
    [Range(1, 64, ErrorMessage = "must be from 1 to 64")]
    public int DescriptorsPerRequestMax { get; set; } = 16;

    /// <summary>How many keys the per-node fallback limiter (used while failing open) tracks before it forgets the oldest. <value>100–1000000; default 10000.</value></summary>
    [Range(100, 1_000_000, ErrorMessage = "must be from 100 to 1000000")]
    public int FallbackKeysMax { get; set; } = 10_000;

    /// <summary>
    /// The port of the gRPC listener (HTTP/2 without TLS) that serves Envoy's rate limit service,
    /// <c>envoy.service.ratelimit.v3.RateLimitService</c>, on the node's bind address.
    /// <value>1–65535; default 8081 (the port envoyproxy/ratelimit serves gRPC on).</value>
    /// </summary>
    [Range(1, 65_535, ErrorMessage = "must be a port from 1 to 65535")]
    public int GrpcPort { get; set; } = 8081;

    /// <summary>A decision is "near the limit" when at most this fraction of the limit remains. <value>0–1; default 0.1.</value></summary>
    [Range(0.0, 1.0, ErrorMessage = "must be from 0 to 1")]
    public double NearLimitRatio { get; set; } = 0.1;
}
