using Blueprint.Telemetry.Otlp;
using Blueprint.Telemetry.Otlp.Collector.Metrics;

namespace Blueprint.Telemetry.Metrics;

/// <summary>OTLP metrics into the time-series store. (Being built: every data point is rejected, and said so.)</summary>
internal sealed class MetricsSink : IOtlpMetricsSink
{
    public (long Rejected, string Reason) Accept(ExportMetricsServiceRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        var points = request.ResourceMetrics.SelectMany(r => r.ScopeMetrics).SelectMany(s => s.Metrics).Sum(m => m.DataCase switch
        {
            Otlp.Metrics.Metric.DataOneofCase.Gauge => m.Gauge.DataPoints.Count,
            Otlp.Metrics.Metric.DataOneofCase.Sum => m.Sum.DataPoints.Count,
            Otlp.Metrics.Metric.DataOneofCase.Histogram => m.Histogram.DataPoints.Count,
            Otlp.Metrics.Metric.DataOneofCase.ExponentialHistogram => m.ExponentialHistogram.DataPoints.Count,
            Otlp.Metrics.Metric.DataOneofCase.Summary => m.Summary.DataPoints.Count,
            _ => 0,
        });
        return points == 0 ? (0, "") : (points, "this node does not store OTLP metrics yet");
    }
}
