// Written by hand: the partition log is the subject of this module and no library provides a Kafka log.
// Layout and rules follow Kafka's log (UnifiedLog, LocalLog, LogSegment, LogCleaner): segments named by base offset,
// sparse offset and time indexes, idempotent-producer state (KIP-98), retention, compaction and recovery by scan.
using System.Buffers;
using Blueprint.Log.Kafka;
using Blueprint.Log.Records;

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

    /// <summary>
    /// The most bytes one batch's records may decompress to when the log validates or reads them: a bound against
    /// decompression bombs (a batch past it is rejected as <see cref="ErrorCode.CorruptMessage"/>).
    /// </summary>
    /// <value>At least 1; default 32 MiB.</value>
    public int MaxDecompressedBatchBytes { get; init; } = 32 * 1024 * 1024;

    /// <summary>
    /// The most distinct keys one compaction pass remembers (16 bytes of hash and an offset each); past it the pass
    /// cleans only the segments it mapped whole, and the next pass goes on.
    /// </summary>
    /// <value>At least 1; default 1,000,000.</value>
    public int MaxCompactionKeys { get; init; } = 1_000_000;

    /// <summary>Every problem with the settings, for one error listing them all.</summary>
    internal List<string> Validate()
    {
        var problems = new List<string>();
        if (SegmentBytes < RecordBatchHeader.Size || SegmentBytes > int.MaxValue)
        {
            problems.Add($"SegmentBytes is {SegmentBytes}; it must be within [{RecordBatchHeader.Size}, {int.MaxValue}] (positions in a segment are 32-bit)");
        }

        if (SegmentAge is { } segmentAge && segmentAge <= TimeSpan.Zero)
        {
            problems.Add($"SegmentAge is {segmentAge}; it must be positive or null");
        }

        if (RetentionAge is { } retentionAge && retentionAge < TimeSpan.Zero)
        {
            problems.Add($"RetentionAge is {retentionAge}; it must not be negative");
        }

        if (RetentionBytes is < 0)
        {
            problems.Add($"RetentionBytes is {RetentionBytes}; it must not be negative");
        }

        if (IndexIntervalBytes < 0)
        {
            problems.Add($"IndexIntervalBytes is {IndexIntervalBytes}; it must not be negative");
        }

        if (MaxBatchBytes < RecordBatchHeader.Size)
        {
            problems.Add($"MaxBatchBytes is {MaxBatchBytes}; it must be at least a batch header ({RecordBatchHeader.Size})");
        }

        if (Fsync == FsyncPolicy.Interval && FsyncInterval <= TimeSpan.Zero)
        {
            problems.Add($"FsyncInterval is {FsyncInterval}; it must be positive with FsyncPolicy.Interval");
        }

        if (MaxDecompressedBatchBytes < 1)
        {
            problems.Add($"MaxDecompressedBatchBytes is {MaxDecompressedBatchBytes}; it must be at least 1");
        }

        if (MaxCompactionKeys < 1)
        {
            problems.Add($"MaxCompactionKeys is {MaxCompactionKeys}; it must be at least 1");
        }

        return problems;
    }
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
/// One partition: an append-only log of Kafka v2 record batches in segments (<c>{baseOffset:D20}.log</c> with its
/// <c>.index</c> and <c>.timeindex</c>, as Kafka lays them out), with idempotent-producer state kept in
/// <c>.snapshot</c> files and the leader epochs of its records in <c>leader-epoch-checkpoint</c>. Appends come from a
/// producer (<see cref="AppendAsync(ReadOnlyMemory{byte}, int, CancellationToken)"/>, on the leader) or from the leader
/// (<see cref="AppendReplicatedAsync"/>, on a follower) and are serialized internally; reads run concurrently with appends.
/// </summary>
/// <remarks>
/// Ordering rules: an append is validated whole before the append lock, then under it checked against producer
/// state, given offsets, written, and only then published (segment size, index entries, log end offset, in that
/// order), so a reader that sees an offset below <see cref="LogEndOffset"/> finds its bytes. A segment is sealed
/// (indexes written, all fsynced) and a producer snapshot written before the next segment exists, so after a crash
/// only the last segment needs a scan. A leader epoch reaches the checkpoint before the batch that starts it, and
/// leaves it only after its batches are gone. Retention, compaction and truncation hold a maintenance lock against each
/// other and take the append lock only to swap the segment list; a reader that meets a segment closed under it
/// retries on the new list.
/// </remarks>
public sealed partial class PartitionLog : IAsyncDisposable
{
    /// <summary>Attempts of a read that meets a segment closed under it (deleted by retention, swapped by compaction).</summary>
    private const int ReadAttemptsMax = 3;

