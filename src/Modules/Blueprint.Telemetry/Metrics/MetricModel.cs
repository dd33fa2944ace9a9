namespace Blueprint.Telemetry.Metrics;

/// <summary>What a metric measures, which decides how it is stored and what a query may ask of it.</summary>
internal enum MetricKind
{
    /// <summary>A value sampled now (memory in use, a Raft term).</summary>
    Gauge = 0,

    /// <summary>A monotonic cumulative sum (requests served); a drop is a reset (the process restarted).</summary>
    Counter = 1,

    /// <summary>A non-monotonic sum (connections open); stored and queried as a gauge.</summary>
    UpDownCounter = 2,

    /// <summary>A cumulative count, sum and per-bucket counts; percentiles come from bucket deltas.</summary>
    Histogram = 3,
}

/// <summary>A metric's name and what describes it.</summary>
internal sealed record MetricInfo(string Name, MetricKind Kind, string Unit, string Description);

/// <summary>
/// One point of one series as written: <see cref="Value"/> is the gauge's value, the counter's cumulative value or the
/// histogram's cumulative count; a histogram also has its cumulative <see cref="Sum"/>, its per-bucket cumulative
/// <see cref="Buckets"/> (one more than <see cref="Bounds"/>, the last for +Inf) and the bucket upper bounds.
/// <see cref="Delta"/>: the values are increases since the exporter's previous point (OTLP delta temporality), which the
/// ingest adds to the series' running total.
/// </summary>
internal sealed record MetricPoint(
    MetricInfo Metric,
    IReadOnlyList<KeyValuePair<string, string>> Labels,
    long TimeMs,
    double Value,
    double Sum = 0,
    double[]? Bounds = null,
    long[]? Buckets = null,
    bool Delta = false);

/// <summary>The kinds' names in the query API.</summary>
internal static class MetricKinds
{
    public static string Name(MetricKind kind) => kind switch
    {
        MetricKind.Counter => "counter",
        MetricKind.UpDownCounter => "updowncounter",
        MetricKind.Histogram => "histogram",
        _ => "gauge",
    };
}
