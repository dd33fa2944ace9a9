using System.Globalization;
using Blueprint.Telemetry.Otlp;
using Blueprint.Telemetry.Otlp.Collector.Metrics;
using Blueprint.Telemetry.Otlp.Common;
using Blueprint.Telemetry.Otlp.Metrics;
using Google.Protobuf.Collections;

namespace Blueprint.Telemetry.Metrics;

/// <summary>
/// OTLP metrics into the time-series store. Gauges are stored as they come; monotonic sums as counters, other sums as
/// up-down counters; histograms with their bounds and bucket counts; exponential histograms and summaries as a
/// histogram's count and sum only (no buckets, so no percentiles). Delta temporality is turned into cumulative per
/// series. Each series' labels are the point's attributes plus the resource's <c>service.name</c>. A point is
/// rejected, with the reason in the reply's partial success, when it has no time, a value that is not finite, an
/// unspecified temporality, or a histogram whose bucket counts do not match its bounds or its count.
/// </summary>
internal sealed class MetricsSink(MetricsIngest ingest, TimeProvider time) : IOtlpMetricsSink
{
    /// <summary>The most labels a series keeps (attributes past it are dropped, by key order).</summary>
    public const int MaxLabels = 32;

    /// <summary>The longest label value kept (a longer one is cut).</summary>
    public const int MaxLabelValue = 256;

    /// <summary>Points a second later than the node's clock that are still accepted (clock skew).</summary>
    private static readonly TimeSpan FutureSlack = TimeSpan.FromHours(1);

    public (long Rejected, string Reason) Accept(ExportMetricsServiceRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        var latest = (ulong)(time.GetUtcNow() + FutureSlack).ToUnixTimeMilliseconds() * 1_000_000;
        var points = new List<MetricPoint>();
        long invalid = 0;
        string? reason = null;
        foreach (var resource in request.ResourceMetrics)
        {
            var service = resource.Resource?.Attributes.FirstOrDefault(a => a.Key == "service.name")?.Value is { } value ? Text(value) : "unknown_service";
            foreach (var metric in resource.ScopeMetrics.SelectMany(s => s.Metrics))
            {
                var converter = new Converter(metric, service, latest, points);
                converter.Run();
                invalid += converter.Rejected;
                reason ??= converter.Reason;
            }
        }

        if (invalid > 0)
        {
            ingest.CountDropped(invalid, "invalid");
        }

        var (refused, why) = points.Count > 0 ? ingest.Add(points) : (0, null);
        var rejected = invalid + refused;
        return rejected == 0 ? (0, "") : (rejected, $"{rejected} data points rejected; the first: {reason ?? why}");
    }

    internal static string Text(AnyValue value) => value.ValueCase switch
    {
        AnyValue.ValueOneofCase.StringValue => value.StringValue,
        AnyValue.ValueOneofCase.BoolValue => value.BoolValue ? "true" : "false",
        AnyValue.ValueOneofCase.IntValue => value.IntValue.ToString(CultureInfo.InvariantCulture),
        AnyValue.ValueOneofCase.DoubleValue => value.DoubleValue.ToString("R", CultureInfo.InvariantCulture),
        _ => value.ToString(),
    };

    /// <summary>The labels of a series: at most <see cref="MaxLabels"/>, values cut at <see cref="MaxLabelValue"/>.</summary>
    internal static List<KeyValuePair<string, string>> Labels(IEnumerable<KeyValuePair<string, string>> attributes, string? service)
    {
        var labels = new SortedDictionary<string, string>(StringComparer.Ordinal);
        foreach (var (key, value) in attributes)
        {
            labels[key] = value.Length > MaxLabelValue ? value[..MaxLabelValue] : value;
        }

        if (service is not null)
        {
            labels["service.name"] = service;
        }

        return [.. labels.Take(MaxLabels)];
    }

    /// <summary>One metric's points, validated and converted.</summary>
    private sealed class Converter(Otlp.Metrics.Metric metric, string service, ulong latest, List<MetricPoint> points)
    {
        public long Rejected { get; private set; }

        public string? Reason { get; private set; }

        public void Run()
        {
            switch (metric.DataCase)
            {
                case Otlp.Metrics.Metric.DataOneofCase.Gauge:
                    Numbers(metric.Gauge.DataPoints, MetricKind.Gauge, delta: false);
                    break;
                case Otlp.Metrics.Metric.DataOneofCase.Sum when Temporality(metric.Sum.AggregationTemporality, metric.Sum.DataPoints.Count) is { } delta:
                    Numbers(metric.Sum.DataPoints, metric.Sum.IsMonotonic ? MetricKind.Counter : MetricKind.UpDownCounter, delta);
                    break;
                case Otlp.Metrics.Metric.DataOneofCase.Histogram when Temporality(metric.Histogram.AggregationTemporality, metric.Histogram.DataPoints.Count) is { } delta:
                    foreach (var point in metric.Histogram.DataPoints)
                    {
                        Histogram(point, delta);
                    }

                    break;
                case Otlp.Metrics.Metric.DataOneofCase.ExponentialHistogram when Temporality(metric.ExponentialHistogram.AggregationTemporality, metric.ExponentialHistogram.DataPoints.Count) is { } delta:
                    foreach (var point in metric.ExponentialHistogram.DataPoints)
                    {
                        CountAndSum(point.Attributes, point.TimeUnixNano, point.Count, point.HasSum ? point.Sum : 0, delta);
                    }

                    break;
                case Otlp.Metrics.Metric.DataOneofCase.Summary:
                    foreach (var point in metric.Summary.DataPoints)
                    {
                        CountAndSum(point.Attributes, point.TimeUnixNano, point.Count, point.Sum, delta: false);
                    }

                    break;
                default:
                    break;
            }
        }