    /// <summary>Producer-state snapshots kept; older ones go once a newer one is written.</summary>
    private const int SnapshotsKept = 3;

    private readonly string _directory;
    private readonly PartitionLogConfig _config;
    private readonly TimeProvider _time;
    private readonly FileStream _lockFile;
    private readonly Lock _appendLock = new();
    private readonly SemaphoreSlim _maintenance = new(1, 1);
    private readonly ProducerStateManager _producers;
    private readonly LeaderEpochCache _epochs;
    private readonly GroupCommit _groupCommit;
    private readonly ITimer? _flushTimer;
    private LogSegment[] _segments;
    private long _logStartOffset;
    private long _nextOffset;
    private long _writeSequence;
    private int _disposed;
    private Task _backgroundFlush = Task.CompletedTask;

    private PartitionLog(string directory, PartitionLogConfig config, TimeProvider time, FileStream lockFile, RecoveredLog recovered)
    {
        _directory = directory;
        _config = config;
        _time = time;
        _lockFile = lockFile;
        _segments = recovered.Segments;
        _producers = recovered.Producers;
        _epochs = recovered.Epochs;
        _logStartOffset = _segments[0].BaseOffset;
        _nextOffset = _segments[^1].NextOffset;
        RecoveredBytesTruncated = recovered.TruncatedBytes;
        _groupCommit = new GroupCommit(CaptureForSync);
        if (config.Fsync == FsyncPolicy.Interval)
        {
            _flushTimer = time.CreateTimer(static state => ((PartitionLog)state!).FlushInBackground(), this, config.FsyncInterval, config.FsyncInterval);
        }
    }

