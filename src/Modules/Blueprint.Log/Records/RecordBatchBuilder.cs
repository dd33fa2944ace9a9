// Written by hand: the record batch is the log's own subject and no library provides Kafka's storage format.
// Format: Kafka's record batch v2 (DefaultRecordBatch.java, DefaultRecord.java).
using System.Buffers;
using System.Buffers.Binary;
using System.Text;

namespace Blueprint.Log.Records;

/// <summary>
/// Builds one v2 record batch from records: offsets deltas 0, 1, 2…, the base timestamp of the first record, the
/// chosen compression over the records section, and a correct CRC-32C. The log assigns the real base offset on append.
/// </summary>
/// <param name="compression">The codec of the records section.</param>
public sealed class RecordBatchBuilder(CompressionType compression = CompressionType.None)
{
    /// <summary>The most records one batch may hold.</summary>
    public const int RecordsMax = 1_000_000;

    private readonly List<PendingRecord> _records = [];

    /// <summary>The codec of the records section.</summary>
    public CompressionType Compression { get; } = compression;

    /// <summary>The base offset written in the header (0 by default: the log rewrites it).</summary>
    public long BaseOffset { get; init; }

    /// <summary>The partition leader epoch written in the header (-1 by default).</summary>
    public int PartitionLeaderEpoch { get; init; } = -1;

    /// <summary>The idempotent producer's id, or -1 (the default) for none.</summary>
    public long ProducerId { get; init; } = -1;

    /// <summary>The idempotent producer's epoch, or -1.</summary>
    public short ProducerEpoch { get; init; } = -1;

    /// <summary>The sequence number of the first record, or -1.</summary>
    public int BaseSequence { get; init; } = -1;

    /// <summary>Whether the batch belongs to a transaction.</summary>
    public bool IsTransactional { get; init; }

    /// <summary>What the timestamps mean.</summary>
    public TimestampType TimestampType { get; init; }

    /// <summary>The records added so far.</summary>
    public int Count => _records.Count;

    /// <summary>Overrides the last offset delta (a compacted batch keeps its original offset range).</summary>
    internal int? LastOffsetDelta { get; init; }

    /// <summary>Overrides the max timestamp (a log-append-time batch keeps the time it was appended).</summary>
    internal long? MaxTimestamp { get; init; }

    /// <summary>Adds a record with the next offset delta.</summary>
    public RecordBatchBuilder Add(long timestamp, ReadOnlyMemory<byte>? key, ReadOnlyMemory<byte>? value, IReadOnlyList<RecordHeader>? headers = null) =>
        AddAt(_records.Count == 0 ? 0 : _records[^1].OffsetDelta + 1, timestamp, key, value, headers);

    /// <summary>Adds a record at an explicit offset delta, above the previous one (records kept by compaction).</summary>
    internal RecordBatchBuilder AddAt(int offsetDelta, long timestamp, ReadOnlyMemory<byte>? key, ReadOnlyMemory<byte>? value, IReadOnlyList<RecordHeader>? headers)
    {
        if (_records.Count >= RecordsMax)
        {
            throw new InvalidOperationException($"a batch holds at most {RecordsMax} records");
        }

        if (_records.Count > 0 && offsetDelta <= _records[^1].OffsetDelta)
        {
            throw new ArgumentOutOfRangeException(nameof(offsetDelta), offsetDelta, "offset deltas must increase");
        }

        _records.Add(new PendingRecord(offsetDelta, timestamp, key, value, headers ?? []));
        return this;
    }

