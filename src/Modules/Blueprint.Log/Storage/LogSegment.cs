// Written by hand: the partition log is the subject of this module and no library provides a Kafka log.
using Blueprint.Log.Records;
using Microsoft.Win32.SafeHandles;

namespace Blueprint.Log.Storage;

/// <summary>
/// One segment of a partition: the <c>.log</c> file of whole v2 batches from <see cref="BaseOffset"/> on, and its
/// offset and time indexes. The active segment is appended by one writer (under the log's append lock) while any
/// number of readers read it through <see cref="RandomAccess"/> at explicit positions; a reader sees bytes up to
/// <see cref="Size"/>, which is published only after they are written. A closed segment loads its index files the
/// first time it is searched, and rebuilds them from the log when they are missing or do not check out.
/// </summary>
internal sealed class LogSegment : IDisposable
{
    /// <summary>Bytes read at a time while looking for the batch that holds an offset.</summary>
    private const int LocateReadBytes = 4096;

    /// <summary>The header fields the read path needs: base offset, length and last offset delta.</summary>
    private const int BoundsBytes = 27;

    private readonly string _directory;
    private readonly int _indexIntervalBytes;
    private readonly SafeFileHandle _log;
    private readonly Lock _indexLoadLock = new();
    private OffsetIndex? _offsetIndex;
    private TimeIndex? _timeIndex;
    private IndexTracker? _tracker;
    private long _size;

    private LogSegment(string directory, long baseOffset, int indexIntervalBytes, SafeFileHandle log, long size)
    {
        _directory = directory;
        BaseOffset = baseOffset;
        _indexIntervalBytes = indexIntervalBytes;
        _log = log;
        _size = size;
    }

    public long BaseOffset { get; }

    /// <summary>The bytes of whole batches readers may read.</summary>
    public long Size => Volatile.Read(ref _size);

    /// <summary>One past the last offset of the active segment (its base offset while empty).</summary>
    public long NextOffset => Tracker.NextOffset;

    /// <summary>When the first batch went into the active segment (by the log's clock); null while it is empty.</summary>
    public DateTimeOffset? FirstAppendTime { get; set; }

    public string LogPath => SegmentFiles.LogPath(_directory, BaseOffset);

    private IndexTracker Tracker => _tracker ?? throw new InvalidOperationException($"segment {BaseOffset} is closed");

    /// <summary>Creates an empty active segment (replacing any file of that name).</summary>
    public static LogSegment Create(string directory, long baseOffset, int indexIntervalBytes)
    {
        var handle = File.OpenHandle(SegmentFiles.LogPath(directory, baseOffset), FileMode.Create, FileAccess.ReadWrite, FileShare.ReadWrite | FileShare.Delete);
        SegmentFiles.DeleteIfExists(SegmentFiles.IndexPath(directory, baseOffset));
        SegmentFiles.DeleteIfExists(SegmentFiles.TimeIndexPath(directory, baseOffset));
        var segment = new LogSegment(directory, baseOffset, indexIntervalBytes, handle, 0);
        segment._tracker = new IndexTracker(baseOffset, indexIntervalBytes);
        segment._offsetIndex = segment._tracker.OffsetIndex;
        segment._timeIndex = segment._tracker.TimeIndex;
        return segment;
    }

    /// <summary>Opens a closed segment; its indexes load on first use.</summary>
    public static LogSegment OpenClosed(string directory, long baseOffset, int indexIntervalBytes)
    {
        var handle = File.OpenHandle(SegmentFiles.LogPath(directory, baseOffset), FileMode.Open, FileAccess.ReadWrite, FileShare.ReadWrite | FileShare.Delete);
        return new LogSegment(directory, baseOffset, indexIntervalBytes, handle, RandomAccess.GetLength(handle));
    }

    /// <summary>
    /// Opens the last segment after a stop or a crash: scans every batch with its CRC, cuts the file at the first
    /// torn or invalid batch and rebuilds the indexes in memory. Returns the segment (active) and the bytes cut.
    /// </summary>
    public static (LogSegment Segment, long TruncatedBytes) Recover(string directory, long baseOffset, int indexIntervalBytes, DateTimeOffset now)
    {
        var segment = OpenClosed(directory, baseOffset, indexIntervalBytes);
        long length = segment.Size;
        long valid = segment.Reactivate(verifyCrc: true);
        if (valid < length)
        {
            RandomAccess.SetLength(segment._log, valid);
            RandomAccess.FlushToDisk(segment._log);
        }

        segment.FirstAppendTime = valid > 0 ? now : null;
        return (segment, length - valid);
    }