    /// <summary>Opens (creating when missing) the log in <paramref name="directory"/>, recovering a torn tail.</summary>
    public static PartitionLog Open(string directory, PartitionLogConfig config, TimeProvider time)
    {
        ArgumentException.ThrowIfNullOrEmpty(directory);
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(time);
        var problems = config.Validate();
        if (problems.Count > 0)
        {
            throw new ArgumentException("invalid partition log settings: " + string.Join("; ", problems), nameof(config));
        }

        Directory.CreateDirectory(directory);
        var lockFile = new FileStream(Path.Combine(directory, SegmentFiles.LockFileName), FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
        try
        {
            return new PartitionLog(directory, config, time, lockFile, LogRecovery.Recover(directory, config, time.GetUtcNow()));
        }
        catch
        {
            lockFile.Dispose();
            throw;
        }
    }

    /// <summary>The first offset still in the log.</summary>
    public long LogStartOffset => Volatile.Read(ref _logStartOffset);

    /// <summary>The offset the next record will get.</summary>
    public long LogEndOffset => Volatile.Read(ref _nextOffset);

    /// <summary>The bytes of all segments.</summary>
    public long SizeBytes
    {
        get
        {
            long total = 0;
            foreach (var segment in Volatile.Read(ref _segments))
            {
                total += segment.Size;
            }

            return total;
        }
    }

    /// <summary>The fsyncs of appended data done by the group commit (not counting those of a segment roll).</summary>
    internal long FsyncCount => _groupCommit.SyncCount;

    /// <summary>The bytes cut from the tail segment when the log was opened.</summary>
    internal long RecoveredBytesTruncated { get; }

    /// <summary>The base offsets of the segments, oldest first.</summary>
    internal long[] SegmentBaseOffsets => [.. Volatile.Read(ref _segments).Select(s => s.BaseOffset)];

    /// <summary>Runs before each group-commit fsync: lets a test hold a round open while appends pile up.</summary>
    internal Func<Task>? BeforeFsync
    {
        get => _groupCommit.BeforeSync;
        set => _groupCommit.BeforeSync = value;
    }

    /// <summary>The flush started by the last <see cref="FsyncPolicy.Interval"/> tick.</summary>
    internal Task BackgroundFlush => Volatile.Read(ref _backgroundFlush);

    internal string DirectoryPath => _directory;

    internal PartitionLogConfig Config => _config;

    internal TimeProvider Time => _time;

    internal LogSegment[] Segments => Volatile.Read(ref _segments);

    /// <summary>
    /// Appends the v2 record batches of one produce request's partition as the leader of epoch 0 (a partition without
    /// replication): <see cref="AppendAsync(ReadOnlyMemory{byte}, int, CancellationToken)"/> with epoch 0, so it is
    /// refused with <see cref="ErrorCode.FencedLeaderEpoch"/> once the log holds a later epoch.
    /// </summary>
    public ValueTask<AppendResult> AppendAsync(ReadOnlyMemory<byte> batches, CancellationToken cancellationToken = default) =>
        AppendAsync(batches, leaderEpoch: 0, cancellationToken);

    /// <summary>
    /// Appends the v2 record batches of one produce request's partition as the leader of <paramref name="leaderEpoch"/>:
    /// checks each batch (magic 2, CRC-32C, length, size limit, record count), gives them offsets from
    /// <see cref="LogEndOffset"/> and stamps their partition leader epoch (outside the CRC), drops an idempotent
    /// producer's duplicate, and completes by the fsync policy. Throws <see cref="RecordRejectedException"/> when
    /// anything is invalid, with <see cref="ErrorCode.FencedLeaderEpoch"/> when the log already holds a later epoch
    /// (a deposed leader).
    /// </summary>
    public ValueTask<AppendResult> AppendAsync(ReadOnlyMemory<byte> batches, int leaderEpoch, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(leaderEpoch);
        ObjectDisposedException.ThrowIf(IsDisposed, this);
        cancellationToken.ThrowIfCancellationRequested();
        var validated = new List<ValidatedBatch>(1);
        BatchValidator.Validate(batches, _config, validated);
        if (batches.Length > _config.SegmentBytes)
        {
            throw new RecordRejectedException(ErrorCode.RecordListTooLarge, $"{batches.Length} bytes of batches do not fit a segment of {_config.SegmentBytes}");
        }

        AppendResult result;
        long sequence;
        byte[] buffer = ArrayPool<byte>.Shared.Rent(batches.Length);
        try
        {
            var data = buffer.AsSpan(0, batches.Length);
            batches.Span.CopyTo(data);
            lock (_appendLock)
            {
                ObjectDisposedException.ThrowIf(IsDisposed, this);
                if (_groupCommit.Failure is { } failure)
                {
                    throw new IOException("the log takes no appends since an fsync failed", failure);
                }

                result = AppendLocked(data, validated, leaderEpoch);
                sequence = _writeSequence;
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }

        return _config.Fsync == FsyncPolicy.Interval
            ? ValueTask.FromResult(result)
            : AwaitDurableAsync(result, sequence, cancellationToken);
    }

    /// <summary>
    /// Copies whole batches starting at the one holding <paramref name="offset"/> into <paramref name="destination"/>, below
    /// <paramref name="upperBound"/> (exclusive: the high watermark), up to <paramref name="maxBytes"/> — but always the
    /// first batch whole even when larger (as Kafka does). Returns the bytes written; throws
    /// <see cref="OffsetOutOfRangeException"/> outside [<see cref="LogStartOffset"/>, <see cref="LogEndOffset"/>].
    /// </summary>
    /// <remarks>
    /// A batch is copied only when its last offset is below <paramref name="upperBound"/>. The batches may come from
    /// several segments. The read allocates nothing: it searches the in-memory offset index, reads headers into a
    /// stack buffer, and reads the batches straight into <paramref name="destination"/>.
    /// </remarks>
    public int Read(long offset, int maxBytes, long upperBound, IBufferWriter<byte> destination)
    {
        ArgumentNullException.ThrowIfNull(destination);
        for (int attempt = 1; ; attempt++)
        {
            ObjectDisposedException.ThrowIf(IsDisposed, this);
            try
            {
                return ReadOnce(offset, maxBytes, upperBound, destination);
            }
            catch (ObjectDisposedException) when (attempt < ReadAttemptsMax && !IsDisposed)
            {
                // A segment went (retention, compaction, truncation) between picking it and reading it; nothing was
                // written to the destination yet, so read again from the current segments.
            }
        }
    }

    /// <summary>
    /// The first record at or after <paramref name="timestamp"/> (as Kafka's ListOffsets finds it): its offset and
    /// timestamp, from the first batch whose max timestamp is at or after <paramref name="timestamp"/>; null when none.
    /// A log-append-time batch answers with its base offset and its append time.
    /// </summary>
    public (long Offset, long Timestamp)? OffsetForTimestamp(long timestamp)
    {
        for (int attempt = 1; ; attempt++)
        {
            ObjectDisposedException.ThrowIf(IsDisposed, this);
            try
            {
                return LogReader.OffsetForTimestamp(Volatile.Read(ref _segments), timestamp, _config.MaxDecompressedBatchBytes);
            }
            catch (ObjectDisposedException) when (attempt < ReadAttemptsMax && !IsDisposed)
            {
                // A segment went between picking it and reading it; look again.
            }
        }
    }

    /// <summary>Deletes what retention (or compaction, for a compacted log) removes; returns the bytes freed.</summary>
    public async ValueTask<long> CleanAsync(CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(IsDisposed, this);
        await _maintenance.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            ObjectDisposedException.ThrowIf(IsDisposed, this);
            return _config.Compact
                ? await Task.Run(() => LogCleaner.Compact(this, cancellationToken), cancellationToken).ConfigureAwait(false)
                : LogCleaner.DeleteRetained(this);
        }
        finally
        {
            _maintenance.Release();
        }
    }

    /// <summary>Forces everything appended to the disk.</summary>
    public async ValueTask FlushAsync(CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(IsDisposed, this);
        long sequence;
        lock (_appendLock)
        {
            sequence = _writeSequence;
        }

        await _groupCommit.WaitDurableAsync(sequence).WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Removes every offset at or after <paramref name="offset"/> (a follower's truncation).</summary>
    /// <remarks>
    /// A batch is removed whole: when <paramref name="offset"/> falls inside one, the log ends before that batch and
    /// <see cref="LogEndOffset"/> becomes its base offset. At or below the first segment's base offset, the log is
    /// emptied and starts again at <paramref name="offset"/>.
    /// </remarks>
    public ValueTask TruncateAsync(long offset, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        return TruncateUnderLocksAsync(() => TruncateLocked(offset), cancellationToken);
    }

    /// <summary>Closes the log (flushing first).</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        await _maintenance.WaitAsync().ConfigureAwait(false);
        try
        {
            if (_flushTimer is not null)
            {
                await _flushTimer.DisposeAsync().ConfigureAwait(false);
            }

            long sequence;
            lock (_appendLock)
            {
                sequence = _writeSequence;
            }

            bool durable = true;
            try
            {
                await _groupCommit.WaitDurableAsync(sequence).ConfigureAwait(false);
            }
            catch (IOException)
            {
                durable = false;
            }

            await _groupCommit.IdleAsync().ConfigureAwait(false);
            await BackgroundFlush.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            lock (_appendLock)
            {
                if (durable)
                {
                    WriteSnapshot(_nextOffset);
                }

                foreach (var segment in _segments)
                {
                    segment.Dispose();
                }
            }
        }
        finally
        {
            _lockFile.Dispose();
            _maintenance.Release();
        }
    }

    /// <summary>Drops the log as a killed process would: closes the files with no flush and no snapshot.</summary>
    internal void Abandon()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        _flushTimer?.Dispose();
        lock (_appendLock)
        {
            foreach (var segment in _segments)
            {
                segment.Dispose();
            }
        }

        _lockFile.Dispose();
    }

    /// <summary>
    /// Removes the oldest <paramref name="count"/> segments (never the active one), moves the log start to the next
    /// one and the leader epochs' front with it; returns the bytes freed. The cleaner decides the count outside the
    /// append lock; the segments before it can only change under the maintenance lock it holds.
    /// </summary>
    internal long DeleteOldestSegments(int count)
    {
        LogSegment[] removed;
        lock (_appendLock)
        {
            var segments = _segments;
            Invariant.Check(count < segments.Length, "retention never deletes the active segment");
            removed = segments[..count];
            Volatile.Write(ref _segments, segments[count..]);
            Volatile.Write(ref _logStartOffset, segments[count].BaseOffset);
        }

        long freed = 0;
        foreach (var segment in removed)
        {
            freed += segment.Size;
            segment.Delete();
        }

        // After the segments: a crash in between leaves entries before the log start, which opening clips again.
        lock (_appendLock)
        {
            if (_epochs.TruncateFromStart(_logStartOffset))
            {
                _epochs.Persist();
            }
        }

        return freed;
    }

    /// <summary>
    /// Swaps a closed segment for its compacted copy: <paramref name="swapFiles"/> renames the cleaned files into place
    /// while the append lock holds off rolls, then the new segment replaces the old one for readers.
    /// </summary>
    internal void ReplaceSegment(LogSegment old, Action swapFiles)
    {
        lock (_appendLock)
        {
            var segments = _segments;
            int index = Array.IndexOf(segments, old);
            Invariant.Check(index >= 0 && index < segments.Length - 1, "compaction replaces a closed segment of the log");
            swapFiles();
            var replacement = LogSegment.OpenClosed(_directory, old.BaseOffset, _config.IndexIntervalBytes);
            var updated = (LogSegment[])segments.Clone();
            updated[index] = replacement;
            Volatile.Write(ref _segments, updated);
        }

        old.Dispose();
    }

    private bool IsDisposed => Volatile.Read(ref _disposed) != 0;

    /// <summary>Runs a truncation under the maintenance lock (against retention and compaction), then the append lock.</summary>
    private async ValueTask TruncateUnderLocksAsync(Action truncate, CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(IsDisposed, this);
        await _maintenance.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            ObjectDisposedException.ThrowIf(IsDisposed, this);
            lock (_appendLock)
            {
                truncate();
            }
        }
        finally
        {
            _maintenance.Release();
        }
    }

