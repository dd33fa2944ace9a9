using System.Buffers;
using System.Buffers.Binary;
using System.IO.Hashing;
using Blueprint.Core.Raft;

namespace Blueprint.Raft.Hosting.Wal;

/// <summary>What a WAL record holds.</summary>
internal enum WalRecordType : byte
{
    /// <summary>First record of every segment: its sequence number and the next log index when it was created.</summary>
    SegmentHeader = 1,

    /// <summary>One log entry: index, term, kind, data.</summary>
    Entry = 2,

    /// <summary>The hard state: term, vote, commit.</summary>
    HardState = 3,

    /// <summary>Drop every entry at or after an index.</summary>
    Truncate = 4,

    /// <summary>The snapshot file <c>snap/&lt;term&gt;-&lt;index&gt;.snap</c> is now the snapshot; says whether later entries were kept.</summary>
    Snapshot = 5,
}

/// <summary>
/// The binary record format of the write-ahead log, encoded by hand with <see cref="BinaryPrimitives"/> because the
/// WAL is the subject here: every byte on disk is spelled out below, with no serializer in between. All integers are
/// little-endian. A record is
/// <code>
/// crc32c : u32   CRC-32C (Castagnoli) of every byte after this field: length, type and payload
/// length : u32   payload length in bytes
/// type   : u8    a <see cref="WalRecordType"/>
/// payload: length bytes
/// </code>
/// The payloads are: segment header <c>seq u64, firstIndex i64</c>; entry <c>index i64, term i64, kind u8, data</c>;
/// hard state <c>term i64, vote i32, commit i64</c>; truncate <c>fromIndex i64</c>; snapshot
/// <c>index i64, term i64, keptLaterEntries u8</c>. A zero-filled region fails the CRC (the CRC-32C of a zero
/// length and type 0 is not 0), so a preallocated or zero-extended tail reads as torn.
/// </summary>
internal static class WalFormat
{
    /// <summary>Bytes before the payload: CRC, length, type.</summary>
    public const int HeaderBytes = 4 + 4 + 1;

    /// <summary>Payload bytes of an entry record before its data.</summary>
    public const int EntryFixedBytes = 8 + 8 + 1;

    /// <summary>Bytes of a whole entry record for <paramref name="entry"/>.</summary>
    public static long EntryRecordBytes(in LogEntry entry) => HeaderBytes + EntryFixedBytes + (long)entry.Data.Length;

    public static uint Crc(ReadOnlySpan<byte> bytes) => Crc32.HashToUInt32(Crc32ParameterSet.Crc32C, bytes);

    public static void WriteSegmentHeader(ArrayBufferWriter<byte> writer, long sequence, long firstIndex)
    {
        var payload = Begin(writer, 16);
        BinaryPrimitives.WriteInt64LittleEndian(payload, sequence);
        BinaryPrimitives.WriteInt64LittleEndian(payload[8..], firstIndex);
        End(writer, WalRecordType.SegmentHeader, 16);
    }

    public static void WriteEntry(ArrayBufferWriter<byte> writer, in LogEntry entry)
    {
        int length = EntryFixedBytes + entry.Data.Length;
        var payload = Begin(writer, length);
        BinaryPrimitives.WriteInt64LittleEndian(payload, entry.Index);
        BinaryPrimitives.WriteInt64LittleEndian(payload[8..], entry.Term);
        payload[16] = (byte)entry.Kind;
        entry.Data.Span.CopyTo(payload[EntryFixedBytes..]);
        End(writer, WalRecordType.Entry, length);
    }

    public static void WriteHardState(ArrayBufferWriter<byte> writer, HardState hardState)
    {
        var payload = Begin(writer, 20);
        BinaryPrimitives.WriteInt64LittleEndian(payload, hardState.Term);
        BinaryPrimitives.WriteInt32LittleEndian(payload[8..], hardState.Vote);
        BinaryPrimitives.WriteInt64LittleEndian(payload[12..], hardState.Commit);
        End(writer, WalRecordType.HardState, 20);
    }

    public static void WriteTruncate(ArrayBufferWriter<byte> writer, long fromIndex)
    {
        var payload = Begin(writer, 8);
        BinaryPrimitives.WriteInt64LittleEndian(payload, fromIndex);
        End(writer, WalRecordType.Truncate, 8);
    }

    public static void WriteSnapshot(ArrayBufferWriter<byte> writer, long index, long term, bool keptLaterEntries)
    {
        var payload = Begin(writer, 17);
        BinaryPrimitives.WriteInt64LittleEndian(payload, index);
        BinaryPrimitives.WriteInt64LittleEndian(payload[8..], term);
        payload[16] = keptLaterEntries ? (byte)1 : (byte)0;
        End(writer, WalRecordType.Snapshot, 17);
    }

    /// <summary>Reads the record at <paramref name="offset"/>; null when the bytes there do not form a whole record with a good CRC.</summary>
    public static WalRecord? TryRead(ReadOnlyMemory<byte> file, int offset)
    {
        var span = file.Span;
        if (span.Length - offset < HeaderBytes)
        {
            return null;
        }

        uint crc = BinaryPrimitives.ReadUInt32LittleEndian(span[offset..]);
        uint length = BinaryPrimitives.ReadUInt32LittleEndian(span[(offset + 4)..]);
        if (length > (uint)(span.Length - offset - HeaderBytes))
        {
            return null;
        }

        int total = HeaderBytes + (int)length;
        if (Crc(span.Slice(offset + 4, total - 4)) != crc)
        {
            return null;
        }

        return new WalRecord((WalRecordType)span[offset + 8], file.Slice(offset + HeaderBytes, (int)length), total);
    }

    private static Span<byte> Begin(ArrayBufferWriter<byte> writer, int payloadBytes) =>
        writer.GetSpan(HeaderBytes + payloadBytes)[HeaderBytes..(HeaderBytes + payloadBytes)];

    private static void End(ArrayBufferWriter<byte> writer, WalRecordType type, int payloadBytes)
    {
        var record = writer.GetSpan(HeaderBytes + payloadBytes)[..(HeaderBytes + payloadBytes)];
        BinaryPrimitives.WriteUInt32LittleEndian(record[4..], (uint)payloadBytes);
        record[8] = (byte)type;
        BinaryPrimitives.WriteUInt32LittleEndian(record, Crc(record[4..]));
        writer.Advance(HeaderBytes + payloadBytes);
    }
}

/// <summary>One record read back: its type, payload and size on disk.</summary>
internal readonly record struct WalRecord(WalRecordType Type, ReadOnlyMemory<byte> Payload, int RecordBytes);
