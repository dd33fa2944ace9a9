using OpenTelemetry;
using OpenTelemetry.Metrics;

namespace Blueprint.Telemetry.Metrics;

/// <summary>
/// The node's own metrics (ASP.NET Core, HttpClient, runtime and the <c>blueprint</c> meter) into the store, in
/// process: a periodic reader of the node's MeterProvider calls <see cref="Export"/> every
/// <see cref="TelemetryOptions.MetricsIntervalSeconds"/> with cumulative points, which go through the same ingest as
/// OTLP's (and the same series limit), labelled with the node's <c>service.name</c>.
/// </summary>
internal sealed class SelfMetricExporter(Func<MetricsIngest> ingest) : BaseExporter<Metric>
{
    // Resolved at the first export, not when the meter provider is built: the node builds it while composing the app
    // (for /metrics), before its options are validated, and the store needs a valid data directory.
    private MetricsIngest? _ingest;
    private string? _service;

    /// <inheritdoc />
    public override ExportResult Export(in Batch<Metric> batch)
    {
        _service ??= ParentProvider?.GetResource().Attributes.FirstOrDefault(a => a.Key == "service.name").Value as string ?? Hosting.ServiceDefaults.ServiceName;
        var points = new List<MetricPoint>();
        foreach (var metric in batch)
        {
            var kind = metric.MetricType switch
            {
                MetricType.LongSum or MetricType.DoubleSum => MetricKind.Counter,
                MetricType.LongSumNonMonotonic or MetricType.DoubleSumNonMonotonic => MetricKind.UpDownCounter,
                MetricType.Histogram or MetricType.ExponentialHistogram => MetricKind.Histogram,
                _ => MetricKind.Gauge,
            };
            var info = new MetricInfo(metric.Name, kind, metric.Unit ?? "", metric.Description ?? "");
            foreach (ref readonly var point in metric.GetMetricPoints())
            {
                var attributes = new List<KeyValuePair<string, string>>();
                foreach (var tag in point.Tags)
                {
                    attributes.Add(new(tag.Key, Convert.ToString(tag.Value, System.Globalization.CultureInfo.InvariantCulture) ?? ""));
                }

                var labels = MetricsSink.Labels(attributes, _service);
                var time = point.EndTime.ToUnixTimeMilliseconds();
                var converted = metric.MetricType switch
                {
                    MetricType.LongSum or MetricType.LongSumNonMonotonic => new MetricPoint(info, labels, time, point.GetSumLong()),
                    MetricType.DoubleSum or MetricType.DoubleSumNonMonotonic => new MetricPoint(info, labels, time, point.GetSumDouble()),
                    MetricType.LongGauge => new MetricPoint(info, labels, time, point.GetGaugeLastValueLong()),
                    MetricType.DoubleGauge => new MetricPoint(info, labels, time, point.GetGaugeLastValueDouble()),
                    MetricType.Histogram => Histogram(info, labels, time, point),
                    MetricType.ExponentialHistogram => new MetricPoint(info, labels, time, point.GetHistogramCount(), point.GetHistogramSum()),
                    _ => null,
                };
                if (converted is not null && double.IsFinite(converted.Value) && double.IsFinite(converted.Sum))
                {
                    points.Add(converted);
                }
            }
        }

        if (points.Count > 0)
        {
            (_ingest ??= ingest()).Add(points);
        }

        return ExportResult.Success;
    }

    private static MetricPoint Histogram(MetricInfo info, List<KeyValuePair<string, string>> labels, long time, in OpenTelemetry.Metrics.MetricPoint point)
    {
        var bounds = new List<double>();
        var buckets = new List<long>();
        foreach (var bucket in point.GetHistogramBuckets())
        {
            if (!double.IsPositiveInfinity(bucket.ExplicitBound))
            {
                bounds.Add(bucket.ExplicitBound);
            }

            buckets.Add(bucket.BucketCount);
        }

        return new MetricPoint(info, labels, time, point.GetHistogramCount(), point.GetHistogramSum(), [.. bounds], [.. buckets]);
    }
}
