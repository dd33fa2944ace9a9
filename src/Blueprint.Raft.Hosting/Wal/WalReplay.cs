using System.Buffers.Binary;
using Blueprint.Core.Raft;

namespace Blueprint.Raft.Hosting.Wal;

/// <summary>One segment file of the WAL.</summary>
internal sealed class WalSegment(long sequence, string path)
{
    public long Sequence { get; } = sequence;

    public string Path { get; } = path;

    /// <summary>The highest index of any entry record in the segment, or 0; a segment is deleted only when a retained snapshot covers it.</summary>
    public long MaxEntryIndex { get; set; }
}

/// <summary>
/// Rebuilds the storage state from the segments, in sequence order. The replayed log ignores compaction (a snapshot
/// record does not drop the entries it covers) so that recovery can fall back to an older snapshot when the newest
/// snapshot file is damaged; the entries covered by the chosen snapshot are dropped at the end. Segments removed
/// after a snapshot can leave the replayed log starting late; every segment starts with a snapshot record and the
/// hard state, so replay from any retained segment is complete for everything after the retained snapshots.
/// </summary>
internal sealed class WalReplay
{
    private readonly List<LogEntry> _log = [];
    private WalSegment? _segment;
    private long _snapshotIndex = -1;
    private long _snapshotTerm;

    /// <summary>The index of the latest snapshot record that dropped all later entries: no older snapshot can stand in for a newer one below it.</summary>
    private long _barrierIndex;

    public HardState HardState { get; private set; }

    public string? TruncatedFile { get; private set; }

    public long TruncatedBytes { get; private set; }

    /// <summary>Replays one segment; a damaged record is torn-tail truncation in the last segment and an error anywhere else.</summary>
    public void Replay(WalSegment segment, bool isLast, bool fsync, Action? afterSync)
    {
        _segment = segment;
        byte[] bytes = File.ReadAllBytes(segment.Path);
        int offset = 0;
        while (offset < bytes.Length)
        {
            var record = WalFormat.TryRead(bytes, offset);
            if (record is null)
            {
                if (!isLast || offset == 0)
                {
                    throw Damaged(offset, isLast
                        ? "the segment header is torn or corrupt; segments are created whole, so this is not a torn write"
                        : "a torn or corrupt record in a segment that is not the last; acknowledged data would be lost");
                }

                TruncateTail(segment.Path, offset, bytes.Length - offset, fsync, afterSync);
                break;
            }

            Apply(record.Value, offset);
            offset += record.Value.RecordBytes;
        }
    }

    /// <summary>The snapshot to start from and the entries after it; falls back to an older snapshot when the newest file is damaged and the WAL holds what is needed.</summary>
    public (Snapshot Snapshot, List<LogEntry> Entries, string? FallbackFrom) Finish(string snapshotDirectory)
    {
        if (_snapshotIndex < 0)
        {
            throw new InvalidDataException($"The WAL in '{snapshotDirectory}' holds no snapshot record.");
        }

        string newestPath = Path.Combine(snapshotDirectory, WalFiles.SnapshotName(_snapshotTerm, _snapshotIndex));
        Snapshot snapshot;
        string? fallbackFrom = null;
        try
        {
            snapshot = WalFiles.ReadSnapshot(newestPath, _snapshotTerm, _snapshotIndex);
        }
        catch (InvalidDataException newestError)
        {
            snapshot = Fallback(snapshotDirectory) ?? throw new InvalidDataException(
                newestError.Message + " No older snapshot file is readable with every later entry still in the WAL, so recovery cannot continue.", newestError);
            fallbackFrom = newestPath;
        }

        var entries = _log.Where(e => e.Index > snapshot.Metadata.Index).ToList();
        if (entries.Count > 0 && entries[0].Index != snapshot.Metadata.Index + 1)
        {
            throw new InvalidDataException($"The WAL lacks entries {snapshot.Metadata.Index + 1}..{entries[0].Index - 1} after the snapshot at index {snapshot.Metadata.Index}.");
        }

        return (snapshot, entries, fallbackFrom);
    }

    private Snapshot? Fallback(string snapshotDirectory)
    {
        if (_log.Count == 0 || _log[^1].Index < _snapshotIndex)
        {
            return null;
        }

        long start = _log[0].Index;
        var candidates = Directory.EnumerateFiles(snapshotDirectory, "*" + WalFiles.SnapshotExtension)
            .Select(p => (Path: p, Ok: WalFiles.TryParsePair(Path.GetFileName(p), WalFiles.SnapshotExtension, out long term, out long index), Term: term, Index: index))
            .Where(c => c.Ok && c.Index < _snapshotIndex && c.Index >= _barrierIndex && start <= c.Index + 1)
            .OrderByDescending(c => c.Index);
        foreach (var candidate in candidates)
        {
            if (candidate.Index >= start && _log[(int)(candidate.Index - start)].Term != candidate.Term)
            {
                continue;
            }

            try
            {
                return WalFiles.ReadSnapshot(candidate.Path, candidate.Term, candidate.Index);
            }
            catch (InvalidDataException)
            {
                // Damaged too: try the next older one.
            }
        }

        return null;
    }

