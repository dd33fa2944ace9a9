using System.Diagnostics;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Yarp.ReverseProxy.Model;

namespace Blueprint.Gateway;

/// <summary>
/// The gateway's access log: one line per request that matched a route, at Information in the
/// category <c>Blueprint.Gateway.AccessLog</c> — method, path, status, duration, route, cluster,
/// destination, client address and trace id. It wraps the whole pipeline, so requests refused
/// before proxying (401, 403, 413, 429) are logged too. The query string is left out: it often
/// carries secrets.
/// </summary>
internal static partial class AccessLog
{
    /// <summary>The log category; filter it like any other (<c>Logging:LogLevel:Blueprint.Gateway.AccessLog</c>).</summary>
    public const string Category = "Blueprint.Gateway.AccessLog";

    public static void Use(IApplicationBuilder app)
    {
        var logger = app.ApplicationServices.GetRequiredService<ILoggerFactory>().CreateLogger(Category);

        app.Use(async (context, next) =>
        {
            var started = Stopwatch.GetTimestamp();
            try
            {
                await next(context).ConfigureAwait(false);
            }
            finally
            {
                var proxy = context.Features.Get<IReverseProxyFeature>();
                // The proxy feature outlives an exception (the handler clears the endpoint before its 500);
                // the endpoint covers requests refused before proxying (401, 413, 429).
                if (logger.IsEnabled(LogLevel.Information)
                    && (proxy?.Route ?? context.GetEndpoint()?.Metadata.GetMetadata<RouteModel>()) is { } route)
                {
                    var durationMs = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
                    var destination = proxy?.ProxiedDestination?.DestinationId ?? "-";
                    var client = context.Connection.RemoteIpAddress?.ToString() ?? "-";
                    var traceId = Activity.Current?.TraceId.ToString() ?? "-";
                    Request(logger, context.Request.Method, context.Request.Path.Value ?? "", context.Response.StatusCode, durationMs,
                        route.Config.RouteId, route.Config.ClusterId ?? "-", destination, client, traceId);
                }
            }
        });
    }

    [LoggerMessage(EventId = 1, Level = LogLevel.Information, SkipEnabledCheck = true,
        Message = "{Method} {Path} {Status} {DurationMs:F1} ms route={Route} cluster={Cluster} destination={Destination} client={Client} trace={TraceId}")]
    private static partial void Request(ILogger logger, string method, string path, int status, double durationMs, string route,
        string cluster, string destination, string client, string traceId);
}