    /// <summary>
    /// Appends <paramref name="data"/> (whole batches with their final offsets, described by <paramref name="batches"/>)
    /// at the end of the file, then publishes the new size, the index entries and the next offset, in that order, so a
    /// reader never finds an index entry past the bytes it may read. A failed write is cut off again.
    /// </summary>
    public void Append(ReadOnlySpan<byte> data, ReadOnlySpan<AppendedBatch> batches)
    {
        var tracker = Tracker;
        long position = _size;
        try
        {
            RandomAccess.Write(_log, data, position);
        }
        catch (IOException)
        {
            RandomAccess.SetLength(_log, position);
            throw;
        }

        Volatile.Write(ref _size, position + data.Length);
        foreach (var batch in batches)
        {
            tracker.Track(position + batch.Position, batch.BaseOffset, batch.LastOffset, batch.MaxTimestamp, batch.Size);
        }
    }

    /// <summary>Forces the log file's data to the disk.</summary>
    public void Flush() => RandomAccess.FlushToDisk(_log);

    /// <summary>Closes the segment for appends: the final time-index entry, the index files and an fsync of all three.</summary>
    public void Seal()
    {
        var tracker = Tracker;
        tracker.Seal();
        RandomAccess.FlushToDisk(_log);
        SegmentFiles.WriteDurably(SegmentFiles.IndexPath(_directory, BaseOffset), tracker.OffsetIndex.Serialize());
        SegmentFiles.WriteDurably(SegmentFiles.TimeIndexPath(_directory, BaseOffset), tracker.TimeIndex.Serialize());
        _tracker = null;
    }

    /// <summary>
    /// Makes this segment the active one again (after a truncation) or recovers it: rescans the file from the start,
    /// rebuilding indexes, largest timestamp and next offset. Returns where the last whole valid batch ends.
    /// </summary>
    public long Reactivate(bool verifyCrc)
    {
        var tracker = new IndexTracker(BaseOffset, _indexIntervalBytes);
        var scanner = new BatchScanner(_log, 0, RandomAccess.GetLength(_log), BaseOffset, verifyCrc);
        while (scanner.TryNext(out var batch))
        {
            tracker.Track(batch.Position, batch.Header.BaseOffset, batch.Header.LastOffset, batch.Header.MaxTimestamp, batch.Header.TotalSize);
        }

        _tracker = tracker;
        _timeIndex = tracker.TimeIndex;
        Volatile.Write(ref _offsetIndex, tracker.OffsetIndex);
        Volatile.Write(ref _size, scanner.Position);
        return scanner.Position;
    }

    /// <summary>Cuts the file at <paramref name="position"/> (a batch boundary) and makes the segment active with <paramref name="nextOffset"/>.</summary>
    public void TruncateTo(long position, long nextOffset)
    {
        RandomAccess.SetLength(_log, position);
        RandomAccess.FlushToDisk(_log);

        // The index files describe bytes that are gone; the active segment's indexes live in memory until it seals.
        SegmentFiles.DeleteIfExists(SegmentFiles.IndexPath(_directory, BaseOffset));
        SegmentFiles.DeleteIfExists(SegmentFiles.TimeIndexPath(_directory, BaseOffset));
        Reactivate(verifyCrc: false);
        Tracker.NextOffset = Math.Max(Tracker.NextOffset, nextOffset);
        FirstAppendTime = null;
    }

    /// <summary>The largest timestamp in the segment, or -1 when it has none.</summary>
    public long MaxTimestamp
    {
        get
        {
            if (_tracker is { } tracker)
            {
                return tracker.MaxTimestamp;
            }

            EnsureIndexes();
            return _timeIndex!.LastTimestamp;
        }
    }

    /// <summary>The file's last write time, for a segment without timestamps.</summary>
    public DateTimeOffset LastModified => File.GetLastWriteTimeUtc(LogPath);

    /// <summary>Reads into <paramref name="destination"/> from <paramref name="position"/>; returns the bytes read (fewer at the end of the file).</summary>
    public int ReadAt(long position, Span<byte> destination)
    {
        int total = 0;
        while (total < destination.Length)
        {
            int read = RandomAccess.Read(_log, destination[total..], position + total);
            if (read == 0)
            {
                break;
            }

            total += read;
        }

        return total;
    }

