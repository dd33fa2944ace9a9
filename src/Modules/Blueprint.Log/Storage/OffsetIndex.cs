using System.Buffers.Binary;

namespace Blueprint.Log.Storage;

/// <summary>
/// A segment's sparse offset index (Kafka's <c>.index</c>): entries of <c>relativeOffset i32, position i32</c>
/// (big-endian on disk), both strictly increasing, one per <see cref="PartitionLogConfig.IndexIntervalBytes"/> of
/// batches, each naming the base offset of the batch starting at that file position. Held in memory; the appender
/// adds entries while readers search, so an entry is written before the count that makes it visible.
/// </summary>
internal sealed class OffsetIndex
{
    public const int EntryBytes = 8;

    private Entry[] _entries;
    private int _count;

    public OffsetIndex(int capacity = 8)
    {
        _entries = new Entry[Math.Max(capacity, 1)];
    }

    public int Count => Volatile.Read(ref _count);

    /// <summary>Adds an entry; only the appender calls this, with offsets and positions above the last entry's.</summary>
    public void Append(int relativeOffset, int position)
    {
        int count = _count;
        if (count > 0)
        {
            var last = _entries[count - 1];
            Invariant.Check(relativeOffset > last.RelativeOffset && position > last.Position, "offset index entries increase");
        }

        if (count == _entries.Length)
        {
            var larger = new Entry[_entries.Length * 2];
            Array.Copy(_entries, larger, count);
            Volatile.Write(ref _entries, larger);
        }

        _entries[count] = new Entry(relativeOffset, position);
        Volatile.Write(ref _count, count + 1);
    }

    /// <summary>The file position of the last entry at or below <paramref name="relativeOffset"/>, or 0 when none is.</summary>
    public int FloorPosition(long relativeOffset)
    {
        int count = Volatile.Read(ref _count);
        var entries = Volatile.Read(ref _entries);
        int low = 0;
        int high = count - 1;
        int found = -1;
        while (low <= high)
        {
            int mid = (int)((uint)(low + high) >> 1);
            if (entries[mid].RelativeOffset <= relativeOffset)
            {
                found = mid;
                low = mid + 1;
            }
            else
            {
                high = mid - 1;
            }
        }

        return found < 0 ? 0 : entries[found].Position;
    }

    public byte[] Serialize()
    {
        int count = _count;
        var bytes = new byte[count * EntryBytes];
        for (int i = 0; i < count; i++)
        {
            BinaryPrimitives.WriteInt32BigEndian(bytes.AsSpan(i * EntryBytes), _entries[i].RelativeOffset);
            BinaryPrimitives.WriteInt32BigEndian(bytes.AsSpan((i * EntryBytes) + 4), _entries[i].Position);
        }

        return bytes;
    }

    /// <summary>Parses an index file; null when it is not a whole number of entries, not increasing, or points past the log.</summary>
    public static OffsetIndex? TryParse(ReadOnlySpan<byte> bytes, long logBytes)
    {
        if (bytes.Length % EntryBytes != 0)
        {
            return null;
        }

        var index = new OffsetIndex(bytes.Length / EntryBytes);
        int lastOffset = -1;
        int lastPosition = -1;
        for (int i = 0; i < bytes.Length; i += EntryBytes)
        {
            int relativeOffset = BinaryPrimitives.ReadInt32BigEndian(bytes[i..]);
            int position = BinaryPrimitives.ReadInt32BigEndian(bytes[(i + 4)..]);
            if (relativeOffset <= lastOffset || position <= lastPosition || position >= logBytes)
            {
                return null;
            }

            index.Append(relativeOffset, position);
            lastOffset = relativeOffset;
            lastPosition = position;
        }

        return index;
    }

    private readonly record struct Entry(int RelativeOffset, int Position);
}
