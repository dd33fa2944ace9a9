using System.Buffers;
using System.Buffers.Binary;
using System.IO.Hashing;
using System.Text;

namespace Blueprint.Log.Groups;

/// <summary>One partition's committed offset as the coordinator keeps it.</summary>
/// <param name="Offset">The committed offset.</param>
/// <param name="LeaderEpoch">The committed leader epoch, -1 when unknown.</param>
/// <param name="Metadata">The committed metadata ("" when none).</param>
/// <param name="CommitTimestampMs">When it was committed, milliseconds since the Unix epoch (for retention).</param>
internal readonly record struct CommittedOffset(long Offset, int LeaderEpoch, string Metadata, long CommitTimestampMs);

/// <summary>What a journal record holds.</summary>
internal enum JournalRecordType : byte
{
    /// <summary>The first record of every journal file: the format version.</summary>
    Header = 1,

    /// <summary>A group's offset for one partition.</summary>
    OffsetCommit = 2,

    /// <summary>A group's offset for one partition is gone (expired).</summary>
    OffsetDelete = 3,

    /// <summary>Every group's offsets of a topic are gone (the topic was deleted).</summary>
    TopicDelete = 4,

    /// <summary>A group's protocol type and since when it has been empty (retention of its offsets counts from then).</summary>
    GroupState = 5,

    /// <summary>A group and all its offsets are gone.</summary>
    GroupDelete = 6,
}

/// <summary>A decoded journal record.</summary>
internal abstract record JournalEntry;

/// <summary>An <see cref="JournalRecordType.OffsetCommit"/> record.</summary>
internal sealed record OffsetCommitRecord(string GroupId, string Topic, int Partition, CommittedOffset Value) : JournalEntry;

/// <summary>An <see cref="JournalRecordType.OffsetDelete"/> record.</summary>
internal sealed record OffsetDeleteRecord(string GroupId, string Topic, int Partition) : JournalEntry;

/// <summary>A <see cref="JournalRecordType.TopicDelete"/> record.</summary>
internal sealed record TopicDeleteRecord(string Topic) : JournalEntry;

/// <summary>A <see cref="JournalRecordType.GroupState"/> record; <paramref name="EmptySinceMs"/> is -1 while the group has members.</summary>
internal sealed record GroupStateRecord(string GroupId, string ProtocolType, long EmptySinceMs) : JournalEntry;

/// <summary>A <see cref="JournalRecordType.GroupDelete"/> record.</summary>
internal sealed record GroupDeleteRecord(string GroupId) : JournalEntry;

/// <summary>
/// The binary format of the offsets journal, encoded by hand so that every byte on disk is spelled out here. All
/// integers are little-endian. A record is
/// <code>
/// crc32c : u32   CRC-32C (Castagnoli) of every byte after this field: length, type and payload
/// length : u32   payload length in bytes
/// type   : u8    a <see cref="JournalRecordType"/>
/// payload: length bytes
/// </code>
/// Strings are <c>u16 length, UTF-8</c> (str16) or, for commit metadata, <c>i32 length, UTF-8</c> (str32). Payloads:
/// header <c>version u16</c>; offset commit <c>group str16, topic str16, partition i32, offset i64, leaderEpoch i32,
/// commitTimeMs i64, metadata str32</c>; offset delete <c>group str16, topic str16, partition i32</c>; topic delete
/// <c>topic str16</c>; group state <c>group str16, protocolType str16, emptySinceMs i64</c>; group delete
/// <c>group str16</c>. A zero-filled region fails the CRC, so a preallocated or zero-extended tail reads as torn.
/// </summary>
internal static class OffsetJournalFormat
{
    /// <summary>The format version in the header record.</summary>
    public const ushort Version = 1;

    /// <summary>Bytes before the payload: CRC, length, type.</summary>
    public const int HeaderBytes = 4 + 4 + 1;

    /// <summary>
    /// The largest payload a valid record can have (limits on group id, topic and metadata keep real records far
    /// smaller); a longer length field marks a torn or corrupt record.
    /// </summary>
    public const int MaxPayloadBytes = 4 * 1024 * 1024;

