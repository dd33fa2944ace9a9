using System.Threading.RateLimiting;
using Blueprint.RateLimit.Rules;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Blueprint.RateLimit.AspNetCore;

/// <summary>
/// The rate-limiter policy named <see cref="Name"/>: an endpoint (a gateway route's
/// <c>"RateLimiterPolicy": "distributed"</c>, or <c>RequireRateLimiting("distributed")</c>) is limited by
/// the distributed rules of <see cref="HttpRateLimitOptions.Domain"/> with two descriptors,
/// <c>[route = name]</c> (the whole route) and <c>[route = name, remote_address = client IP]</c> (each
/// client on it). The name is the endpoint's route name, which for a gateway route is its route id.
/// </summary>
/// <remarks>
/// ASP.NET Core keeps one limiter per partition and scans them all every 100 ms, so the partition is
/// the route alone — bounded by the configuration — and the client's address is read from the
/// request being decided. The counters themselves live in the KV, shared by every node.
/// </remarks>
internal sealed class DistributedRoutePolicy(IServiceProvider services) : IRateLimiterPolicy<string>
{
    /// <summary>The policy's name.</summary>
    public const string Name = "distributed";

    /// <inheritdoc />
    public Func<OnRejectedContext, CancellationToken, ValueTask>? OnRejected => null; // the options' problem+json 429

    /// <inheritdoc />
    public RateLimitPartition<string> GetPartition(HttpContext httpContext)
    {
        var endpoint = httpContext.GetEndpoint();
        var route = endpoint?.Metadata.GetMetadata<IRouteNameMetadata>()?.RouteName
            ?? endpoint?.DisplayName
            ?? httpContext.Request.Path.Value
            ?? "";
        return RateLimitPartition.Get(route, name => new RouteLimiter(
            services.GetRequiredService<RateLimitService>(),
            services.GetRequiredService<BlueprintHttpRateLimiter>(),
            services.GetRequiredService<IHttpContextAccessor>(),
            services.GetRequiredService<IOptions<HttpRateLimitOptions>>().Value.Domain,
            name));
    }

    /// <summary>One route's limiter: every acquisition is a check against the KV with the route's and the client's descriptors.</summary>
    private sealed class RouteLimiter(RateLimitService service, BlueprintHttpRateLimiter http, IHttpContextAccessor requests, string domain, string route) : RateLimiter
    {
        private readonly DescriptorEntry _route = new("route", route);
        private long _lastUsedMs = Environment.TickCount64;

        public override TimeSpan? IdleDuration => TimeSpan.FromMilliseconds(Environment.TickCount64 - Volatile.Read(ref _lastUsedMs));

        public override RateLimiterStatistics? GetStatistics() => null;

        // The middleware tries the synchronous path first; a decision needs the KV, so it answers "not yet".
        protected override RateLimitLease AttemptAcquireCore(int permitCount) => DecisionLease.Undecided;

        protected override async ValueTask<RateLimitLease> AcquireAsyncCore(int permitCount, CancellationToken cancellationToken)
        {
            Volatile.Write(ref _lastUsedMs, Environment.TickCount64);
            var client = requests.HttpContext is { } context ? http.ClientIp(context)?.ToString() : null;
            IReadOnlyList<IReadOnlyList<DescriptorEntry>> descriptors = client is null
                ? [[_route]]
                : [[_route], [_route, new DescriptorEntry("remote_address", client)]];
            var result = await service.CheckAsync(new RateLimitRequest(domain, descriptors, permitCount), cancellationToken).ConfigureAwait(false);
            return new DecisionLease(!result.OverLimit, result.OverLimit ? result.RetryAfter : null);
        }
    }
}
