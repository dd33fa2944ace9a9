// Written by hand: the partition log is the subject of this module and no library provides a Kafka log.
// The storage side of Kafka's replication: a follower's append of the leader's batches as they are (UnifiedLog.append
// without offset assignment), the leader epoch cache that answers OffsetForLeaderEpoch (KIP-101, KIP-279), and the
// full truncation of a follower that fell behind the leader's log start (truncateFullyAndStartAt).
using Blueprint.Log.Kafka;

namespace Blueprint.Log.Storage;

/// <content>Replication: the follower's append, leader epochs, and the follower's full truncation.</content>
public sealed partial class PartitionLog
{
    /// <summary>The latest leader epoch the log knows (of its last records, or of the last leader append); -1 when none.</summary>
    public int LatestEpoch => _epochs.LatestEpoch;

    /// <summary>The (epoch, start offset) entries of the leader epoch cache, oldest first.</summary>
    internal IReadOnlyList<EpochEntry> EpochEntries => _epochs.Entries;

    /// <summary>
    /// Appends batches copied from the leader (as a Fetch returned them: offsets assigned, partition leader epoch set)
    /// byte for byte: no offsets assigned, no duplicates dropped. Each batch is checked (magic 2, CRC-32C, length, size
    /// limit); the first must start at <see cref="LogEndOffset"/> and each next one right after the one before — in a
    /// compacted log (<see cref="PartitionLogConfig.Compact"/>) past a hole compaction left too, never back. A batch's
    /// leader epoch may not be below the epoch of records already in the log (truncate a divergent tail first, with
    /// <see cref="EndOffsetForEpoch"/>). Producer state, indexes and the leader epoch cache follow the batches, segments
    /// roll as for <see cref="AppendAsync(ReadOnlyMemory{byte}, int, CancellationToken)"/> (splitting the input across
    /// segments when it does not fit one), and the append completes by the fsync policy.
    /// </summary>
    /// <remarks>
    /// A trailing partial batch — a fetch response may end inside one — is ignored, not rejected:
    /// <see cref="AppendResult.LastOffset"/> is the last offset taken (so <see cref="LogEndOffset"/> is one past it),
    /// and when not even one whole batch is given nothing is written and the result is
    /// (<see cref="LogEndOffset"/>, <see cref="LogEndOffset"/> - 1). Invalid input throws
    /// <see cref="RecordRejectedException"/> before anything is written: <see cref="ErrorCode.CorruptMessage"/> or
    /// <see cref="ErrorCode.InvalidRecord"/> for a damaged batch, <see cref="ErrorCode.MessageTooLarge"/> past
    /// <see cref="PartitionLogConfig.MaxBatchBytes"/>, <see cref="ErrorCode.OffsetOutOfRange"/> for a gap or an overlap,
    /// <see cref="ErrorCode.FencedLeaderEpoch"/> for an epoch going back. An I/O error while writing a later segment of
    /// a split input leaves the earlier segments' batches appended.
    /// </remarks>
    public ValueTask<AppendResult> AppendReplicatedAsync(ReadOnlyMemory<byte> batches, CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(IsDisposed, this);
        cancellationToken.ThrowIfCancellationRequested();
        var validated = new List<ValidatedBatch>(1);
        int taken = BatchValidator.ValidateReplicated(batches, _config, validated);
        AppendResult result;
        long sequence;
        lock (_appendLock)
        {
            ObjectDisposedException.ThrowIf(IsDisposed, this);
            if (_groupCommit.Failure is { } failure)
            {
                throw new IOException("the log takes no appends since an fsync failed", failure);
            }

            if (validated.Count == 0)
            {
                return ValueTask.FromResult(new AppendResult(_nextOffset, _nextOffset - 1, _time.GetUtcNow().ToUnixTimeMilliseconds(), Duplicate: false));
            }

            result = AppendReplicatedLocked(batches.Span[..taken], validated);
            sequence = _writeSequence;
        }

        return _config.Fsync == FsyncPolicy.Interval
            ? ValueTask.FromResult(result)
            : AwaitDurableAsync(result, sequence, cancellationToken);
    }