    /// <summary>The longest string a str16 field holds, in UTF-8 bytes.</summary>
    public const int MaxShortStringBytes = ushort.MaxValue;

    public static uint Crc(ReadOnlySpan<byte> bytes) => Crc32.HashToUInt32(Crc32ParameterSet.Crc32C, bytes);

    public static void WriteHeader(IBufferWriter<byte> writer)
    {
        var payload = Begin(writer, 2);
        BinaryPrimitives.WriteUInt16LittleEndian(payload, Version);
        End(writer, JournalRecordType.Header, 2);
    }

    public static void WriteOffsetCommit(IBufferWriter<byte> writer, string groupId, string topic, int partition, in CommittedOffset value)
    {
        int length = Str16Bytes(groupId) + Str16Bytes(topic) + 4 + 8 + 4 + 8 + 4 + Encoding.UTF8.GetByteCount(value.Metadata);
        var payload = Begin(writer, length);
        int at = WriteStr16(payload, groupId);
        at += WriteStr16(payload[at..], topic);
        BinaryPrimitives.WriteInt32LittleEndian(payload[at..], partition);
        BinaryPrimitives.WriteInt64LittleEndian(payload[(at + 4)..], value.Offset);
        BinaryPrimitives.WriteInt32LittleEndian(payload[(at + 12)..], value.LeaderEpoch);
        BinaryPrimitives.WriteInt64LittleEndian(payload[(at + 16)..], value.CommitTimestampMs);
        at += 24;
        int metadataBytes = Encoding.UTF8.GetBytes(value.Metadata, payload[(at + 4)..]);
        BinaryPrimitives.WriteInt32LittleEndian(payload[at..], metadataBytes);
        End(writer, JournalRecordType.OffsetCommit, length);
    }

    public static void WriteOffsetDelete(IBufferWriter<byte> writer, string groupId, string topic, int partition)
    {
        int length = Str16Bytes(groupId) + Str16Bytes(topic) + 4;
        var payload = Begin(writer, length);
        int at = WriteStr16(payload, groupId);
        at += WriteStr16(payload[at..], topic);
        BinaryPrimitives.WriteInt32LittleEndian(payload[at..], partition);
        End(writer, JournalRecordType.OffsetDelete, length);
    }

    public static void WriteTopicDelete(IBufferWriter<byte> writer, string topic)
    {
        int length = Str16Bytes(topic);
        WriteStr16(Begin(writer, length), topic);
        End(writer, JournalRecordType.TopicDelete, length);
    }

    public static void WriteGroupState(IBufferWriter<byte> writer, string groupId, string protocolType, long emptySinceMs)
    {
        int length = Str16Bytes(groupId) + Str16Bytes(protocolType) + 8;
        var payload = Begin(writer, length);
        int at = WriteStr16(payload, groupId);
        at += WriteStr16(payload[at..], protocolType);
        BinaryPrimitives.WriteInt64LittleEndian(payload[at..], emptySinceMs);
        End(writer, JournalRecordType.GroupState, length);
    }

    public static void WriteGroupDelete(IBufferWriter<byte> writer, string groupId)
    {
        int length = Str16Bytes(groupId);
        WriteStr16(Begin(writer, length), groupId);
        End(writer, JournalRecordType.GroupDelete, length);
    }

    /// <summary>Decodes a record whose CRC held; a payload that does not fit its type is corruption the CRC cannot explain.</summary>
    public static JournalEntry? Decode(JournalRecordType type, ReadOnlySpan<byte> payload)
    {
        var reader = new PayloadReader(payload);
        JournalEntry? entry = type switch
        {
            JournalRecordType.Header => ReadHeader(ref reader),
            JournalRecordType.OffsetCommit => ReadOffsetCommit(ref reader),
            JournalRecordType.OffsetDelete => new OffsetDeleteRecord(reader.Str16(), reader.Str16(), reader.Int32()),
            JournalRecordType.TopicDelete => new TopicDeleteRecord(reader.Str16()),
            JournalRecordType.GroupState => new GroupStateRecord(reader.Str16(), reader.Str16(), reader.Int64()),
            JournalRecordType.GroupDelete => new GroupDeleteRecord(reader.Str16()),
            _ => throw new InvalidDataException($"Offsets journal record of unknown type {(byte)type}: written by a newer version?"),
        };
        if (!reader.AtEnd)
        {
            throw new InvalidDataException($"Offsets journal record of type {type} has {reader.Remaining} bytes past its fields.");
        }

        return entry;
    }

