using System.ComponentModel.DataAnnotations;
using Blueprint.Log.Storage;

namespace Blueprint.Log;

/// <summary>Options of the log module (configuration section <c>Log</c>); names follow Kafka's broker settings.</summary>
public sealed class LogOptions : IValidatableObject
{
    /// <summary>The configuration section.</summary>
    public const string Section = "Log";

    /// <summary>The Kafka protocol port, on the node's bind address. <value>1–65535; default 9092, Kafka's.</value></summary>
    [Range(1, 65_535, ErrorMessage = "must be a port from 1 to 65535")]
    public int KafkaPort { get; set; } = 9092;

    /// <summary>This broker's id in Metadata responses (Kafka's broker.id / node.id). <value>0–1000000; default 1.</value></summary>
    [Range(0, 1_000_000, ErrorMessage = "must be from 0 to 1000000")]
    public int BrokerId { get; set; } = 1;

    /// <summary>The host clients are told to connect to (advertised.listeners). <value>Default: the node's client host.</value></summary>
    public string? AdvertisedHost { get; set; }

    /// <summary>Whether Metadata and Produce for an unknown topic create it (auto.create.topics.enable). <value>Default true.</value></summary>
    public bool AutoCreateTopics { get; set; } = true;

    /// <summary>Partitions of an auto-created topic (num.partitions). <value>1–10000; default 1.</value></summary>
    [Range(1, 10_000, ErrorMessage = "must be from 1 to 10000")]
    public int DefaultPartitions { get; set; } = 1;

    /// <summary>The largest number of partitions one topic may have. <value>1–100000; default 10000.</value></summary>
    [Range(1, 100_000, ErrorMessage = "must be from 1 to 100000")]
    public int MaxPartitionsPerTopic { get; set; } = 10_000;

    /// <summary>The largest number of topics. <value>1–100000; default 10000.</value></summary>
    [Range(1, 100_000, ErrorMessage = "must be from 1 to 100000")]
    public int MaxTopics { get; set; } = 10_000;

    /// <summary>A segment rolls past this size (log.segment.bytes). <value>1 MiB–1 GiB; default 256 MiB.</value></summary>
    [Range(1L << 20, 1L << 30, ErrorMessage = "must be from 1048576 to 1073741824 bytes")]
    public long SegmentBytes { get; set; } = 256L << 20;

    /// <summary>A segment rolls when this old (log.roll.hours). <value>1–8760 hours; default 168 (7 days).</value></summary>
    [Range(1, 8760, ErrorMessage = "must be from 1 to 8760 hours")]
    public int SegmentHours { get; set; } = 168;

    /// <summary>Segments whose newest record is older than this are deleted (log.retention.hours); -1 keeps them. <value>Default 168 (7 days).</value></summary>
    [Range(-1, 876_000, ErrorMessage = "must be -1 (forever) or from 0 to 876000 hours")]
    public int RetentionHours { get; set; } = 168;

    /// <summary>Oldest segments are deleted while a partition is larger than this (log.retention.bytes); -1: no limit. <value>Default -1.</value></summary>
    [Range(-1, long.MaxValue, ErrorMessage = "must be -1 (no limit) or a number of bytes")]
    public long RetentionBytes { get; set; } = -1;

    /// <summary>
    /// When appends are forced to disk: <c>batch</c> (default: a produce is acknowledged only after an fsync covering it,
    /// concurrent produces sharing one) or <c>interval</c> (fsync every <see cref="FsyncIntervalMs"/>; a crash may lose
    /// that window, which Kafka's default also risks and covers with replication).
    /// </summary>
    [RegularExpression("^(batch|interval)$", ErrorMessage = "must be batch or interval")]
    public string Fsync { get; set; } = "batch";

    /// <summary>The flush period of <c>interval</c>. <value>1–60000 ms; default 100.</value></summary>
    [Range(1, 60_000, ErrorMessage = "must be from 1 to 60000 milliseconds")]
    public int FsyncIntervalMs { get; set; } = 100;

    /// <summary>How often retention and compaction run (log.retention.check.interval.ms). <value>1–3600 s; default 300.</value></summary>
    [Range(1, 3600, ErrorMessage = "must be from 1 to 3600 seconds")]
    public int CleanupIntervalSeconds { get; set; } = 300;

    /// <summary>The largest request frame (socket.request.max.bytes). <value>1 KiB–1 GiB; default 100 MiB, Kafka's.</value></summary>
    [Range(1024, 1 << 30, ErrorMessage = "must be from 1024 to 1073741824 bytes")]
    public int MaxRequestBytes { get; set; } = 100 << 20;

    /// <summary>The largest record batch (message.max.bytes). <value>1 KiB–100 MiB; default 1048588, Kafka's.</value></summary>
    [Range(1024, 100 << 20, ErrorMessage = "must be from 1024 to 104857600 bytes")]
    public int MaxMessageBytes { get; set; } = 1_048_588;

    /// <summary>The longest a Fetch may wait for data, whatever the client asks. <value>0–300000 ms; default 30000.</value></summary>
    [Range(0, 300_000, ErrorMessage = "must be from 0 to 300000 milliseconds")]
    public int MaxFetchWaitMs { get; set; } = 30_000;

    /// <summary>How long an empty group waits for more members before its first rebalance (group.initial.rebalance.delay.ms). <value>0–300000; default 3000.</value></summary>
    [Range(0, 300_000, ErrorMessage = "must be from 0 to 300000 milliseconds")]
    public int GroupInitialRebalanceDelayMs { get; set; } = 3000;

    /// <summary>The smallest session timeout a consumer may ask for (group.min.session.timeout.ms). <value>1–3600000; default 6000.</value></summary>
    [Range(1, 3_600_000, ErrorMessage = "must be from 1 to 3600000 milliseconds")]
    public int GroupMinSessionTimeoutMs { get; set; } = 6000;

    /// <summary>The largest session timeout a consumer may ask for (group.max.session.timeout.ms). <value>1–3600000; default 1800000.</value></summary>
    [Range(1, 3_600_000, ErrorMessage = "must be from 1 to 3600000 milliseconds")]
    public int GroupMaxSessionTimeoutMs { get; set; } = 1_800_000;

    /// <summary>The fsync policy as the storage names it.</summary>
    public FsyncPolicy FsyncPolicy => Fsync == "interval" ? FsyncPolicy.Interval : FsyncPolicy.PerBatch;

    /// <summary>The storage settings of a new topic's partitions, before the topic's own configs.</summary>
    public PartitionLogConfig PartitionDefaults() => new()
    {
        SegmentBytes = SegmentBytes,
        SegmentAge = TimeSpan.FromHours(SegmentHours),
        RetentionAge = RetentionHours < 0 ? null : TimeSpan.FromHours(RetentionHours),
        RetentionBytes = RetentionBytes < 0 ? null : RetentionBytes,
        MaxBatchBytes = MaxMessageBytes,
        Fsync = FsyncPolicy,
        FsyncInterval = TimeSpan.FromMilliseconds(FsyncIntervalMs),
    };

    /// <inheritdoc />
    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (GroupMinSessionTimeoutMs > GroupMaxSessionTimeoutMs)
        {
            yield return new ValidationResult(
                $"must not be larger than Log:GroupMaxSessionTimeoutMs ({GroupMaxSessionTimeoutMs})", [nameof(GroupMinSessionTimeoutMs)]);
        }

        if (MaxMessageBytes > MaxRequestBytes)
        {
            yield return new ValidationResult($"must not be larger than Log:MaxRequestBytes ({MaxRequestBytes})", [nameof(MaxMessageBytes)]);
        }
    }
}
