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

    /// <summary>
    /// The brokers of a replicated cluster, as Kafka's controller.quorum.voters: <c>id@host:port</c> of each broker's
    /// metadata (Raft) port, comma separated, this broker's <see cref="BrokerId"/> among them. Every broker is a voter of
    /// the metadata quorum, as in KRaft's combined mode. <value>Default none: one broker alone, no replication.</value>
    /// </summary>
    public string? ControllerQuorumVoters { get; set; }

    /// <summary>The metadata quorum's Raft peer port (h2c), opened only with <see cref="ControllerQuorumVoters"/>. <value>1–65535; default 9093.</value></summary>
    [Range(1, 65_535, ErrorMessage = "must be a port from 1 to 65535")]
    public int RaftPort { get; set; } = 9093;

    /// <summary>
    /// Where this broker dials other brokers' Kafka ports to fetch as a follower, when not at their advertised address
    /// (a proxy in between, as the fault tests put there): <c>id=host:port</c>, comma separated. <value>Default none.</value>
    /// </summary>
    public string? ReplicaDialOverrides { get; set; }

    /// <summary>How long a follower may fail to catch up before its leader drops it from the ISR (replica.lag.time.max.ms). <value>100–600000 ms; default 10000.</value></summary>
    [Range(100, 600_000, ErrorMessage = "must be from 100 to 600000 milliseconds")]
    public int ReplicaLagTimeMaxMs { get; set; } = 10_000;

    /// <summary>How long the controller waits for a broker's heartbeat before fencing it and moving its leaderships (broker.session.timeout.ms). <value>300–600000 ms; default 6000.</value></summary>
    [Range(300, 600_000, ErrorMessage = "must be from 300 to 600000 milliseconds")]
    public int BrokerSessionTimeoutMs { get; set; } = 6000;

    /// <summary>How often a broker heartbeats to the controller (broker.heartbeat.interval.ms). <value>50–60000 ms; default 500.</value></summary>
    [Range(50, 60_000, ErrorMessage = "must be from 50 to 60000 milliseconds")]
    public int BrokerHeartbeatIntervalMs { get; set; } = 500;

    /// <summary>The metadata quorum's Raft tick. <value>10–1000 ms; default 100 (elections after 10 ticks).</value></summary>
    [Range(10, 1000, ErrorMessage = "must be from 10 to 1000 milliseconds")]
    public int RaftTickMs { get; set; } = 100;

    /// <summary>Whether this broker runs in a replicated cluster.</summary>
    public bool IsClustered => !string.IsNullOrWhiteSpace(ControllerQuorumVoters);

    /// <summary>The voters of <see cref="ControllerQuorumVoters"/>; throws <see cref="FormatException"/> with the reason when malformed.</summary>
    public IReadOnlyList<(int Id, string Host, int Port)> ParseVoters()
    {
        var voters = new List<(int Id, string Host, int Port)>();
        foreach (var part in (ControllerQuorumVoters ?? "").Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            var at = part.IndexOf('@', StringComparison.Ordinal);
            if (at <= 0 || !int.TryParse(part.AsSpan(0, at), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var id) || id > 1_000_000
                || !TryHostPort(part[(at + 1)..], out var host, out var port))
            {
                throw new FormatException($"'{part}' is not id@host:port");
            }

            if (voters.Any(voter => voter.Id == id))
            {
                throw new FormatException($"broker id {id} is listed twice");
            }

            voters.Add((id, host, port));
        }

        if (voters.Count == 0)
        {
            throw new FormatException("no voter is listed");
        }

        if (voters.All(voter => voter.Id != BrokerId))
        {
            throw new FormatException($"this broker's id {BrokerId} (Log:BrokerId, --broker-id) is not among the voters {string.Join(", ", voters.Select(voter => voter.Id))}");
        }

        return voters;
    }

    /// <summary>The addresses of <see cref="ReplicaDialOverrides"/> by broker id; throws <see cref="FormatException"/> when malformed.</summary>
    public IReadOnlyDictionary<int, (string Host, int Port)> ParseReplicaDialOverrides()
    {
        var overrides = new Dictionary<int, (string Host, int Port)>();
        foreach (var part in (ReplicaDialOverrides ?? "").Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            var equals = part.IndexOf('=', StringComparison.Ordinal);
            if (equals <= 0 || !int.TryParse(part.AsSpan(0, equals), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var id)
                || !TryHostPort(part[(equals + 1)..], out var host, out var port))
            {
                throw new FormatException($"'{part}' is not id=host:port");
            }

            overrides[id] = (host, port);
        }

        return overrides;
    }

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

        if (IsClustered)
        {
            string? problem = null;
            try
            {
                ParseVoters();
            }
            catch (FormatException e)
            {
                problem = e.Message;
            }

            if (problem is not null)
            {
                yield return new ValidationResult(problem, [nameof(ControllerQuorumVoters)]);
            }

            if (BrokerId < 1)
            {
                yield return new ValidationResult("must be at least 1 in a cluster (it is the broker's id in the metadata quorum)", [nameof(BrokerId)]);
            }
        }

        string? dialProblem = null;
        try
        {
            ParseReplicaDialOverrides();
        }
        catch (FormatException e)
        {
            dialProblem = e.Message;
        }

        if (dialProblem is not null)
        {
            yield return new ValidationResult(dialProblem, [nameof(ReplicaDialOverrides)]);
        }

        if (BrokerHeartbeatIntervalMs * 2 > BrokerSessionTimeoutMs)
        {
            yield return new ValidationResult($"must be at most half of Log:BrokerSessionTimeoutMs ({BrokerSessionTimeoutMs})", [nameof(BrokerHeartbeatIntervalMs)]);
        }
    }

    private static bool TryHostPort(string text, out string host, out int port)
    {
        var colon = text.LastIndexOf(':');
        host = colon > 0 ? text[..colon] : "";
        port = 0;
        return colon > 0
            && int.TryParse(text.AsSpan(colon + 1), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out port)
            && port is >= 1 and <= 65_535;
    }
}