    private static JournalEntry? ReadHeader(ref PayloadReader reader)
    {
        ushort version = reader.UInt16();
        if (version != Version)
        {
            throw new InvalidDataException($"Offsets journal format version {version}; this version reads {Version}.");
        }

        return null;
    }

    private static OffsetCommitRecord ReadOffsetCommit(ref PayloadReader reader)
    {
        string groupId = reader.Str16();
        string topic = reader.Str16();
        int partition = reader.Int32();
        long offset = reader.Int64();
        int leaderEpoch = reader.Int32();
        long commitTimestampMs = reader.Int64();
        string metadata = reader.Str32();
        return new OffsetCommitRecord(groupId, topic, partition, new CommittedOffset(offset, leaderEpoch, metadata, commitTimestampMs));
    }

    private static int Str16Bytes(string value)
    {
        int bytes = Encoding.UTF8.GetByteCount(value);
        GroupInvariant.Check(bytes <= MaxShortStringBytes, value, "a journal string longer than 65535 UTF-8 bytes");
        return 2 + bytes;
    }

    private static int WriteStr16(Span<byte> destination, string value)
    {
        int bytes = Encoding.UTF8.GetBytes(value, destination[2..]);
        BinaryPrimitives.WriteUInt16LittleEndian(destination, (ushort)bytes);
        return 2 + bytes;
    }

    private static Span<byte> Begin(IBufferWriter<byte> writer, int payloadBytes)
    {
        GroupInvariant.Check(payloadBytes <= MaxPayloadBytes, "", "a journal record larger than the largest payload");
        return writer.GetSpan(HeaderBytes + payloadBytes)[HeaderBytes..(HeaderBytes + payloadBytes)];
    }

    private static void End(IBufferWriter<byte> writer, JournalRecordType type, int payloadBytes)
    {
        var record = writer.GetSpan(HeaderBytes + payloadBytes)[..(HeaderBytes + payloadBytes)];
        BinaryPrimitives.WriteUInt32LittleEndian(record[4..], (uint)payloadBytes);
        record[8] = (byte)type;
        BinaryPrimitives.WriteUInt32LittleEndian(record, Crc(record[4..]));
        writer.Advance(HeaderBytes + payloadBytes);
    }

    /// <summary>Reads the fields of one payload in order, throwing <see cref="InvalidDataException"/> when one does not fit.</summary>
    private ref struct PayloadReader(ReadOnlySpan<byte> payload)
    {
        private readonly ReadOnlySpan<byte> _payload = payload;
        private int _at;

        public readonly bool AtEnd => _at == _payload.Length;

        public readonly int Remaining => _payload.Length - _at;

        public ushort UInt16() => BinaryPrimitives.ReadUInt16LittleEndian(Take(2));

        public int Int32() => BinaryPrimitives.ReadInt32LittleEndian(Take(4));

        public long Int64() => BinaryPrimitives.ReadInt64LittleEndian(Take(8));

        public string Str16() => Encoding.UTF8.GetString(Take(UInt16()));

        public string Str32()
        {
            int length = Int32();
            if (length < 0)
            {
                throw new InvalidDataException("Offsets journal string with a negative length.");
            }

            return Encoding.UTF8.GetString(Take(length));
        }

        private ReadOnlySpan<byte> Take(int count)
        {
            if (_payload.Length - _at < count)
            {
                throw new InvalidDataException("Offsets journal record shorter than its fields.");
            }

            var slice = _payload.Slice(_at, count);
            _at += count;
            return slice;
        }
    }
}
