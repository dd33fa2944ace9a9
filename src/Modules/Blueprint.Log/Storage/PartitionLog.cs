using System.Buffers;
using Blueprint.Log.Kafka;

namespace Blueprint.Log.Storage;

/// <summary>When the log forces appended data to the disk.</summary>
public enum FsyncPolicy
{
    /// <summary>Every append completes only after an fsync covering it (appends that arrive together share one fsync).</summary>
    PerBatch,

    /// <summary>A background flush every <see cref="PartitionLogConfig.FsyncInterval"/>; an append completes once written to the OS.</summary>
    Interval,
}

/// <summary>How one partition's log is kept.</summary>
public sealed record PartitionLogConfig
{
    /// <summary>A segment rolls when it would grow past this many bytes (Kafka's segment.bytes).</summary>
    public long SegmentBytes { get; init; } = 256L * 1024 * 1024;

    /// <summary>A segment rolls when its first batch is older than this (segment.ms); null: never by time.</summary>
    public TimeSpan? SegmentAge { get; init; } = TimeSpan.FromDays(7);

    /// <summary>Closed segments whose newest record is older than this are deleted (retention.ms); null keeps them.</summary>
    public TimeSpan? RetentionAge { get; init; } = TimeSpan.FromDays(7);

    /// <summary>Oldest closed segments are deleted while the log is larger than this (retention.bytes); null: no limit.</summary>
    public long? RetentionBytes { get; init; }

    /// <summary>Whether cleanup is compaction (keep the latest record per key; cleanup.policy=compact) rather than deletion.</summary>
    public bool Compact { get; init; }

    /// <summary>An offset-index (and time-index) entry every this many bytes (index.interval.bytes).</summary>
    public int IndexIntervalBytes { get; init; } = 4096;

    /// <summary>The largest record batch accepted (max.message.bytes).</summary>
    public int MaxBatchBytes { get; init; } = 1024 * 1024 + 12;

    /// <summary>When appended data is forced to disk.</summary>
    public FsyncPolicy Fsync { get; init; } = FsyncPolicy.PerBatch;

    /// <summary>The flush period of <see cref="FsyncPolicy.Interval"/>.</summary>
    public TimeSpan FsyncInterval { get; init; } = TimeSpan.FromMilliseconds(100);
}

/// <summary>The result of an append: the offsets given to the batch (or to its earlier copy, for a duplicate).</summary>
/// <param name="BaseOffset">The first offset of the batch.</param>
/// <param name="LastOffset">The last offset of the batch.</param>
/// <param name="LogAppendTime">The broker time of the append (milliseconds since the epoch).</param>
/// <param name="Duplicate">Whether an idempotent producer's retry of a batch already in the log, not written again.</param>
public readonly record struct AppendResult(long BaseOffset, long LastOffset, long LogAppendTime, bool Duplicate);

/// <summary>A batch rejected before anything was written, with the Kafka error code the client gets.</summary>
public sealed class RecordRejectedException(ErrorCode code, string message) : Exception(message)
{
    /// <summary>The code for the produce response.</summary>
    public ErrorCode Code { get; } = code;
}

/// <summary>
/// One partition: an append-only log of Kafka v2 record batches in segments (see the storage helper's file header).
/// Appends are serialized internally; reads run concurrently with appends.
/// </summary>
public sealed partial class PartitionLog : IAsyncDisposable
{
    /// <summary>Opens (creating when missing) the log in <paramref name="directory"/>, recovering a torn tail.</summary>
    public static PartitionLog Open(string directory, PartitionLogConfig config, TimeProvider time) => throw new NotImplementedException();

    /// <summary>The first offset still in the log.</summary>
    public long LogStartOffset => throw new NotImplementedException();

    /// <summary>The offset the next record will get.</summary>
    public long LogEndOffset => throw new NotImplementedException();

    /// <summary>The bytes of all segments.</summary>
    public long SizeBytes => throw new NotImplementedException();

    /// <summary>
    /// Appends the v2 record batches of one produce request's partition: checks each batch (magic 2, CRC-32C, length,
    /// size limit, record count), gives them offsets from <see cref="LogEndOffset"/>, drops an idempotent producer's
    /// duplicate, and completes by the fsync policy. Throws <see cref="RecordRejectedException"/> when anything is invalid.
    /// </summary>
    public ValueTask<AppendResult> AppendAsync(ReadOnlyMemory<byte> batches, CancellationToken cancellationToken = default) => throw new NotImplementedException();

    /// <summary>
    /// Copies whole batches starting at the one holding <paramref name="offset"/> into <paramref name="destination"/>, below
    /// <paramref name="upperBound"/> (exclusive: the high watermark), up to <paramref name="maxBytes"/> — but always the
    /// first batch whole even when larger (as Kafka does). Returns the bytes written; throws
    /// <see cref="OffsetOutOfRangeException"/> outside [<see cref="LogStartOffset"/>, <see cref="LogEndOffset"/>].
    /// </summary>
    public int Read(long offset, int maxBytes, long upperBound, IBufferWriter<byte> destination) => throw new NotImplementedException();

    /// <summary>The first offset whose batch max timestamp is at or after <paramref name="timestamp"/>, with that timestamp; null when none.</summary>
    public (long Offset, long Timestamp)? OffsetForTimestamp(long timestamp) => throw new NotImplementedException();

    /// <summary>Deletes what retention (or compaction, for a compacted log) removes; returns the bytes freed.</summary>
    public ValueTask<long> CleanAsync(CancellationToken cancellationToken = default) => throw new NotImplementedException();

    /// <summary>Forces everything appended to the disk.</summary>
    public ValueTask FlushAsync(CancellationToken cancellationToken = default) => throw new NotImplementedException();

    /// <summary>Removes every offset at or after <paramref name="offset"/> (a follower's truncation).</summary>
    public ValueTask TruncateAsync(long offset, CancellationToken cancellationToken = default) => throw new NotImplementedException();

    /// <summary>Closes the log (flushing first).</summary>
    public ValueTask DisposeAsync() => throw new NotImplementedException();
}

/// <summary>A fetch or lookup outside the log's offsets.</summary>
public sealed class OffsetOutOfRangeException(long offset, long start, long end)
    : Exception($"offset {offset} is outside the log [{start}, {end})")
{
    /// <summary>The offset asked for.</summary>
    public long Offset { get; } = offset;
}