    private LogSegment Active => _segments[^1];

    private async ValueTask<AppendResult> AwaitDurableAsync(AppendResult result, long sequence, CancellationToken cancellationToken)
    {
        await _groupCommit.WaitDurableAsync(sequence).WaitAsync(cancellationToken).ConfigureAwait(false);
        return result;
    }

    /// <summary>Epoch and producer checks, roll, offsets and epoch, write, then the new state: all or nothing for the append.</summary>
    private AppendResult AppendLocked(Span<byte> data, List<ValidatedBatch> batches, int leaderEpoch)
    {
        if (leaderEpoch < _epochs.LatestEpoch)
        {
            throw new RecordRejectedException(ErrorCode.FencedLeaderEpoch, $"leader epoch {leaderEpoch} is older than the log's latest epoch {_epochs.LatestEpoch}");
        }

        var now = _time.GetUtcNow();
        long nowMs = now.ToUnixTimeMilliseconds();
        long firstOffset = _nextOffset;
        long offset = firstOffset;
        Dictionary<long, ProducerEntry>? pending = null;
        for (int i = 0; i < batches.Count; i++)
        {
            var header = batches[i].Header;
            if (header.HasProducerId)
            {
                pending ??= [];
                var verdict = _producers.Check(header, pending, offset, offset + header.LastOffsetDelta);
                if (verdict.Duplicate is { } duplicate)
                {
                    if (i > 0)
                    {
                        throw new RecordRejectedException(ErrorCode.DuplicateSequenceNumber, $"batch {i} of the append repeats producer {header.ProducerId} sequence {header.BaseSequence}");
                    }

                    return new AppendResult(duplicate.FirstOffset, duplicate.LastOffset, nowMs, Duplicate: true);
                }

                if (verdict.Error != ErrorCode.None)
                {
                    throw new RecordRejectedException(verdict.Error, verdict.Reason!);
                }
            }

            offset += header.LastOffsetDelta + 1L;
        }

        long lastOffset = offset - 1;
        var active = Active;
        if (ShouldRoll(active, data.Length, lastOffset, now))
        {
            active = Roll();
        }

        var appended = batches.Count <= 8 ? stackalloc AppendedBatch[batches.Count] : new AppendedBatch[batches.Count];
        offset = firstOffset;
        for (int i = 0; i < batches.Count; i++)
        {
            var (position, header) = batches[i];
            RecordBatchHeader.WriteBaseOffset(data[position..], offset);
            RecordBatchHeader.WritePartitionLeaderEpoch(data[position..], leaderEpoch);
            appended[i] = new AppendedBatch(position, offset, offset + header.LastOffsetDelta, header.MaxTimestamp, header.TotalSize);
            offset += header.LastOffsetDelta + 1L;
        }

        WriteWithEpochs(active, data, appended, _epochs.Assign(leaderEpoch, firstOffset));
        active.FirstAppendTime ??= now;
        if (pending is not null)
        {
            _producers.Commit(pending);
        }

        Volatile.Write(ref _nextOffset, offset);
        _writeSequence++;
        return new AppendResult(firstOffset, lastOffset, nowMs, Duplicate: false);
    }

