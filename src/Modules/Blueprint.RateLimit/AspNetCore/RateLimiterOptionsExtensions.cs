using System.Globalization;
using System.Threading.RateLimiting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.Extensions.DependencyInjection;

namespace Blueprint.RateLimit.AspNetCore;

/// <summary>Wires <see cref="BlueprintHttpRateLimiter"/> into ASP.NET Core's rate-limiting middleware.</summary>
public static class RateLimiterOptionsExtensions
{
    /// <summary>
    /// Adds the distributed rules to <c>app.UseRateLimiter()</c>: as the policy
    /// <see cref="DistributedRoutePolicy.Name"/> that endpoints may name, and, when <paramref name="global"/>,
    /// as the global limiter of every endpoint. Rejected requests get 429, <c>Retry-After</c> in whole
    /// seconds and a problem+json body naming the wait.
    /// </summary>
    /// <param name="options">The middleware's options.</param>
    /// <param name="services">The application's services (the limiter is resolved from them).</param>
    /// <param name="global">Whether every endpoint is limited (<c>RateLimit:Http:Enabled</c>).</param>
    public static RateLimiterOptions UseBlueprintLimits(this RateLimiterOptions options, IServiceProvider services, bool global)
    {
        ArgumentNullException.ThrowIfNull(options);
        // Resolved at the first request: other modules (YARP) read these options while endpoints are
        // mapped, before the node's preflight has reported invalid configuration.
        if (global)
        {
            options.GlobalLimiter = new Deferred(services);
        }

        options.AddPolicy(DistributedRoutePolicy.Name, new DistributedRoutePolicy(services));
        options.RejectionStatusCode = StatusCodes.Status429TooManyRequests;
        options.OnRejected = async (context, cancellationToken) =>
        {
            var response = context.HttpContext.Response;
            var seconds = context.Lease.TryGetMetadata(MetadataName.RetryAfter, out var wait)
                ? Math.Max(1, (long)Math.Ceiling(wait.TotalSeconds))
                : 1;
            response.Headers.RetryAfter = seconds.ToString(CultureInfo.InvariantCulture);
            await Results.Problem(
                statusCode: StatusCodes.Status429TooManyRequests,
                title: "Too many requests",
                detail: $"rate limit exceeded; retry after {seconds} s").ExecuteAsync(context.HttpContext).ConfigureAwait(false);
        };
        return options;
    }

    /// <summary>The Blueprint limiter, resolved when first used.</summary>
    private sealed class Deferred(IServiceProvider services) : PartitionedRateLimiter<HttpContext>
    {
        private BlueprintHttpRateLimiter Inner => field ??= services.GetRequiredService<BlueprintHttpRateLimiter>();

        public override RateLimiterStatistics? GetStatistics(HttpContext resource) => Inner.GetStatistics(resource);

        protected override RateLimitLease AttemptAcquireCore(HttpContext resource, int permitCount) => Inner.AttemptAcquire(resource, permitCount);

        protected override ValueTask<RateLimitLease> AcquireAsyncCore(HttpContext resource, int permitCount, CancellationToken cancellationToken) =>
            Inner.AcquireAsync(resource, permitCount, cancellationToken);
    }
}
