// Written by hand: the partition log is the subject of this module and no library provides a Kafka log.
// Rules: Kafka's retention (retention.ms against a segment's largest timestamp, retention.bytes) and log compaction
// (LogCleaner: keep the latest record per key, offsets preserved, the active segment never rewritten).
using System.Buffers.Binary;
using System.Security.Cryptography;
using Blueprint.Log.Records;
using Microsoft.Win32.SafeHandles;

namespace Blueprint.Log.Storage;

/// <summary>
/// Retention and compaction of a <see cref="PartitionLog"/>. Both touch closed segments only, run under the log's
/// maintenance lock (so no truncation runs at the same time), and do their slow work outside the append lock,
/// taking it only to swap the segment list.
/// </summary>
internal static class LogCleaner
{
    /// <summary>
    /// Deletes the oldest closed segments while the oldest is past <see cref="PartitionLogConfig.RetentionAge"/>
    /// (now minus its largest timestamp, or its file time when it has none) or the log without it is still at least
    /// <see cref="PartitionLogConfig.RetentionBytes"/>. Returns the bytes freed.
    /// </summary>
    public static long DeleteRetained(PartitionLog log)
    {
        var config = log.Config;
        var segments = log.Segments;
        long nowMs = log.Time.GetUtcNow().ToUnixTimeMilliseconds();
        long total = 0;
        foreach (var segment in segments)
        {
            total += segment.Size;
        }

        int count = 0;
        for (int i = 0; i < segments.Length - 1; i++)
        {
            var segment = segments[i];
            bool expired = false;
            if (config.RetentionAge is { } age)
            {
                long largest = segment.MaxTimestamp;
                if (largest < 0)
                {
                    largest = segment.LastModified.ToUnixTimeMilliseconds();
                }

                expired = nowMs - largest > (long)age.TotalMilliseconds;
            }

            bool oversize = config.RetentionBytes is { } limit && total - segment.Size >= limit;
            if (!expired && !oversize)
            {
                break;
            }

            total -= segment.Size;
            count++;
        }

        return count == 0 ? 0 : log.DeleteOldestSegments(count);
    }

    /// <summary>
    /// One compaction pass: maps every key to its latest offset across the log (up to
    /// <see cref="PartitionLogConfig.MaxCompactionKeys"/> keys), then rewrites each closed segment it mapped whole,
    /// keeping a record only when it is the latest for its key (records without a key and control batches stay).
    /// Offsets are preserved: a batch keeps its base offset and offset range, and is re-encoded with its original
    /// codec and producer fields only when some of its records go. Returns the bytes freed.
    /// </summary>
    public static long Compact(PartitionLog log, CancellationToken cancellationToken)
    {
        var segments = log.Segments;
        if (segments.Length < 2)
        {
            return 0;
        }

        var latest = new Dictionary<UInt128, long>();
        int mapped = MapLatestOffsets(segments, log.Config, latest, cancellationToken);
        long freed = 0;
        for (int i = 0; i < Math.Min(mapped, segments.Length - 1); i++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            freed += CleanSegment(log, segments[i], latest);
        }

        return freed;
    }

    /// <summary>Fills <paramref name="latest"/> with key hash → latest offset; returns how many segments it covered whole.</summary>
    private static int MapLatestOffsets(LogSegment[] segments, PartitionLogConfig config, Dictionary<UInt128, long> latest, CancellationToken cancellationToken)
    {
        var records = new List<LogRecord>();
        for (int i = 0; i < segments.Length; i++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var scanner = segments[i].Scan(0, segments[i].Size, verifyCrc: false);
            while (scanner.TryNext(out var batch))
            {
                if (batch.Header.IsControl)
                {
                    continue;
                }

                records.Clear();
                RecordBatchReader.AddRecords(batch.Bytes, batch.Header, config.MaxDecompressedBatchBytes, records);
                foreach (var record in records)
                {
                    if (record.Key is { } key)
                    {
                        UInt128 hash = KeyHash(key.Span);
                        if (latest.Count >= config.MaxCompactionKeys && !latest.ContainsKey(hash))
                        {
                            return i;
                        }

                        latest[hash] = record.Offset;
                    }
                }
            }
        }

        return segments.Length;
    }