    /// <summary>
    /// Finds the first batch whose last offset is at or past <paramref name="offset"/> among the first
    /// <paramref name="size"/> bytes: from the offset index's floor entry, reading headers a few KiB at a time.
    /// Returns false when no batch in the segment reaches <paramref name="offset"/>.
    /// </summary>
    public bool TryLocate(long offset, long size, out long position, out int batchBytes, out long lastOffset)
    {
        EnsureIndexes();
        position = Volatile.Read(ref _offsetIndex)!.FloorPosition(offset - BaseOffset);
        Span<byte> buffer = stackalloc byte[LocateReadBytes];
        long bufferStart = 0;
        int bufferLength = 0;
        while (position + RecordBatchHeader.Size <= size)
        {
            if (position < bufferStart || position + BoundsBytes > bufferStart + bufferLength)
            {
                bufferStart = position;
                bufferLength = ReadAt(position, buffer[..(int)Math.Min(LocateReadBytes, size - position)]);
                if (bufferLength < BoundsBytes)
                {
                    break;
                }
            }

            var (_, totalSize, last) = RecordBatchHeader.ReadBounds(buffer[(int)(position - bufferStart)..]);
            if (totalSize < RecordBatchHeader.Size || totalSize > size - position)
            {
                break;
            }

            if (last >= offset)
            {
                batchBytes = totalSize;
                lastOffset = last;
                return true;
            }

            position += totalSize;
        }

        batchBytes = 0;
        lastOffset = -1;
        return false;
    }

    /// <summary>The base offset of the batch starting at <paramref name="position"/>.</summary>
    public long BaseOffsetOfBatchAt(long position)
    {
        Span<byte> bytes = stackalloc byte[sizeof(long)];
        int read = ReadAt(position, bytes);
        Invariant.Check(read == sizeof(long), "a located batch is inside the segment");
        return System.Buffers.Binary.BinaryPrimitives.ReadInt64BigEndian(bytes);
    }

    /// <summary>The first position past which every batch's max timestamp could reach <paramref name="timestamp"/> (from the time index).</summary>
    public long TimestampFloorPosition(long timestamp)
    {
        EnsureIndexes();
        int relativeOffset = _timeIndex!.FloorOffset(timestamp);
        return Volatile.Read(ref _offsetIndex)!.FloorPosition(relativeOffset);
    }

    /// <summary>A scanner over this segment's batches from <paramref name="position"/> to <paramref name="end"/>.</summary>
    public BatchScanner Scan(long position, long end, bool verifyCrc) => new(_log, position, end, BaseOffset, verifyCrc);

    /// <summary>Closes the file (readers still inside a read finish it; later reads throw <see cref="ObjectDisposedException"/>).</summary>
    public void Dispose() => _log.Dispose();

    /// <summary>Closes the file and deletes the segment's files.</summary>
    public void Delete()
    {
        Dispose();
        SegmentFiles.DeleteIfExists(LogPath);
        SegmentFiles.DeleteIfExists(SegmentFiles.IndexPath(_directory, BaseOffset));
        SegmentFiles.DeleteIfExists(SegmentFiles.TimeIndexPath(_directory, BaseOffset));
    }

    /// <summary>Loads a closed segment's index files, or rebuilds them from the log when missing or inconsistent.</summary>
    private void EnsureIndexes()
    {
        if (Volatile.Read(ref _offsetIndex) is not null)
        {
            return;
        }

        lock (_indexLoadLock)
        {
            if (_offsetIndex is not null)
            {
                return;
            }

            long size = Size;
            var offsetIndex = TryReadFile(SegmentFiles.IndexPath(_directory, BaseOffset)) is { } indexBytes ? OffsetIndex.TryParse(indexBytes, size) : null;
            var timeIndex = TryReadFile(SegmentFiles.TimeIndexPath(_directory, BaseOffset)) is { } timeBytes ? TimeIndex.TryParse(timeBytes) : null;
            if (offsetIndex is null || timeIndex is null)
            {
                var tracker = new IndexTracker(BaseOffset, _indexIntervalBytes);
                var scanner = new BatchScanner(_log, 0, size, BaseOffset, verifyCrc: false);
                while (scanner.TryNext(out var batch))
                {
                    tracker.Track(batch.Position, batch.Header.BaseOffset, batch.Header.LastOffset, batch.Header.MaxTimestamp, batch.Header.TotalSize);
                }

                tracker.Seal();
                offsetIndex = tracker.OffsetIndex;
                timeIndex = tracker.TimeIndex;
                SegmentFiles.WriteDurably(SegmentFiles.IndexPath(_directory, BaseOffset), offsetIndex.Serialize());
                SegmentFiles.WriteDurably(SegmentFiles.TimeIndexPath(_directory, BaseOffset), timeIndex.Serialize());
            }

            _timeIndex = timeIndex;
            Volatile.Write(ref _offsetIndex, offsetIndex);
        }
    }

    private static byte[]? TryReadFile(string path)
    {
        try
        {
            return File.ReadAllBytes(path);
        }
        catch (FileNotFoundException)
        {
            return null;
        }
    }
}

/// <summary>A batch of an append: where it starts in the appended bytes and what the indexes need of it.</summary>
internal readonly record struct AppendedBatch(int Position, long BaseOffset, long LastOffset, long MaxTimestamp, int Size);