    /// <summary>
    /// OffsetForLeaderEpoch: the largest epoch of the log at or below <paramref name="epoch"/>, and its end offset — the
    /// start offset of the next larger epoch, or <see cref="LogEndOffset"/> when it is the latest. A follower truncates
    /// its log to the smaller of that end offset and its own end for the returned epoch (KIP-101, KIP-279).
    /// </summary>
    /// <remarks>
    /// Below every known epoch the answer is (<paramref name="epoch"/>, start offset of the first known epoch), as Kafka
    /// gives it: that history was deleted, and a follower truncating there replicates correctly from the leader's start.
    /// A negative <paramref name="epoch"/> or a log without epochs answers (-1, -1), Kafka's UNDEFINED_EPOCH and
    /// UNDEFINED_EPOCH_OFFSET. The answer is consistent with one moment of the log (taken under the append lock).
    /// </remarks>
    public (int Epoch, long EndOffset) EndOffsetForEpoch(int epoch)
    {
        ObjectDisposedException.ThrowIf(IsDisposed, this);
        lock (_appendLock)
        {
            return _epochs.EndOffsetFor(epoch, _nextOffset);
        }
    }

    /// <summary>
    /// Empties the log and starts it again at <paramref name="offset"/>, before or past the current end (a follower
    /// whose log end fell below the leader's log start): every segment, producer snapshot and leader epoch goes.
    /// </summary>
    /// <remarks>
    /// Crash order: the snapshots go first and the epoch checkpoint is emptied last, so a crash part way reopens
    /// whatever segments are left with producer state replayed from their batches and the old epochs reconciled with them.
    /// </remarks>
    public ValueTask TruncateFullyAndStartAtAsync(long offset, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        return TruncateUnderLocksAsync(() => TruncateFullyLocked(offset), cancellationToken);
    }

    private void TruncateFullyLocked(long offset)
    {
        foreach (long snapshot in ProducerSnapshot.List(_directory))
        {
            SegmentFiles.DeleteIfExists(SegmentFiles.SnapshotPath(_directory, snapshot));
        }

        StartEmptyAt(offset);
        SegmentFiles.SyncDirectory(_directory);
        Volatile.Write(ref _nextOffset, offset);
        _producers.Clear();
        _epochs.Clear();
        _epochs.Persist();
    }

    /// <summary>Placement checks, then the batches in groups that each fit the active segment, rolling between them.</summary>
    private AppendResult AppendReplicatedLocked(ReadOnlySpan<byte> data, List<ValidatedBatch> batches)
    {
        CheckReplicatedPlacement(batches);
        var now = _time.GetUtcNow();
        long firstOffset = batches[0].Header.BaseOffset;
        int start = 0;
        while (start < batches.Count)
        {
            var active = Active;
            var first = batches[start].Header;
            if (ShouldRoll(active, first.TotalSize, first.LastOffset, now))
            {
                active = Roll();
            }

            if (first.LastOffset - active.BaseOffset > int.MaxValue)
            {
                // Only a compaction hole of over 2^31 offsets gets here; a segment's index holds 32-bit relative offsets.
                throw new RecordRejectedException(ErrorCode.OffsetOutOfRange, $"replicated batch at offset {first.BaseOffset} is more than {int.MaxValue} offsets past the segment at {active.BaseOffset}");
            }

            int end = start + 1;
            long bytes = first.TotalSize;
            while (end < batches.Count && active.Size + bytes + batches[end].Header.TotalSize <= _config.SegmentBytes
                && batches[end].Header.LastOffset - active.BaseOffset <= int.MaxValue)
            {
                bytes += batches[end].Header.TotalSize;
                end++;
            }

            AppendReplicatedGroup(active, data, batches, start, end, now);
            start = end;
        }

        return new AppendResult(firstOffset, _nextOffset - 1, now.ToUnixTimeMilliseconds(), Duplicate: false);
    }

