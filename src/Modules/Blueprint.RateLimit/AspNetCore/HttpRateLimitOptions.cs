using System.ComponentModel.DataAnnotations;

namespace Blueprint.RateLimit.AspNetCore;

/// <summary>
/// How HTTP requests become rate-limit descriptors (configuration section <c>RateLimit:Http</c>).
/// Each enabled partition adds one descriptor; the rules of <see cref="Domain"/> give their limits.
/// </summary>
public sealed class HttpRateLimitOptions
{
    /// <summary>The configuration section.</summary>
    public const string Section = "RateLimit:Http";

    /// <summary>Whether the node limits its own HTTP endpoints (health, readiness and metrics are never limited). <value>Default false.</value></summary>
    public bool Enabled { get; set; }

    /// <summary>The rules domain the descriptors are matched in. <value>Default <c>http</c>.</value></summary>
    [Required(AllowEmptyStrings = false, ErrorMessage = "must name a rules domain")]
    public string Domain { get; set; } = "http";

    /// <summary>Adds <c>[remote_address = client IP]</c>. <value>Default true.</value></summary>
    public bool ByClientIp { get; set; } = true;

    /// <summary>
    /// Proxies whose <c>X-Forwarded-For</c> is believed, as IP addresses. The client IP is the
    /// right-most address in the header not in this list; without a trusted proxy in front, the
    /// header is ignored (a client could write any address there). <value>Default empty.</value>
    /// </summary>
    public IList<string> TrustedProxies { get; } = [];

    /// <summary>Adds <c>[api_key = header value]</c> when the header is present. <value>Default empty (off), e.g. <c>X-Api-Key</c>.</value></summary>
    public string? ApiKeyHeader { get; set; }

    /// <summary>Adds <c>[user = claim value]</c> for authenticated users. <value>Default empty (off), e.g. <c>sub</c>.</value></summary>
    public string? UserClaim { get; set; }

    /// <summary>Path prefixes never limited. <value>Default <c>/healthz</c>, <c>/readyz</c>, <c>/metrics</c>.</value></summary>
    public IList<string> ExcludedPaths { get; } = ["/healthz", "/readyz", "/metrics"];

    /// <summary>Adds <c>[route = the endpoint's route pattern]</c> (so limits can be per route). <value>Default true.</value></summary>
    public bool ByRoute { get; set; } = true;
}
