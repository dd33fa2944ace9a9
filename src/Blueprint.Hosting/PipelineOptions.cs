namespace Blueprint.Hosting;

/// <summary>
/// Endpoint-aware middleware a module asks the node for. The node places it once, after routing, in
/// the order ASP.NET Core requires (routing, CORS, authentication, authorization, rate limiting,
/// request timeouts), so two modules never add the same middleware twice or in the wrong place.
/// CORS, authentication and authorization are added whenever their services are registered.
/// </summary>
public sealed class PipelineOptions
{
    /// <summary>Adds <c>UseRateLimiter()</c>: endpoints' rate-limiter policies and a global limiter, if one is set.</summary>
    public bool RateLimiter { get; set; }

    /// <summary>Adds <c>UseRequestTimeouts()</c>: endpoints' timeouts and timeout policies.</summary>
    public bool RequestTimeouts { get; set; }
}
