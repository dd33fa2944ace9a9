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
    /// Makes the distributed rules the global limiter of <c>app.UseRateLimiter()</c>: rejected requests
    /// get 429, <c>Retry-After</c> in whole seconds and a problem+json body naming the wait.
    /// </summary>
    /// <param name="options">The middleware's options.</param>
    /// <param name="services">The application's services (the limiter is resolved from them).</param>
    public static RateLimiterOptions UseBlueprintLimits(this RateLimiterOptions options, IServiceProvider services)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.GlobalLimiter = services.GetRequiredService<BlueprintHttpRateLimiter>();
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
}
