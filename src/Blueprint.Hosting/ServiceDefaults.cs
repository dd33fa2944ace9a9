using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace Blueprint.Hosting;

/// <summary>
/// What every Blueprint node shares whatever modules run: structured logs, OpenTelemetry traces
/// and metrics (Prometheus at <c>/metrics</c>, OTLP when <c>Otel:Endpoint</c> is set), and the
/// liveness and readiness endpoints.
/// </summary>
public static class ServiceDefaults
{
    /// <summary>The tag that puts a health check into <c>/readyz</c>.</summary>
    public const string ReadyTag = "ready";

    /// <summary>The name of the node's meter and activity source, and its service name in telemetry unless <c>Otel:ServiceName</c> says another.</summary>
    public const string ServiceName = "blueprint";

    /// <summary>Adds logging, telemetry and health checks.</summary>
    public static IHostApplicationBuilder AddServiceDefaults(this IHostApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.AddValidatedOptions<OtelOptions>(OtelOptions.Section);
        ConfigureLogging(builder);

        var otel = builder.Configuration.GetSection(OtelOptions.Section).Get<OtelOptions>() ?? new OtelOptions();
        var telemetry = builder.Services.AddOpenTelemetry()
            .ConfigureResource(resource => resource.AddService(otel.ServiceName, serviceVersion: BlueprintVersion.Current))
            .WithTracing(tracing => tracing
                .SetSampler(new ParentBasedSampler(new TraceIdRatioBasedSampler(Math.Clamp(otel.TraceSampleRatio, 0, 1))))
                .AddSource(ServiceName)
                .AddAspNetCoreInstrumentation(options =>
                    options.Filter = context => context.RequestServices.GetRequiredService<IOptions<TracingFilterOptions>>().Value.IsTraced(context.Request.Path))
                .AddHttpClientInstrumentation())
            .WithMetrics(metrics => metrics
                .AddMeter(ServiceName)
                .AddAspNetCoreInstrumentation()
                .AddHttpClientInstrumentation()
                .AddRuntimeInstrumentation()
                .AddPrometheusExporter());
        if (Uri.TryCreate(otel.Endpoint, UriKind.Absolute, out var endpoint))
        {
            telemetry.UseOtlpExporter(OpenTelemetry.Exporter.OtlpExportProtocol.Grpc, endpoint);
        }

        builder.Services.AddHealthChecks();
        return builder;
    }

    /// <summary>Maps <c>/healthz</c> (the process is alive), <c>/readyz</c> (every engine answers) and <c>/metrics</c>.</summary>
    public static WebApplication MapServiceDefaults(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        app.MapHealthChecks("/healthz", new HealthCheckOptions { Predicate = _ => false })
            .WithDescription("Liveness: 200 while the process serves HTTP.");
        app.MapHealthChecks("/readyz", new HealthCheckOptions
        {
            Predicate = check => check.Tags.Contains(ReadyTag),
            ResponseWriter = HealthReportWriter.WriteJsonAsync,
        }).WithDescription("Readiness: 200 when every engine of every module answers, 503 otherwise.");
        app.MapPrometheusScrapingEndpoint("/metrics");
        return app;
    }

    private static void ConfigureLogging(IHostApplicationBuilder builder)
    {
        var format = builder.Configuration[$"{NodeOptions.Section}:{nameof(NodeOptions.LogFormat)}"] ?? "text";
        builder.Logging.ClearProviders();
        if (string.Equals(format, "json", StringComparison.OrdinalIgnoreCase))
        {
            builder.Logging.AddJsonConsole(options => options.TimestampFormat = "O");
        }
        else
        {
            builder.Logging.AddSimpleConsole(options =>
            {
                options.SingleLine = true;
                options.TimestampFormat = "HH:mm:ss ";
            });
        }

        // Quiet the framework's own chatter; modules log at Information.
        builder.Logging.AddFilter("Microsoft", LogLevel.Warning);
        builder.Logging.AddFilter("System", LogLevel.Warning);
        // YARP logs two lines per proxied request at Information: a gateway under load would spend itself on its console.
        builder.Logging.AddFilter("Yarp", LogLevel.Warning);
    }
}
