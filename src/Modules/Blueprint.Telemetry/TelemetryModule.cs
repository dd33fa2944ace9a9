using System.Globalization;
using Blueprint.Hosting;
using Blueprint.Telemetry.Jaeger;
using Blueprint.Telemetry.Metrics;
using Blueprint.Telemetry.Otlp;
using Blueprint.Telemetry.Traces;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;

namespace Blueprint.Telemetry;

/// <summary>
/// The telemetry module: an OTLP receiver (gRPC and HTTP) any app can export to, a trace store with Jaeger's query API,
/// and a metrics time-series store; the node's dashboard at <c>/</c> draws from them. The node stores its own spans here.
/// </summary>
public sealed class TelemetryModule : IBlueprintModule
{
    /// <summary>The module's name.</summary>
    public const string ModuleName = "telemetry";

    /// <inheritdoc />
    public string Name => ModuleName;

    /// <inheritdoc />
    public string Description => "Telemetry: an OTLP receiver (gRPC and HTTP), a trace store with Jaeger's query API, and a metrics time-series store with downsampling; the node's dashboard draws from them.";

    /// <inheritdoc />
    public IReadOnlyList<string> CheatSheetRows { get; } = ["Distributed tracing (Jaeger, Zipkin; OpenTelemetry)", "Time-series", "Monitoring and dashboards"];

    /// <summary>OTLP/gRPC (h2c).</summary>
    public static readonly ModuleListener OtlpGrpcListener = new()
    {
        Name = "OTLP gRPC",
        Title = "OTLP/gRPC receiver",
        ConfigKey = $"{TelemetryOptions.Section}:{nameof(TelemetryOptions.OtlpGrpcPort)}",
        DefaultPort = 4317,
        Protocol = ListenerProtocol.H2c,
        Flag = "--otlp-grpc-port",
        Description = "OTLP/gRPC port of the telemetry module",
        Hint = (_, host, port) => $"OTEL_EXPORTER_OTLP_ENDPOINT=http://{host}:{port.ToString(CultureInfo.InvariantCulture)} (any OpenTelemetry SDK)",
    };

    /// <summary>OTLP/HTTP (protobuf and JSON).</summary>
    public static readonly ModuleListener OtlpHttpListener = new()
    {
        Name = "OTLP HTTP",
        Title = "OTLP/HTTP receiver",
        ConfigKey = $"{TelemetryOptions.Section}:{nameof(TelemetryOptions.OtlpHttpPort)}",
        DefaultPort = 4318,
        Protocol = ListenerProtocol.Http1,
        Flag = "--otlp-http-port",
        Description = "OTLP/HTTP port of the telemetry module (POST /v1/traces, /v1/metrics)",
        Hint = (_, host, port) => $"POST http://{host}:{port.ToString(CultureInfo.InvariantCulture)}/v1/traces (application/x-protobuf or application/json)",
    };

    /// <inheritdoc />
    public IReadOnlyList<ModuleListener> Listeners { get; } = [OtlpGrpcListener, OtlpHttpListener];

    /// <inheritdoc />
    public IReadOnlyList<ModuleFlag> Flags { get; } =
    [
        new("--otel-endpoint", $"{OtelOptions.Section}:{nameof(OtelOptions.Endpoint)}", "Also export the node's traces and metrics over OTLP/gRPC to this collector (another node's --otlp-grpc-port, Jaeger, Tempo), e.g. http://127.0.0.1:4317."),
        new("--service-name", $"{OtelOptions.Section}:{nameof(OtelOptions.ServiceName)}", "The node's service.name in traces and metrics (default blueprint)."),
    ];

    /// <summary>
    /// Every member stores its own spans and runs a receiver on its own ports; members after the first also export to the
    /// first's receiver, so member 1's dashboard and Jaeger API show the whole cluster's traces.
    /// </summary>
    public ClusterMemberPlan? PlanClusterMember(ClusterMember member)
    {
        ArgumentNullException.ThrowIfNull(member);
        static string Text(int value) => value.ToString(CultureInfo.InvariantCulture);
        var grpc = member.Port(OtlpGrpcListener, member.Index);
        List<string> arguments = ["--otlp-grpc-port", Text(grpc), "--otlp-http-port", Text(member.Port(OtlpHttpListener, member.Index))];
        if (member.Index > 1)
        {
            arguments.AddRange(["--otel-endpoint", $"http://{member.Host}:{Text(member.Port(OtlpGrpcListener, 1))}"]);
        }

        return new ClusterMemberPlan(arguments, $"otlp {member.Host}:{Text(grpc)}", grpc);
    }

