using Blueprint.Telemetry.Otlp.Collector.Metrics;
using Blueprint.Telemetry.Otlp.Collector.Trace;
using Blueprint.Telemetry.Traces;
using Microsoft.Extensions.Options;

namespace Blueprint.Telemetry.Otlp;

/// <summary>
/// What both OTLP transports do with a decoded request: spans with an invalid id (a trace id that is not 16 bytes or
/// all zero, a span id that is not 8 bytes) are rejected, the rest queued; spans the full queue cannot take are
/// rejected too. Rejections are reported as OTLP's partial success, which tells the exporter not to retry them.
/// </summary>
internal sealed class OtlpReceiver(SpanIngest ingest, IOtlpMetricsSink metrics, IOptions<TelemetryOptions> options)
{
    private readonly bool _drop = options.Value.DropAfterDecode;

    public ExportTraceServiceResponse Accept(ExportTraceServiceRequest request, string source)
    {
        if (_drop)
        {
            return new ExportTraceServiceResponse();
        }

        var groups = SpanGroup.From(request.ResourceSpans, out _);
        var invalid = RemoveInvalid(groups);
        if (invalid > 0)
        {
            ingest.CountDropped(invalid, "invalid");
        }

        var full = ingest.TryEnqueue(groups, source);
        if (invalid + full == 0)
        {
            return new ExportTraceServiceResponse();
        }

        var reason = (invalid, full) switch
        {
            ( > 0, > 0) => $"{invalid} spans have an invalid trace or span id; {full} were dropped because the ingest queue is full",
            ( > 0, _) => $"{invalid} spans have an invalid trace or span id (a trace id is 16 bytes, not all zero; a span id 8 bytes)",
            _ => $"{full} spans were dropped because the ingest queue is full",
        };
        return new ExportTraceServiceResponse { PartialSuccess = new ExportTracePartialSuccess { RejectedSpans = invalid + full, ErrorMessage = reason } };
    }

    public ExportMetricsServiceResponse Accept(ExportMetricsServiceRequest request)
    {
        if (_drop)
        {
            return new ExportMetricsServiceResponse();
        }

        var (rejected, reason) = metrics.Accept(request);
        return rejected == 0
            ? new ExportMetricsServiceResponse()
            : new ExportMetricsServiceResponse { PartialSuccess = new ExportMetricsPartialSuccess { RejectedDataPoints = rejected, ErrorMessage = reason } };
    }

    private static int RemoveInvalid(List<SpanGroup> groups)
    {
        var invalid = 0;
        for (var i = groups.Count - 1; i >= 0; i--)
        {
            var group = groups[i];
            var valid = group.Spans.Where(IsValid).ToList();
            if (valid.Count == group.Spans.Count)
            {
                continue;
            }

            invalid += group.Spans.Count - valid.Count;
            if (valid.Count == 0)
            {
                groups.RemoveAt(i);
            }
            else
            {
                groups[i] = group with { Spans = valid };
            }
        }

        return invalid;
    }

    internal static bool IsValid(Trace.Span span) =>
        span.TraceId.Length == 16 && span.SpanId.Length == 8 && !span.TraceId.Span.SequenceEqual(ZeroTraceId)
        && (span.ParentSpanId.Length is 0 or 8);

    private static ReadOnlySpan<byte> ZeroTraceId => [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
}

/// <summary>Where OTLP metrics go: the metrics time-series store.</summary>
internal interface IOtlpMetricsSink
{
    /// <summary>Stores the request's data points; returns how many were rejected and why (0 and empty when none).</summary>
    (long Rejected, string Reason) Accept(ExportMetricsServiceRequest request);
}
