using Blueprint.Telemetry.Otlp.Collector.Metrics;
using Blueprint.Telemetry.Otlp.Collector.Trace;
using Grpc.Core;

namespace Blueprint.Telemetry.Otlp;

/// <summary>OTLP/gRPC's trace service on the OTLP gRPC port. Oversized messages are refused by gRPC itself (RESOURCE_EXHAUSTED).</summary>
internal sealed class OtlpTraceService(OtlpReceiver receiver) : TraceService.TraceServiceBase
{
    public override Task<ExportTraceServiceResponse> Export(ExportTraceServiceRequest request, ServerCallContext context) =>
        Task.FromResult(receiver.Accept(request, "otlp_grpc"));
}

/// <summary>OTLP/gRPC's metrics service on the OTLP gRPC port.</summary>
internal sealed class OtlpMetricsService(OtlpReceiver receiver) : MetricsService.MetricsServiceBase
{
    public override Task<ExportMetricsServiceResponse> Export(ExportMetricsServiceRequest request, ServerCallContext context) =>
        Task.FromResult(receiver.Accept(request));
}
