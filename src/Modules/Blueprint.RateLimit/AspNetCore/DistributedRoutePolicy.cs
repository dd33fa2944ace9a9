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
/// ASP.NET Core keeps one limiter per partition (route and client) and disposes those idle for about
/// ten seconds, so the table holds only the clients of the last seconds; the counters themselves live
/// in the KV, shared by every node.
/// </remarks>
internal sealed class DistributedRoutePolicy(IServiceProvider services) : IRateLimiterPolicy<(string Route, string Client)>
{
    /// <summary>The policy's name.</summary>
    public const string Name = "distributed";

    /// <inheritdoc />
    public Func<OnRejectedContext, CancellationToken, ValueTask>? OnRejected => null; // the options' problem+json 429

    /// <inheritdoc />
    public RateLimitPartition<(string Route, string Client)> GetPartition(HttpContext httpContext)
    {
        var limiter = services.GetRequiredService<BlueprintHttpRateLimiter>();
        var endpoint = httpContext.GetEndpoint();
        var route = endpoint?.Metadata.GetMetadata<IRouteNameMetadata>()?.RouteName
            ?? endpoint?.DisplayName
            ?? httpContext.Request.Path.Value
            ?? "";
        var client = limiter.ClientIp(httpContext)?.ToString() ?? "";
        return RateLimitPartition.Get((Route: route, Client: client), key =>
        {
            var domain = services.GetRequiredService<IOptions<HttpRateLimitOptions>>().Value.Domain;
            var routeEntry = new DescriptorEntry("route", key.Route);
            IReadOnlyList<IReadOnlyList<DescriptorEntry>> descriptors = key.Client.Length == 0
                ? [[routeEntry]]
                : [[routeEntry], [routeEntry, new DescriptorEntry("remote_address", key.Client)]];
            return new DescriptorLimiter(services.GetRequiredService<RateLimitService>(), new RateLimitRequest(domain, descriptors));
        });
    }

    /// <summary>One partition's limiter: every acquisition is a check against the KV.</summary>
    private sealed class DescriptorLimiter(RateLimitService service, RateLimitRequest request) : RateLimiter
    {
        private long _lastUsedMs = Environment.TickCount64;

        public override TimeSpan? IdleDuration => TimeSpan.FromMilliseconds(Environment.TickCount64 - Volatile.Read(ref _lastUsedMs));

        public override RateLimiterStatistics? GetStatistics() => null;

        // The middleware tries the synchronous path first; a decision needs the KV, so it answers "not yet".
        protected override RateLimitLease AttemptAcquireCore(int permitCount) => DecisionLease.Undecided;

        protected override async ValueTask<RateLimitLease> AcquireAsyncCore(int permitCount, CancellationToken cancellationToken)
        {
            Volatile.Write(ref _lastUsedMs, Environment.TickCount64);
            var result = await service.CheckAsync(request with { Hits = permitCount }, cancellationToken).ConfigureAwait(false);
            return new DecisionLease(!result.OverLimit, result.OverLimit ? result.RetryAfter : null);
        }
    }
}