    private void Apply(WalRecord record, int offset)
    {
        var payload = record.Payload.Span;
        if ((offset == 0) != (record.Type == WalRecordType.SegmentHeader))
        {
            throw Damaged(offset, "a segment starts with its header record, and only there");
        }

        if (record.Type == WalRecordType.SegmentHeader)
        {
            ExpectLength(record, 16, offset);
            long sequence = BinaryPrimitives.ReadInt64LittleEndian(payload);
            if (sequence != _segment!.Sequence)
            {
                throw Damaged(offset, $"the header holds sequence {sequence}, the file name {_segment.Sequence}");
            }

            return;
        }

        switch (record.Type)
        {
            case WalRecordType.Entry:
                ApplyEntry(record, offset);
                break;
            case WalRecordType.HardState:
                ExpectLength(record, 20, offset);
                HardState = new HardState(
                    BinaryPrimitives.ReadInt64LittleEndian(payload),
                    BinaryPrimitives.ReadInt32LittleEndian(payload[8..]),
                    BinaryPrimitives.ReadInt64LittleEndian(payload[12..]));
                break;
            case WalRecordType.Truncate:
                ExpectLength(record, 8, offset);
                long from = BinaryPrimitives.ReadInt64LittleEndian(payload);
                int keep = _log.Count == 0 ? 0 : (int)Math.Clamp(from - _log[0].Index, 0, _log.Count);
                _log.RemoveRange(keep, _log.Count - keep);
                break;
            case WalRecordType.Snapshot:
                ExpectLength(record, 17, offset);
                ApplySnapshot(BinaryPrimitives.ReadInt64LittleEndian(payload), BinaryPrimitives.ReadInt64LittleEndian(payload[8..]), payload[16] != 0, offset);
                break;
            default:
                throw Damaged(offset, $"unknown record type {(byte)record.Type} with a good CRC");
        }
    }

    private void ApplyEntry(WalRecord record, int offset)
    {
        var payload = record.Payload.Span;
        if (payload.Length < WalFormat.EntryFixedBytes)
        {
            throw Damaged(offset, $"an entry record of {payload.Length} bytes");
        }

        var entry = new LogEntry(
            BinaryPrimitives.ReadInt64LittleEndian(payload),
            BinaryPrimitives.ReadInt64LittleEndian(payload[8..]),
            (EntryKind)payload[16],
            record.Payload[WalFormat.EntryFixedBytes..].ToArray());
        if (_snapshotIndex < 0)
        {
            throw Damaged(offset, "an entry before any snapshot record");
        }

        if (_log.Count > 0 && entry.Index != _log[^1].Index + 1)
        {
            throw Damaged(offset, $"entry {entry.Index} does not follow entry {_log[^1].Index}");
        }

        _log.Add(entry);
        _segment!.MaxEntryIndex = Math.Max(_segment.MaxEntryIndex, entry.Index);
    }

    private void ApplySnapshot(long index, long term, bool keptLaterEntries, int offset)
    {
        if (index < _snapshotIndex)
        {
            throw Damaged(offset, $"snapshot record at index {index} older than the snapshot at {_snapshotIndex}");
        }

        if (keptLaterEntries)
        {
            bool holds = _log.Count > 0 && index >= _log[0].Index && index <= _log[^1].Index;
            if (holds && _log[(int)(index - _log[0].Index)].Term != term)
            {
                throw Damaged(offset, $"snapshot record at index {index} term {term} kept later entries, but the log has another term there");
            }
        }
        else
        {
            _log.Clear();
            _barrierIndex = index;
        }

        _snapshotIndex = index;
        _snapshotTerm = term;
    }

    private void TruncateTail(string path, int offset, long bytes, bool fsync, Action? afterSync)
    {
        using (var stream = new FileStream(path, FileMode.Open, FileAccess.Write, FileShare.None, bufferSize: 0))
        {
            stream.SetLength(offset);
            if (fsync)
            {
                stream.Flush(flushToDisk: true);
            }
        }

        afterSync?.Invoke();
        TruncatedFile = path;
        TruncatedBytes = bytes;
    }

    private void ExpectLength(WalRecord record, int bytes, int offset)
    {
        if (record.Payload.Length != bytes)
        {
            throw Damaged(offset, $"a {record.Type} record of {record.Payload.Length} bytes instead of {bytes}");
        }
    }

    private InvalidDataException Damaged(int offset, string what) =>
        new($"WAL segment '{_segment!.Path}' is damaged at offset {offset}: {what}.");
}