    private bool ShouldRoll(LogSegment active, int appendBytes, long lastOffset, DateTimeOffset now) =>
        active.Size > 0
        && (active.Size + appendBytes > _config.SegmentBytes
            || (_config.SegmentAge is { } age && active.FirstAppendTime is { } first && now - first >= age)
            || lastOffset - active.BaseOffset > int.MaxValue);

    /// <summary>Closes the active segment (indexes written, everything fsynced), snapshots producer state at the new base offset and starts a segment there.</summary>
    private LogSegment Roll()
    {
        Active.Seal();
        long baseOffset = _nextOffset;
        WriteSnapshot(baseOffset);
        var segment = LogSegment.Create(_directory, baseOffset, _config.IndexIntervalBytes);
        SegmentFiles.SyncDirectory(_directory);
        Volatile.Write(ref _segments, [.. _segments, segment]);
        return segment;
    }

    private void WriteSnapshot(long offset)
    {
        SegmentFiles.WriteAtomically(SegmentFiles.SnapshotPath(_directory, offset), ProducerSnapshot.Encode(_producers));
        var offsets = ProducerSnapshot.List(_directory);
        for (int i = 0; i < offsets.Count - SnapshotsKept; i++)
        {
            SegmentFiles.DeleteIfExists(SegmentFiles.SnapshotPath(_directory, offsets[i]));
        }
    }