    /// <summary>
    /// Offsets: the first batch at the log end and each next right after the one before (past a compaction hole in a
    /// compacted log). Epochs: never below the epoch of records already in the log, which a follower that truncated its
    /// divergent tail never sees; an epoch without records yet (a leader append that failed, a log emptied by
    /// retention) gives way, as in Kafka.
    /// </summary>
    private void CheckReplicatedPlacement(List<ValidatedBatch> batches)
    {
        long expected = _nextOffset;
        int epochWithRecords = _epochs.LatestEpochWithRecords(_nextOffset);
        for (int i = 0; i < batches.Count; i++)
        {
            var header = batches[i].Header;
            if (header.BaseOffset < expected || (header.BaseOffset > expected && !_config.Compact))
            {
                throw new RecordRejectedException(ErrorCode.OffsetOutOfRange, i == 0
                    ? $"replicated batches start at offset {header.BaseOffset}, not at the log end {expected}"
                    : $"replicated batch {i} starts at offset {header.BaseOffset}, not at {expected} right after the batch before");
            }

            if (header.PartitionLeaderEpoch < epochWithRecords)
            {
                throw new RecordRejectedException(ErrorCode.FencedLeaderEpoch, $"replicated batch at offset {header.BaseOffset} has leader epoch {header.PartitionLeaderEpoch}, below epoch {epochWithRecords} of records before it; truncate the divergent tail first");
            }

            epochWithRecords = Math.Max(epochWithRecords, header.PartitionLeaderEpoch);
            expected = header.LastOffset + 1;
        }
    }

    /// <summary>Writes batches [<paramref name="start"/>, <paramref name="end"/>) to the active segment and publishes them: epochs, producers, log end.</summary>
    private void AppendReplicatedGroup(LogSegment active, ReadOnlySpan<byte> data, List<ValidatedBatch> batches, int start, int end, DateTimeOffset now)
    {
        int from = batches[start].Position;
        var last = batches[end - 1];
        int count = end - start;
        var appended = count <= 8 ? stackalloc AppendedBatch[count] : new AppendedBatch[count];
        bool epochsChanged = false;
        for (int i = start; i < end; i++)
        {
            var (position, header) = batches[i];
            appended[i - start] = new AppendedBatch(position - from, header.BaseOffset, header.LastOffset, header.MaxTimestamp, header.TotalSize);
            epochsChanged |= _epochs.Assign(header.PartitionLeaderEpoch, header.BaseOffset);
        }

        WriteWithEpochs(active, data[from..(last.Position + last.Header.TotalSize)], appended, epochsChanged);
        active.FirstAppendTime ??= now;
        for (int i = start; i < end; i++)
        {
            _producers.Replay(batches[i].Header);
        }

        Volatile.Write(ref _nextOffset, last.Header.LastOffset + 1);
        _writeSequence++;
    }

    /// <summary>
    /// Writes appended bytes after the epochs they start, so the checkpoint never lags the log; when the checkpoint or
    /// the bytes fail, the new epochs are taken back (or, if even that cannot be written, dropped on the next open as
    /// entries past the log end).
    /// </summary>
    private void WriteWithEpochs(LogSegment active, ReadOnlySpan<byte> data, ReadOnlySpan<AppendedBatch> appended, bool epochsChanged)
    {
        try
        {
            if (epochsChanged)
            {
                _epochs.Persist();
            }

            active.Append(data, appended);
        }
        catch (Exception) when (epochsChanged)
        {
            _epochs.TruncateFromEnd(_nextOffset);
            try
            {
                _epochs.Persist();
            }
            catch (IOException)
            {
                // Opening the log drops entries at or past its end.
            }

            throw;
        }
    }
}