        private bool? Temporality(AggregationTemporality temporality, int count)
        {
            if (temporality == AggregationTemporality.Unspecified)
            {
                Reject(count, $"metric {metric.Name} has an unspecified aggregation temporality");
                return null;
            }

            return temporality == AggregationTemporality.Delta;
        }

        private MetricInfo Info(MetricKind kind) => new(metric.Name, kind, metric.Unit, metric.Description);

        private bool CheckCommon(ulong timeUnixNano)
        {
            if (string.IsNullOrEmpty(metric.Name))
            {
                Reject(1, "a metric has no name");
                return false;
            }

            if (timeUnixNano == 0 || timeUnixNano > latest)
            {
                Reject(1, $"a point of {metric.Name} has time_unix_nano {timeUnixNano}: {(timeUnixNano == 0 ? "no time" : "more than an hour ahead of this node's clock")}");
                return false;
            }

            return true;
        }

        private void Numbers(RepeatedField<NumberDataPoint> data, MetricKind kind, bool delta)
        {
            foreach (var point in data)
            {
                if ((point.Flags & 1) != 0)
                {
                    continue; // NO_RECORDED_VALUE: a staleness marker, nothing to store.
                }

                if (!CheckCommon(point.TimeUnixNano))
                {
                    continue;
                }

                var value = point.ValueCase switch
                {
                    NumberDataPoint.ValueOneofCase.AsDouble => point.AsDouble,
                    NumberDataPoint.ValueOneofCase.AsInt => point.AsInt,
                    _ => double.NaN,
                };
                if (!double.IsFinite(value))
                {
                    Reject(1, $"a point of {metric.Name} has no finite value ({(point.ValueCase == NumberDataPoint.ValueOneofCase.None ? "none" : value.ToString(CultureInfo.InvariantCulture))})");
                    continue;
                }

                points.Add(new MetricPoint(Info(kind), LabelsOf(point.Attributes), Ms(point.TimeUnixNano), value, Delta: delta));
            }
        }

        private void Histogram(HistogramDataPoint point, bool delta)
        {
            if (!CheckCommon(point.TimeUnixNano))
            {
                return;
            }

            var sum = point.HasSum ? point.Sum : 0;
            if (!double.IsFinite(sum))
            {
                Reject(1, $"a histogram point of {metric.Name} has a sum that is not finite");
                return;
            }

            if (point.BucketCounts.Count == 0)
            {
                points.Add(new MetricPoint(Info(MetricKind.Histogram), LabelsOf(point.Attributes), Ms(point.TimeUnixNano), point.Count, sum, Delta: delta));
                return;
            }

            if (point.BucketCounts.Count != point.ExplicitBounds.Count + 1)
            {
                Reject(1, $"a histogram point of {metric.Name} has {point.BucketCounts.Count} bucket counts for {point.ExplicitBounds.Count} bounds (it needs {point.ExplicitBounds.Count + 1})");
                return;
            }

            for (var i = 0; i < point.ExplicitBounds.Count; i++)
            {
                if (!double.IsFinite(point.ExplicitBounds[i]) || (i > 0 && point.ExplicitBounds[i] <= point.ExplicitBounds[i - 1]))
                {
                    Reject(1, $"a histogram point of {metric.Name} has bounds that are not finite and strictly increasing");
                    return;
                }
            }

            ulong total = 0;
            foreach (var count in point.BucketCounts)
            {
                total += count;
            }

            if (total != point.Count || total > long.MaxValue)
            {
                Reject(1, $"a histogram point of {metric.Name} has bucket counts summing to {total}, not its count {point.Count}");
                return;
            }

            points.Add(new MetricPoint(
                Info(MetricKind.Histogram), LabelsOf(point.Attributes), Ms(point.TimeUnixNano), point.Count, sum,
                [.. point.ExplicitBounds], [.. point.BucketCounts.Select(c => (long)c)], delta));
        }

        private void CountAndSum(RepeatedField<KeyValue> attributes, ulong timeUnixNano, ulong count, double sum, bool delta)
        {
            if (!CheckCommon(timeUnixNano))
            {
                return;
            }

            if (!double.IsFinite(sum))
            {
                Reject(1, $"a point of {metric.Name} has a sum that is not finite");
                return;
            }

            points.Add(new MetricPoint(Info(MetricKind.Histogram), LabelsOf(attributes), Ms(timeUnixNano), count, sum, Delta: delta));
        }

        private List<KeyValuePair<string, string>> LabelsOf(RepeatedField<KeyValue> attributes) =>
            Labels(attributes.Select(a => new KeyValuePair<string, string>(a.Key, a.Value is null ? "" : Text(a.Value))), service);

        private static long Ms(ulong unixNano) => (long)(unixNano / 1_000_000);

        private void Reject(long count, string reason)
        {
            Rejected += count;
            Reason ??= reason;
        }
    }
}
