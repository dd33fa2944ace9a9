using System.Buffers.Binary;

namespace Blueprint.Log.Storage;

/// <summary>
/// A segment's time index (Kafka's <c>.timeindex</c>): entries of <c>timestamp i64, relativeOffset i32</c>
/// (big-endian on disk). An entry says that the batch at that offset is the first to reach that max timestamp, so
/// every earlier record is older. Entries are added at index intervals when the max grows, and once more when the
/// segment closes, so a closed segment's last entry is its largest timestamp.
/// </summary>
internal sealed class TimeIndex
{
    public const int EntryBytes = 12;

    private Entry[] _entries;
    private int _count;

    public TimeIndex(int capacity = 8)
    {
        _entries = new Entry[Math.Max(capacity, 1)];
    }

    public int Count => Volatile.Read(ref _count);

    /// <summary>The last entry's timestamp, or -1 when there is none.</summary>
    public long LastTimestamp
    {
        get
        {
            int count = Volatile.Read(ref _count);
            return count == 0 ? -1 : Volatile.Read(ref _entries)[count - 1].Timestamp;
        }
    }

    /// <summary>Adds an entry when <paramref name="timestamp"/> is above the last one (and the offset not below it); only the appender calls this.</summary>
    public void MaybeAppend(long timestamp, int relativeOffset)
    {
        int count = _count;
        if (count > 0 && (timestamp <= _entries[count - 1].Timestamp || relativeOffset < _entries[count - 1].RelativeOffset))
        {
            return;
        }

        if (count == _entries.Length)
        {
            var larger = new Entry[_entries.Length * 2];
            Array.Copy(_entries, larger, count);
            Volatile.Write(ref _entries, larger);
        }

        _entries[count] = new Entry(timestamp, relativeOffset);
        Volatile.Write(ref _count, count + 1);
    }

    /// <summary>The relative offset of the last entry with a timestamp below <paramref name="timestamp"/>, or 0 when none is.</summary>
    public int FloorOffset(long timestamp)
    {
        int count = Volatile.Read(ref _count);
        var entries = Volatile.Read(ref _entries);
        int low = 0;
        int high = count - 1;
        int found = -1;
        while (low <= high)
        {
            int mid = (int)((uint)(low + high) >> 1);
            if (entries[mid].Timestamp < timestamp)
            {
                found = mid;
                low = mid + 1;
            }
            else
            {
                high = mid - 1;
            }
        }

        return found < 0 ? 0 : entries[found].RelativeOffset;
    }

    public byte[] Serialize()
    {
        int count = _count;
        var bytes = new byte[count * EntryBytes];
        for (int i = 0; i < count; i++)
        {
            BinaryPrimitives.WriteInt64BigEndian(bytes.AsSpan(i * EntryBytes), _entries[i].Timestamp);
            BinaryPrimitives.WriteInt32BigEndian(bytes.AsSpan((i * EntryBytes) + 8), _entries[i].RelativeOffset);
        }

        return bytes;
    }

    /// <summary>Parses a time index file; null when it is not a whole number of entries or not increasing.</summary>
    public static TimeIndex? TryParse(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length % EntryBytes != 0)
        {
            return null;
        }

        var index = new TimeIndex(bytes.Length / EntryBytes);
        for (int i = 0; i < bytes.Length; i += EntryBytes)
        {
            long timestamp = BinaryPrimitives.ReadInt64BigEndian(bytes[i..]);
            int relativeOffset = BinaryPrimitives.ReadInt32BigEndian(bytes[(i + 8)..]);
            if (relativeOffset < 0 || (index._count > 0 && (timestamp <= index._entries[index._count - 1].Timestamp || relativeOffset < index._entries[index._count - 1].RelativeOffset)))
            {
                return null;
            }

            index.MaybeAppend(timestamp, relativeOffset);
        }

        return index;
    }

    private readonly record struct Entry(long Timestamp, int RelativeOffset);
}