    /// <summary>Encodes the batch. Throws <see cref="InvalidOperationException"/> when no record was added.</summary>
    public byte[] Build()
    {
        if (_records.Count == 0)
        {
            throw new InvalidOperationException("a record batch needs at least one record");
        }

        long baseTimestamp = _records[0].Timestamp;
        long maxTimestamp = long.MinValue;
        var section = new ArrayBufferWriter<byte>();
        foreach (var record in _records)
        {
            maxTimestamp = Math.Max(maxTimestamp, record.Timestamp);
            WriteRecord(section, record, baseTimestamp);
        }

        var records = Compression == CompressionType.None
            ? section.WrittenSpan
            : RecordCompression.Compress(Compression, section.WrittenSpan);
        if (records.Length > int.MaxValue - RecordBatchHeader.Size)
        {
            throw new InvalidOperationException($"records of {records.Length} bytes do not fit one batch");
        }

        var batch = new byte[RecordBatchHeader.Size + records.Length];
        var span = batch.AsSpan();
        short attributes = (short)((int)Compression
            | (TimestampType == TimestampType.LogAppendTime ? RecordBatchHeader.TimestampTypeFlag : 0)
            | (IsTransactional ? RecordBatchHeader.TransactionalFlag : 0));
        BinaryPrimitives.WriteInt64BigEndian(span[RecordBatchHeader.BaseOffsetPosition..], BaseOffset);
        BinaryPrimitives.WriteInt32BigEndian(span[RecordBatchHeader.BatchLengthPosition..], batch.Length - RecordBatchHeader.LogOverhead);
        BinaryPrimitives.WriteInt32BigEndian(span[RecordBatchHeader.PartitionLeaderEpochPosition..], PartitionLeaderEpoch);
        span[RecordBatchHeader.MagicPosition] = RecordBatchHeader.CurrentMagic;
        BinaryPrimitives.WriteInt16BigEndian(span[RecordBatchHeader.AttributesPosition..], attributes);
        BinaryPrimitives.WriteInt32BigEndian(span[RecordBatchHeader.LastOffsetDeltaPosition..], LastOffsetDelta ?? _records[^1].OffsetDelta);
        BinaryPrimitives.WriteInt64BigEndian(span[RecordBatchHeader.BaseTimestampPosition..], baseTimestamp);
        BinaryPrimitives.WriteInt64BigEndian(span[RecordBatchHeader.MaxTimestampPosition..], MaxTimestamp ?? maxTimestamp);
        BinaryPrimitives.WriteInt64BigEndian(span[RecordBatchHeader.ProducerIdPosition..], ProducerId);
        BinaryPrimitives.WriteInt16BigEndian(span[RecordBatchHeader.ProducerEpochPosition..], ProducerEpoch);
        BinaryPrimitives.WriteInt32BigEndian(span[RecordBatchHeader.BaseSequencePosition..], BaseSequence);
        BinaryPrimitives.WriteInt32BigEndian(span[RecordBatchHeader.RecordCountPosition..], _records.Count);
        records.CopyTo(span[RecordBatchHeader.Size..]);
        BinaryPrimitives.WriteUInt32BigEndian(span[RecordBatchHeader.CrcPosition..], Crc32C.Compute(span[RecordBatchHeader.AttributesPosition..]));
        return batch;
    }

    private static void WriteRecord(ArrayBufferWriter<byte> output, in PendingRecord record, long baseTimestamp)
    {
        long timestampDelta = record.Timestamp - baseTimestamp;
        int keyLength = record.Key?.Length ?? -1;
        int valueLength = record.Value?.Length ?? -1;
        long body = 1 + Varint.SizeOf(timestampDelta) + Varint.SizeOf(record.OffsetDelta)
            + Varint.SizeOf(keyLength) + Math.Max(keyLength, 0)
            + Varint.SizeOf(valueLength) + Math.Max(valueLength, 0)
            + Varint.SizeOf(record.Headers.Count);
        foreach (var header in record.Headers)
        {
            int headerKeyLength = Encoding.UTF8.GetByteCount(header.Key);
            int headerValueLength = header.Value?.Length ?? -1;
            body += Varint.SizeOf(headerKeyLength) + headerKeyLength + Varint.SizeOf(headerValueLength) + Math.Max(headerValueLength, 0);
        }

        if (body > int.MaxValue - 5)
        {
            throw new InvalidOperationException($"a record of {body} bytes is too large");
        }

        var span = output.GetSpan(Varint.SizeOf((int)body) + (int)body);
        int position = Varint.Write(span, (int)body);
        span[position++] = 0; // record attributes: unused in v2
        position += Varint.Write(span[position..], timestampDelta);
        position += Varint.Write(span[position..], record.OffsetDelta);
        position += WriteBytes(span[position..], record.Key);
        position += WriteBytes(span[position..], record.Value);
        position += Varint.Write(span[position..], record.Headers.Count);
        foreach (var header in record.Headers)
        {
            int headerKeyLength = Encoding.UTF8.GetByteCount(header.Key);
            position += Varint.Write(span[position..], headerKeyLength);
            position += Encoding.UTF8.GetBytes(header.Key, span[position..]);
            position += WriteBytes(span[position..], header.Value);
        }

        output.Advance(position);
    }

    private static int WriteBytes(Span<byte> destination, ReadOnlyMemory<byte>? bytes)
    {
        if (bytes is not { } present)
        {
            return Varint.Write(destination, -1);
        }

        int position = Varint.Write(destination, present.Length);
        present.Span.CopyTo(destination[position..]);
        return position + present.Length;
    }

    private readonly record struct PendingRecord(int OffsetDelta, long Timestamp, ReadOnlyMemory<byte>? Key, ReadOnlyMemory<byte>? Value, IReadOnlyList<RecordHeader> Headers);
}
