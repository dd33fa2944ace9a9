// Written by hand: the partition log is the subject of this module and no library provides a Kafka log.
using System.Buffers;
using Blueprint.Log.Records;

namespace Blueprint.Log.Storage;

/// <summary>
/// The read side of a partition log over a snapshot of its segments: Fetch's copy of whole batches and ListOffsets'
/// timestamp lookup. Reads run concurrently with the appender; they see a segment's bytes up to its published size.
/// </summary>
internal static class LogReader
{
    /// <summary>
    /// Copies whole batches into <paramref name="destination"/>, from the batch holding <paramref name="offset"/> in
    /// segment <paramref name="index"/> on: only batches whose last offset is below <paramref name="upperBound"/>, up
    /// to <paramref name="maxBytes"/> except that the first batch always goes whole. Allocates nothing: the offset
    /// index and a stack buffer find the first batch, and the batches are read straight into the destination.
    /// </summary>
    public static int Read(LogSegment[] segments, int index, long offset, int maxBytes, long upperBound, IBufferWriter<byte> destination)
    {
        int written = 0;
        bool first = true;
        for (; index < segments.Length; index++)
        {
            var segment = segments[index];
            long size = segment.Size;
            long position = 0;
            int firstBatchBytes = 0;
            try
            {
                if (first)
                {
                    if (!segment.TryLocate(offset, size, out position, out firstBatchBytes, out long lastOffset))
                    {
                        continue;
                    }

                    if (lastOffset >= upperBound)
                    {
                        return written;
                    }
                }

                int want = (int)Math.Min(size - position, Math.Max((long)maxBytes - written, firstBatchBytes));
                if (want < RecordBatchHeader.Size)
                {
                    if (size - position > 0)
                    {
                        break;
                    }

                    continue;
                }

                var span = destination.GetSpan(want)[..want];
                int read = segment.ReadAt(position, span);
                int cut = 0;
                bool reachedBound = false;
                while (read - cut >= RecordBatchHeader.Size)
                {
                    var (_, totalSize, last) = RecordBatchHeader.ReadBounds(span[cut..]);
                    if (totalSize < RecordBatchHeader.Size || totalSize > read - cut)
                    {
                        break;
                    }

                    if (last >= upperBound)
                    {
                        reachedBound = true;
                        break;
                    }

                    cut += totalSize;
                }

                destination.Advance(cut);
                written += cut;
                first = false;
                if (reachedBound || position + cut < size || written >= maxBytes)
                {
                    break;
                }
            }
            catch (ObjectDisposedException) when (written > 0)
            {
                break;
            }
        }

        return written;
    }


    /// <summary>The index of the last segment whose base offset is at or below <paramref name="offset"/>, or -1.</summary>
    public static int FindSegment(LogSegment[] segments, long offset)
    {
        int low = 0;
        int high = segments.Length - 1;
        int found = -1;
        while (low <= high)
        {
            int mid = (int)((uint)(low + high) >> 1);
            if (segments[mid].BaseOffset <= offset)
            {
                found = mid;
                low = mid + 1;
            }
            else
            {
                high = mid - 1;
            }
        }

        return found;
    }

    /// <summary>
    /// The first record at or after <paramref name="timestamp"/>: in the first segment whose largest timestamp reaches
    /// it, from the time index's floor entry, the first batch whose max timestamp reaches it, and in that batch the
    /// first record that does (a log-append-time batch answers with its base offset and append time).
    /// </summary>
    public static (long Offset, long Timestamp)? OffsetForTimestamp(LogSegment[] segments, long timestamp, int maxDecompressedBytes)
    {
        var records = new List<LogRecord>();
        foreach (var segment in segments)
        {
            if (segment.MaxTimestamp < timestamp)
            {
                continue;
            }

            var scanner = segment.Scan(segment.TimestampFloorPosition(timestamp), segment.Size, verifyCrc: false);
            while (scanner.TryNext(out var batch))
            {
                var header = batch.Header;
                if (header.IsControl || header.MaxTimestamp < timestamp)
                {
                    continue;
                }

                if (header.TimestampType == TimestampType.LogAppendTime)
                {
                    return (header.BaseOffset, header.MaxTimestamp);
                }

                records.Clear();
                RecordBatchReader.AddRecords(batch.Bytes, header, maxDecompressedBytes, records);
                foreach (var record in records)
                {
                    if (record.Timestamp >= timestamp)
                    {
                        return (record.Offset, record.Timestamp);
                    }
                }
            }
        }

        return null;
    }
}