    private (long Sequence, LogSegment Segment) CaptureForSync()
    {
        lock (_appendLock)
        {
            return (_writeSequence, Active);
        }
    }

    private void FlushInBackground()
    {
        if (IsDisposed)
        {
            return;
        }

        long sequence;
        lock (_appendLock)
        {
            sequence = _writeSequence;
        }

        Volatile.Write(ref _backgroundFlush, _groupCommit.WaitDurableAsync(sequence));
    }

    private int ReadOnce(long offset, int maxBytes, long upperBound, IBufferWriter<byte> destination)
    {
        long end = Volatile.Read(ref _nextOffset);
        var segments = Volatile.Read(ref _segments);
        long start = Volatile.Read(ref _logStartOffset);
        if (offset < start || offset > end)
        {
            throw new OffsetOutOfRangeException(offset, start, end);
        }

        if (offset == end || offset >= upperBound)
        {
            return 0;
        }

        int index = LogReader.FindSegment(segments, offset);
        if (index < 0)
        {
            throw new OffsetOutOfRangeException(offset, segments[0].BaseOffset, end);
        }

        return LogReader.Read(segments, index, offset, maxBytes, upperBound, destination);
    }

    private void TruncateLocked(long offset)
    {
        if (offset >= _nextOffset)
        {
            return;
        }

        var segments = _segments;
        if (offset <= segments[0].BaseOffset)
        {
            StartEmptyAt(offset);
        }
        else
        {
            int keep = LogReader.FindSegment(segments, offset - 1) + 1;
            var last = segments[keep - 1];
            long cut = last.Size;
            long nextOffset = offset;
            if (last.TryLocate(offset, last.Size, out long position, out _, out _))
            {
                cut = position;
                nextOffset = Math.Min(offset, last.BaseOffsetOfBatchAt(position));
            }

            foreach (var removed in segments[keep..])
            {
                removed.Delete();
            }

            last.TruncateTo(cut, nextOffset);
            Volatile.Write(ref _segments, segments[..keep]);
        }

        SegmentFiles.SyncDirectory(_directory);
        Volatile.Write(ref _nextOffset, Active.NextOffset);
        foreach (long snapshot in ProducerSnapshot.List(_directory))
        {
            if (snapshot > _nextOffset)
            {
                SegmentFiles.DeleteIfExists(SegmentFiles.SnapshotPath(_directory, snapshot));
            }
        }

        LogRecovery.LoadProducerState(_directory, _segments, _nextOffset, _producers);

        // After the log: a crash in between leaves entries past the log end, which opening drops again.
        if (_epochs.TruncateFromEnd(_nextOffset))
        {
            _epochs.Persist();
        }
    }

    /// <summary>Deletes every segment and starts the log empty at <paramref name="offset"/>.</summary>
    private void StartEmptyAt(long offset)
    {
        foreach (var segment in _segments)
        {
            segment.Delete();
        }

        var fresh = LogSegment.Create(_directory, offset, _config.IndexIntervalBytes);
        Volatile.Write(ref _segments, [fresh]);
        Volatile.Write(ref _logStartOffset, offset);
    }
}

/// <summary>What opening a log directory found: its segments (the last one active), producer state, leader epochs and the bytes cut from a torn tail.</summary>
internal sealed record RecoveredLog(LogSegment[] Segments, ProducerStateManager Producers, LeaderEpochCache Epochs, long TruncatedBytes);

/// <summary>A fetch or lookup outside the log's offsets.</summary>
public sealed class OffsetOutOfRangeException(long offset, long start, long end)
    : Exception($"offset {offset} is outside the log [{start}, {end})")
{
    /// <summary>The offset asked for.</summary>
    public long Offset { get; } = offset;
}