    /// <summary>Rewrites one closed segment without its superseded records; returns the bytes freed (0 when nothing goes).</summary>
    private static long CleanSegment(PartitionLog log, LogSegment segment, Dictionary<UInt128, long> latest)
    {
        string directory = log.DirectoryPath;
        long baseOffset = segment.BaseOffset;
        string cleanedLog = SegmentFiles.LogPath(directory, baseOffset) + SegmentFiles.CleanedSuffix;
        string cleanedIndex = SegmentFiles.IndexPath(directory, baseOffset) + SegmentFiles.CleanedSuffix;
        string cleanedTimeIndex = SegmentFiles.TimeIndexPath(directory, baseOffset) + SegmentFiles.CleanedSuffix;
        long oldSize = segment.Size;
        long newSize;
        using (var output = File.OpenHandle(cleanedLog, FileMode.Create, FileAccess.ReadWrite, FileShare.Read | FileShare.Delete))
        {
            newSize = WriteRetained(segment, output, latest, log.Config.MaxDecompressedBatchBytes);
            if (newSize < 0)
            {
                output.Dispose();
                File.Delete(cleanedLog);
                return 0;
            }

            RandomAccess.FlushToDisk(output);
            var tracker = new IndexTracker(baseOffset, log.Config.IndexIntervalBytes);
            var scanner = new BatchScanner(output, 0, newSize, baseOffset, verifyCrc: false);
            while (scanner.TryNext(out var batch))
            {
                tracker.Track(batch.Position, batch.Header.BaseOffset, batch.Header.LastOffset, batch.Header.MaxTimestamp, batch.Header.TotalSize);
            }

            tracker.Seal();
            SegmentFiles.WriteDurably(cleanedIndex, tracker.OffsetIndex.Serialize());
            SegmentFiles.WriteDurably(cleanedTimeIndex, tracker.TimeIndex.Serialize());
        }

        // Crash safety: the old indexes go first, so a crash at any step leaves either the old log or the cleaned
        // one in place, with indexes that are right or missing (rebuilt on load); .cleaned strays are deleted on open.
        log.ReplaceSegment(segment, () =>
        {
            File.Delete(SegmentFiles.IndexPath(directory, baseOffset));
            File.Delete(SegmentFiles.TimeIndexPath(directory, baseOffset));
            File.Move(cleanedLog, SegmentFiles.LogPath(directory, baseOffset), overwrite: true);
            File.Move(cleanedIndex, SegmentFiles.IndexPath(directory, baseOffset), overwrite: true);
            File.Move(cleanedTimeIndex, SegmentFiles.TimeIndexPath(directory, baseOffset), overwrite: true);
            SegmentFiles.SyncDirectory(directory);
        });
        return oldSize - newSize;
    }

    /// <summary>Writes the retained batches to <paramref name="output"/>; returns its size, or -1 when nothing would change or the segment does not scan whole.</summary>
    private static long WriteRetained(LogSegment segment, SafeFileHandle output, Dictionary<UInt128, long> latest, int maxDecompressedBytes)
    {
        var scanner = segment.Scan(0, segment.Size, verifyCrc: true);
        var records = new List<LogRecord>();
        long position = 0;
        bool changed = false;
        while (scanner.TryNext(out var batch))
        {
            var header = batch.Header;
            ReadOnlySpan<byte> bytes = batch.Bytes.Span;
            if (!header.IsControl)
            {
                records.Clear();
                RecordBatchReader.AddRecords(batch.Bytes, header, maxDecompressedBytes, records);
                records.RemoveAll(r => r.Key is { } key && latest.TryGetValue(KeyHash(key.Span), out long offset) && offset != r.Offset);
                int kept = records.Count;
                if (kept < header.RecordCount)
                {
                    changed = true;
                    if (kept == 0)
                    {
                        continue;
                    }

                    bytes = Rebuild(header, records);
                }
            }

            RandomAccess.Write(output, bytes, position);
            position += bytes.Length;
        }

        return scanner.Stop == ScanStop.End && changed ? position : -1;
    }

    /// <summary>Re-encodes a batch with only <paramref name="kept"/>: same base offset and offset range, codec, producer fields and attributes.</summary>
    private static byte[] Rebuild(in RecordBatchHeader header, List<LogRecord> kept)
    {
        var builder = new RecordBatchBuilder(header.Compression)
        {
            BaseOffset = header.BaseOffset,
            PartitionLeaderEpoch = header.PartitionLeaderEpoch,
            ProducerId = header.ProducerId,
            ProducerEpoch = header.ProducerEpoch,
            BaseSequence = header.BaseSequence,
            IsTransactional = header.IsTransactional,
            TimestampType = header.TimestampType,
            LastOffsetDelta = header.LastOffsetDelta,
            MaxTimestamp = header.TimestampType == TimestampType.LogAppendTime ? header.MaxTimestamp : null,
        };
        foreach (var record in kept)
        {
            builder.AddAt((int)(record.Offset - header.BaseOffset), record.Timestamp, record.Key, record.Value, record.Headers);
        }

        return builder.Build();
    }

    /// <summary>A 128-bit key fingerprint (the first half of SHA-256), as Kafka's cleaner keeps a hash per key rather than the key.</summary>
    private static UInt128 KeyHash(ReadOnlySpan<byte> key)
    {
        Span<byte> hash = stackalloc byte[SHA256.HashSizeInBytes];
        SHA256.HashData(key, hash);
        return BinaryPrimitives.ReadUInt128LittleEndian(hash);
    }
}