    /// <inheritdoc />
    public void AddServices(IHostApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var services = builder.Services;
        services.AddValidatedOptions<TelemetryOptions>(TelemetryOptions.Section);
        services.TryAddSingleton(TimeProvider.System);
        services.AddSingleton(provider => SpanStore.Open(Path.Combine(provider.GetRequiredService<DataDirectory>().For(ModuleName), "traces.db")));
        services.AddSingleton<SpanIngest>();
        services.AddHostedService(provider => provider.GetRequiredService<SpanIngest>());
        services.AddSingleton<OtlpReceiver>();
        services.AddSingleton(provider => MetricStore.Open(Path.Combine(provider.GetRequiredService<DataDirectory>().For(ModuleName), "metrics.db")));
        services.AddSingleton<MetricsIngest>();
        services.AddHostedService(provider => provider.GetRequiredService<MetricsIngest>());
        services.TryAddSingleton<IOtlpMetricsSink, MetricsSink>();
        services.Configure<TracingFilterOptions>(filter => filter.UntracedPathPrefixes.AddRange(
            ["/v1/traces", "/v1/metrics", "/opentelemetry.proto.collector", "/api/services", "/api/operations", "/api/traces", "/api/dependencies", "/api/metrics"]));

        services.AddGrpc();
        services.AddOptions<Grpc.AspNetCore.Server.GrpcServiceOptions<OtlpTraceService>>().Configure<IOptions<TelemetryOptions>>((grpc, options) => grpc.MaxReceiveMessageSize = options.Value.MaxRequestBytes);
        services.AddOptions<Grpc.AspNetCore.Server.GrpcServiceOptions<OtlpMetricsService>>().Configure<IOptions<TelemetryOptions>>((grpc, options) => grpc.MaxReceiveMessageSize = options.Value.MaxRequestBytes);

        if (builder.Configuration.GetValue($"{TelemetryOptions.Section}:{nameof(TelemetryOptions.StoreOwnMetrics)}", true))
        {
            // The node's own metrics, in process, cumulative, read every interval.
            var interval = builder.Configuration.GetValue($"{TelemetryOptions.Section}:{nameof(TelemetryOptions.MetricsIntervalSeconds)}", 10);
            services.ConfigureOpenTelemetryMeterProvider((provider, metrics) => metrics.AddReader(new PeriodicExportingMetricReader(
                new SelfMetricExporter(provider.GetRequiredService<MetricsIngest>), Math.Clamp(interval, 1, 3600) * 1000)
            {
                TemporalityPreference = MetricReaderTemporalityPreference.Cumulative,
            }));
        }

        if (builder.Configuration.GetValue($"{TelemetryOptions.Section}:{nameof(TelemetryOptions.StoreOwnSpans)}", true))
        {
            // The node's own spans, in process; a batch a second keeps the dashboard close to live.
            services.ConfigureOpenTelemetryTracerProvider(tracing => tracing.AddProcessor(provider =>
                new BatchActivityExportProcessor(new SelfSpanExporter(provider.GetRequiredService<SpanIngest>()), scheduledDelayMilliseconds: 1000)));
        }
    }

    /// <inheritdoc />
    public void MapEndpoints(IEndpointRouteBuilder endpoints)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        var options = endpoints.ServiceProvider.GetRequiredService<IOptions<TelemetryOptions>>().Value;
        endpoints.MapGrpcService<OtlpTraceService>().RequireLocalPort(options.OtlpGrpcPort);
        endpoints.MapGrpcService<OtlpMetricsService>().RequireLocalPort(options.OtlpGrpcPort);
        OtlpHttp.Map(endpoints, options.OtlpHttpPort);
        JaegerApi.Map(endpoints);
        MetricsApi.Map(endpoints);
    }

    /// <inheritdoc />
    public IEnumerable<ModuleEndpoint> DescribeEndpoints(IServiceProvider services) =>
    [
        new ModuleEndpoint("Jaeger query API", "/api/services, /api/traces?service=…, /api/traces/{id}, /api/dependencies", "curl -s localhost:8080/api/services"),
        new ModuleEndpoint("Metrics query API", "/api/metrics/names, /api/metrics/query?name=…&agg=…", "curl -s 'localhost:8080/api/metrics/query?name=http.server.request.duration&agg=rate&group='"),
        new ModuleEndpoint("Metrics query API", "/api/metrics/names, /api/metrics/query?name=…&from=…&to=…&step=…&agg=…&group=…", "curl -s 'localhost:8080/api/metrics/query?name=http.server.request.duration&group='"),
    ];
}
