namespace Blueprint.Log;

/// <summary>
/// The log module's topics for other modules, in process: append records and read them back by partition and offset,
/// with committed offsets per consumer group. The same topics are served to Kafka clients on the Kafka port, so a
/// record appended here is read by kcat, and one produced by a Kafka client is read here.
/// </summary>
public interface IEventLog
{
    /// <summary>Creates the topic when missing; an existing topic is left as it is.</summary>
    /// <param name="topic">The name (Kafka's rules: letters, digits, '.', '_', '-').</param>
    /// <param name="partitions">Its partitions when created.</param>
    /// <param name="configs">Kafka topic configs when created, for example <c>cleanup.policy=compact</c>.</param>
    /// <param name="cancellationToken">Cancels the wait.</param>
    /// <exception cref="ArgumentException">The name, partition count or a config is invalid.</exception>
    ValueTask EnsureTopicAsync(string topic, int partitions, IReadOnlyDictionary<string, string>? configs = null, CancellationToken cancellationToken = default);

    /// <summary>The partitions of a topic, or 0 when there is none.</summary>
    int PartitionCount(string topic);

    /// <summary>
    /// Appends records as one batch and returns where they landed once durable (by the node's fsync policy). Without a
    /// partition, records go to the partition of their key (Kafka's murmur2 partitioner, as the Java client), or round
    /// robin when keyless.
    /// </summary>
    /// <exception cref="InvalidOperationException">The topic does not exist, or the log refused the batch (the message says why).</exception>
    ValueTask<LogPosition> AppendAsync(string topic, IReadOnlyList<LogMessage> records, int? partition = null, CancellationToken cancellationToken = default);

    /// <summary>
    /// Reads up to <paramref name="maxRecords"/> records of one partition from <paramref name="offset"/>, waiting up to
    /// <paramref name="maxWait"/> for the first when none is there yet. Returns an empty list when the wait ends without one.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The offset is before the log's start (deleted by retention) or past its end.</exception>
    ValueTask<IReadOnlyList<LogEntry>> ReadAsync(string topic, int partition, long offset, int maxRecords, TimeSpan maxWait, CancellationToken cancellationToken = default);

    /// <summary>The first offset still kept and the end (next offset) of a partition.</summary>
    (long Start, long End) Offsets(string topic, int partition);

    /// <summary>Stores a consumer group's next offset for a partition, durably, as Kafka's OffsetCommit does for a standalone consumer.</summary>
    ValueTask CommitAsync(string group, string topic, int partition, long nextOffset, CancellationToken cancellationToken = default);

    /// <summary>A consumer group's committed next offset for a partition, or null when none.</summary>
    long? Committed(string group, string topic, int partition);
}

/// <summary>A record to append.</summary>
/// <param name="Key">The key (partitioning and compaction), or null.</param>
/// <param name="Value">The value, or null (a tombstone in a compacted topic).</param>
/// <param name="Headers">Headers, or null.</param>
/// <param name="Timestamp">The create time; null for now.</param>
public sealed record LogMessage(byte[]? Key, byte[]? Value, IReadOnlyList<KeyValuePair<string, byte[]?>>? Headers = null, DateTimeOffset? Timestamp = null);

/// <summary>Where an appended batch landed.</summary>
/// <param name="Partition">The partition.</param>
/// <param name="BaseOffset">The offset of the first record.</param>
/// <param name="LastOffset">The offset of the last record.</param>
public readonly record struct LogPosition(int Partition, long BaseOffset, long LastOffset);

/// <summary>A record read back.</summary>
/// <param name="Partition">The partition.</param>
/// <param name="Offset">Its offset.</param>
/// <param name="Timestamp">Its timestamp.</param>
/// <param name="Key">The key, or null.</param>
/// <param name="Value">The value, or null.</param>
/// <param name="Headers">The headers.</param>
public sealed record LogEntry(int Partition, long Offset, DateTimeOffset Timestamp, byte[]? Key, byte[]? Value, IReadOnlyList<KeyValuePair<string, byte[]?>> Headers);
