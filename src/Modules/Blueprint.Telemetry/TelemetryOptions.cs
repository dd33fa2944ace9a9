using System.ComponentModel.DataAnnotations;

namespace Blueprint.Telemetry;

/// <summary>Options of the telemetry module (configuration section <c>Telemetry</c>).</summary>
public sealed class TelemetryOptions
{
    /// <summary>The configuration section.</summary>
    public const string Section = "Telemetry";

    /// <summary>The OTLP/gRPC port (h2c). <value>Default 4317; 0 picks a free one.</value></summary>
    [Range(0, 65_535, ErrorMessage = "must be a port from 0 to 65535")]
    public int OtlpGrpcPort { get; set; } = 4317;

    /// <summary>The OTLP/HTTP port (<c>POST /v1/traces</c>, <c>/v1/metrics</c>). <value>Default 4318; 0 picks a free one.</value></summary>
    [Range(0, 65_535, ErrorMessage = "must be a port from 0 to 65535")]
    public int OtlpHttpPort { get; set; } = 4318;

    /// <summary>Whether the node stores its own spans (an in-process exporter, no network hop). <value>Default true.</value></summary>
    public bool StoreOwnSpans { get; set; } = true;

    /// <summary>
    /// The largest OTLP request (protobuf or JSON, after decompression); a larger one is refused with 413 (HTTP) or
    /// RESOURCE_EXHAUSTED (gRPC). <value>1024–67108864 bytes; default 4194304 (the OTel collector's default).</value>
    /// </summary>
    [Range(1024, 64 * 1024 * 1024, ErrorMessage = "must be from 1024 to 67108864 bytes")]
    public int MaxRequestBytes { get; set; } = 4 * 1024 * 1024;

    /// <summary>
    /// Spans that may wait to be written. An export that finds the queue full has its spans dropped and counted
    /// (<c>blueprint.telemetry.spans.dropped</c>, and <c>rejected_spans</c> in the OTLP reply): ingest never blocks
    /// the app that exports. <value>1024–10000000; default 262144.</value>
    /// </summary>
    [Range(1024, 10_000_000, ErrorMessage = "must be from 1024 to 10000000")]
    public int QueueSpans { get; set; } = 262_144;

    /// <summary>The most spans written in one transaction. <value>16–65536; default 4096.</value></summary>
    [Range(16, 65_536, ErrorMessage = "must be from 16 to 65536")]
    public int WriteBatchSpans { get; set; } = 4096;

    /// <summary>How long spans are kept. <value>1–8760 hours; default 72.</value></summary>
    [Range(1, 8760, ErrorMessage = "must be from 1 to 8760 hours")]
    public int RetentionHours { get; set; } = 72;

    /// <summary>
    /// The most spans kept; the oldest are deleted beyond it (checked every <see cref="RetentionCheckSeconds"/>).
    /// <value>1000–1000000000; default 5000000.</value>
    /// </summary>
    [Range(1000, 1_000_000_000, ErrorMessage = "must be from 1000 to 1000000000")]
    public long MaxSpans { get; set; } = 5_000_000;

    /// <summary>How often retention runs. <value>1–3600 seconds; default 60.</value></summary>
    [Range(1, 3600, ErrorMessage = "must be from 1 to 3600 seconds")]
    public int RetentionCheckSeconds { get; set; } = 60;

    /// <summary>The most traces a search returns. <value>1–10000; default 1500 (Jaeger's UI maximum).</value></summary>
    [Range(1, 10_000, ErrorMessage = "must be from 1 to 10000")]
    public int SearchLimitMax { get; set; } = 1500;

    /// <summary>
    /// Decode OTLP requests and drop them instead of storing: the receiver's physical floor, for <c>bench/trace.sh</c>.
    /// <value>Default false.</value>
    /// </summary>
    public bool DropAfterDecode { get; set; }

    /// <summary>Whether the node stores its own metrics (an in-process reader of its MeterProvider). <value>Default true.</value></summary>
    public bool StoreOwnMetrics { get; set; } = true;

    /// <summary>
    /// How often the node reads its own metrics, the shortest default query step, and how often rollups run.
    /// <value>1–3600 seconds; default 10.</value>
    /// </summary>
    [Range(1, 3600, ErrorMessage = "must be from 1 to 3600 seconds")]
    public int MetricsIntervalSeconds { get; set; } = 10;

    /// <summary>How long raw metric points are kept. <value>1–720 hours; default 6.</value></summary>
    [Range(1, 720, ErrorMessage = "must be from 1 to 720 hours")]
    public int MetricsRawRetentionHours { get; set; } = 6;

    /// <summary>How long one-minute rollups are kept. <value>1–366 days; default 7.</value></summary>
    [Range(1, 366, ErrorMessage = "must be from 1 to 366 days")]
    public int MetricsMinuteRetentionDays { get; set; } = 7;

    /// <summary>How long one-hour rollups are kept. <value>1–3660 days; default 90.</value></summary>
    [Range(1, 3660, ErrorMessage = "must be from 1 to 3660 days")]
    public int MetricsHourRetentionDays { get; set; } = 90;

    /// <summary>
    /// The most series (metric name and label set) the store holds; points of a new series beyond it are dropped and
    /// counted (<c>blueprint.telemetry.metric_points.dropped</c> reason <c>series_limit</c>, and <c>rejected_data_points</c>
    /// in the OTLP reply). <value>10–1000000; default 10000.</value>
    /// </summary>
    [Range(10, 1_000_000, ErrorMessage = "must be from 10 to 1000000")]
    public int MetricsMaxSeries { get; set; } = 10_000;

    /// <summary>Metric points that may wait to be written; an export that finds the queue full is dropped and counted. <value>1024–10000000; default 262144.</value></summary>
    [Range(1024, 10_000_000, ErrorMessage = "must be from 1024 to 10000000")]
    public int MetricsQueuePoints { get; set; } = 262_144;

    /// <summary>The most metric points written in one transaction. <value>16–65536; default 8192.</value></summary>
    [Range(16, 65_536, ErrorMessage = "must be from 16 to 65536")]
    public int MetricsWriteBatchPoints { get; set; } = 8192;

    /// <summary>The most series one metrics query returns (the rest are cut and <c>truncated</c> is true). <value>1–10000; default 500.</value></summary>
    [Range(1, 10_000, ErrorMessage = "must be from 1 to 10000")]
    public int MetricsQueryMaxSeries { get; set; } = 500;

    /// <summary>The most points a series of one metrics query may have; a smaller step is refused with 400. <value>10–100000; default 11000.</value></summary>
    [Range(10, 100_000, ErrorMessage = "must be from 10 to 100000")]
    public int MetricsQueryMaxPoints { get; set; } = 11_000;
}
