// Written by hand: the record batch is the log's own subject and no library provides Kafka's storage format.
// Format: Kafka's record batch v2 (magic 2, KIP-98), as in DefaultRecordBatch.java; all integers big-endian.
using System.Buffers.Binary;

namespace Blueprint.Log.Records;

/// <summary>
/// The 61-byte header of a Kafka v2 record batch, parsed from the front of a span:
/// <c>baseOffset i64, batchLength i32, partitionLeaderEpoch i32, magic i8, crc u32, attributes i16, lastOffsetDelta i32,
/// baseTimestamp i64, maxTimestamp i64, producerId i64, producerEpoch i16, baseSequence i32, recordCount i32</c>, then
/// the records. The CRC-32C covers everything from the attributes to the end of the batch, so the base offset and the
/// partition leader epoch can be rewritten without recomputing it.
/// </summary>
public readonly struct RecordBatchHeader
{
    /// <summary>The bytes of the header, up to the first record.</summary>
    public const int Size = 61;

    /// <summary>The bytes before <see cref="BatchLength"/> counts: base offset and the length itself.</summary>
    public const int LogOverhead = 12;

    /// <summary>The only magic (format version) this log accepts.</summary>
    public const byte CurrentMagic = 2;

    internal const int BaseOffsetPosition = 0;
    internal const int BatchLengthPosition = 8;
    internal const int PartitionLeaderEpochPosition = 12;
    internal const int MagicPosition = 16;
    internal const int CrcPosition = 17;
    internal const int AttributesPosition = 21;
    internal const int LastOffsetDeltaPosition = 23;
    internal const int BaseTimestampPosition = 27;
    internal const int MaxTimestampPosition = 35;
    internal const int ProducerIdPosition = 43;
    internal const int ProducerEpochPosition = 51;
    internal const int BaseSequencePosition = 53;
    internal const int RecordCountPosition = 57;

    internal const short CompressionMask = 0x07;
    internal const short TimestampTypeFlag = 0x08;
    internal const short TransactionalFlag = 0x10;
    internal const short ControlFlag = 0x20;

    private RecordBatchHeader(ReadOnlySpan<byte> source)
    {
        BaseOffset = BinaryPrimitives.ReadInt64BigEndian(source[BaseOffsetPosition..]);
        BatchLength = BinaryPrimitives.ReadInt32BigEndian(source[BatchLengthPosition..]);
        PartitionLeaderEpoch = BinaryPrimitives.ReadInt32BigEndian(source[PartitionLeaderEpochPosition..]);
        Magic = (sbyte)source[MagicPosition];
        Crc = BinaryPrimitives.ReadUInt32BigEndian(source[CrcPosition..]);
        Attributes = BinaryPrimitives.ReadInt16BigEndian(source[AttributesPosition..]);
        LastOffsetDelta = BinaryPrimitives.ReadInt32BigEndian(source[LastOffsetDeltaPosition..]);
        BaseTimestamp = BinaryPrimitives.ReadInt64BigEndian(source[BaseTimestampPosition..]);
        MaxTimestamp = BinaryPrimitives.ReadInt64BigEndian(source[MaxTimestampPosition..]);
        ProducerId = BinaryPrimitives.ReadInt64BigEndian(source[ProducerIdPosition..]);
        ProducerEpoch = BinaryPrimitives.ReadInt16BigEndian(source[ProducerEpochPosition..]);
        BaseSequence = BinaryPrimitives.ReadInt32BigEndian(source[BaseSequencePosition..]);
        RecordCount = BinaryPrimitives.ReadInt32BigEndian(source[RecordCountPosition..]);
    }

    /// <summary>The offset of the first record (assigned by the log; the producer sends 0).</summary>
    public long BaseOffset { get; }

    /// <summary>The bytes of the batch after this field (so the batch is <see cref="LogOverhead"/> + this long).</summary>
    public int BatchLength { get; }

    /// <summary>The leader epoch of the partition when the batch was appended (-1 from a producer).</summary>
    public int PartitionLeaderEpoch { get; }

    /// <summary>The format version; 2 for every batch this log keeps.</summary>
    public sbyte Magic { get; }

    /// <summary>The CRC-32C stored in the batch.</summary>
    public uint Crc { get; }

    /// <summary>The raw attributes: compression, timestamp type, transactional and control flags.</summary>
    public short Attributes { get; }

    /// <summary>The last record's offset minus <see cref="BaseOffset"/>.</summary>
    public int LastOffsetDelta { get; }

    /// <summary>The first record's timestamp (milliseconds since the epoch); record timestamps are deltas from it.</summary>
    public long BaseTimestamp { get; }

    /// <summary>The largest record timestamp, or the append time for <see cref="TimestampType.LogAppendTime"/>.</summary>
    public long MaxTimestamp { get; }

    /// <summary>The idempotent producer's id, or -1.</summary>
    public long ProducerId { get; }

    /// <summary>The idempotent producer's epoch, or -1.</summary>
    public short ProducerEpoch { get; }

    /// <summary>The sequence number of the first record for the idempotent producer, or -1.</summary>
    public int BaseSequence { get; }

    /// <summary>The number of records, as the producer declared it.</summary>
    public int RecordCount { get; }

    /// <summary>The bytes of the whole batch, header included.</summary>
    public int TotalSize => LogOverhead + BatchLength;

    /// <summary>The offset of the last record.</summary>
    public long LastOffset => BaseOffset + LastOffsetDelta;

    /// <summary>The codec of the records section (values 5–7 are invalid and rejected by the log).</summary>
    public CompressionType Compression => (CompressionType)(Attributes & CompressionMask);

    /// <summary>What the timestamps mean.</summary>
    public TimestampType TimestampType => (Attributes & TimestampTypeFlag) != 0 ? TimestampType.LogAppendTime : TimestampType.CreateTime;

    /// <summary>Whether the batch belongs to a transaction.</summary>
    public bool IsTransactional => (Attributes & TransactionalFlag) != 0;

    /// <summary>Whether the batch holds a control record (a transaction marker), not data.</summary>
    public bool IsControl => (Attributes & ControlFlag) != 0;

    /// <summary>Whether an idempotent producer wrote the batch.</summary>
    public bool HasProducerId => ProducerId >= 0;

    /// <summary>The sequence number of the last record, wrapping past <see cref="int.MaxValue"/> to 0 as Kafka's producers do.</summary>
    public int LastSequence => IncrementSequence(BaseSequence, LastOffsetDelta);

    /// <summary>
    /// Parses the header at the front of <paramref name="source"/>. Throws <see cref="RecordFormatException"/> when
    /// fewer than <see cref="Size"/> bytes are given or the length field is impossible (below the header, or past
    /// <see cref="int.MaxValue"/> in total); the magic, CRC and counts are left to the caller to judge.
    /// </summary>
    public static RecordBatchHeader Parse(ReadOnlySpan<byte> source)
    {
        if (!TryParse(source, out var header))
        {
            throw new RecordFormatException(source.Length < Size
                ? $"record batch header needs {Size} bytes, got {source.Length}"
                : $"record batch length {BinaryPrimitives.ReadInt32BigEndian(source[BatchLengthPosition..])} is impossible");
        }

        return header;
    }

    /// <summary>Parses the header at the front of <paramref name="source"/>; false when it is too short or its length field is impossible.</summary>
    public static bool TryParse(ReadOnlySpan<byte> source, out RecordBatchHeader header)
    {
        if (source.Length < Size)
        {
            header = default;
            return false;
        }

        header = new RecordBatchHeader(source);
        if (header.BatchLength < Size - LogOverhead || header.BatchLength > int.MaxValue - LogOverhead)
        {
            header = default;
            return false;
        }

        return true;
    }

    /// <summary>
    /// Whether <paramref name="batch"/> (the whole batch, starting at its base offset) holds at least
    /// <see cref="TotalSize"/> bytes and its CRC-32C from the attributes to the end matches <see cref="Crc"/>.
    /// </summary>
    public bool HasValidCrc(ReadOnlySpan<byte> batch) =>
        batch.Length >= TotalSize && Crc32C.Compute(batch[AttributesPosition..TotalSize]) == Crc;

    /// <summary>Adds <paramref name="increment"/> to a producer sequence number, wrapping past <see cref="int.MaxValue"/> to 0.</summary>
    internal static int IncrementSequence(int sequence, int increment) =>
        sequence > int.MaxValue - increment ? increment - (int.MaxValue - sequence) - 1 : sequence + increment;

    /// <summary>Rewrites the base offset of the batch at the front of <paramref name="batch"/> (outside the CRC).</summary>
    internal static void WriteBaseOffset(Span<byte> batch, long baseOffset) =>
        BinaryPrimitives.WriteInt64BigEndian(batch[BaseOffsetPosition..], baseOffset);

    /// <summary>Rewrites the partition leader epoch of the batch at the front of <paramref name="batch"/> (outside the CRC).</summary>
    internal static void WritePartitionLeaderEpoch(Span<byte> batch, int leaderEpoch) =>
        BinaryPrimitives.WriteInt32BigEndian(batch[PartitionLeaderEpochPosition..], leaderEpoch);

    /// <summary>Reads only the base offset, length and last offset delta: what scanning a log for an offset needs.</summary>
    internal static (long BaseOffset, int TotalSize, long LastOffset) ReadBounds(ReadOnlySpan<byte> source)
    {
        long baseOffset = BinaryPrimitives.ReadInt64BigEndian(source[BaseOffsetPosition..]);
        int length = BinaryPrimitives.ReadInt32BigEndian(source[BatchLengthPosition..]);
        int lastOffsetDelta = BinaryPrimitives.ReadInt32BigEndian(source[LastOffsetDeltaPosition..]);
        return (baseOffset, LogOverhead + length, baseOffset + lastOffsetDelta);
    }
}
