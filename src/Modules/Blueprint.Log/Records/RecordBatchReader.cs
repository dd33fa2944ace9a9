// Written by hand: the record batch is the log's own subject and no library provides Kafka's storage format.
// Format: the records of a v2 batch (DefaultRecord.java): length varint, attributes i8, timestampDelta varlong,
// offsetDelta varint, key (varint length, -1 null), value (same), headerCount varint, headers (key varint length + UTF-8,
// value varint length, -1 null).
using System.Text;
using Blueprint.Log.Kafka;

namespace Blueprint.Log.Records;

/// <summary>Reads the records out of v2 record batches, decompressing them within a byte budget.</summary>
public static class RecordBatchReader
{
    /// <summary>The smallest encoded record: length, attributes, timestamp delta, offset delta, key and value lengths, header count.</summary>
    internal const int RecordBytesMin = 7;

    /// <summary>The most headers one record may carry; more is taken as corruption rather than allocated.</summary>
    internal const int HeadersPerRecordMax = 64 * 1024;

    private static readonly RecordHeader[] NoHeaders = [];

    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <summary>
    /// The records of every data batch in <paramref name="batches"/> (concatenated v2 batches), in order; control
    /// batches are skipped. Keys, values and headers of uncompressed batches are slices of <paramref name="batches"/>.
    /// Throws <see cref="RecordFormatException"/> on a partial, corrupt (CRC) or malformed batch, or when the batches
    /// together decompress to more than <paramref name="maxDecompressedBytes"/>.
    /// </summary>
    public static IReadOnlyList<LogRecord> ReadRecords(ReadOnlyMemory<byte> batches, int maxDecompressedBytes)
    {
        var records = new List<LogRecord>();
        long budget = maxDecompressedBytes;
        int position = 0;
        while (position < batches.Length)
        {
            var rest = batches.Span[position..];
            var header = RecordBatchHeader.Parse(rest);
            if (header.TotalSize > rest.Length)
            {
                throw new RecordFormatException($"partial record batch at byte {position}: {header.TotalSize} bytes declared, {rest.Length} left");
            }

            if (header.Magic != RecordBatchHeader.CurrentMagic)
            {
                throw new RecordFormatException(ErrorCode.InvalidRecord, $"record batch at byte {position} has magic {header.Magic}; only 2 is read");
            }

            var batch = batches.Slice(position, header.TotalSize);
            if (!header.HasValidCrc(batch.Span))
            {
                throw new RecordFormatException($"record batch at byte {position} (base offset {header.BaseOffset}) fails its CRC");
            }

            if (!header.IsControl)
            {
                budget -= AddRecords(batch, header, (int)Math.Clamp(budget, 0, int.MaxValue), records);
            }

            position += header.TotalSize;
        }

        return records;
    }

    /// <summary>
    /// Adds the records of one batch (whole, CRC already checked) to <paramref name="into"/>; returns the bytes its
    /// records section inflated to.
    /// </summary>
    internal static int AddRecords(ReadOnlyMemory<byte> batch, in RecordBatchHeader header, int maxDecompressedBytes, List<LogRecord> into)
    {
        var section = RecordsSection(batch, header, maxDecompressedBytes);
        var span = section.Span;
        int position = 0;
        for (int i = 0; i < header.RecordCount; i++)
        {
            var record = ReadRecord(span, ref position, header);
            into.Add(new LogRecord(
                header.BaseOffset + record.OffsetDelta,
                record.Timestamp,
                OptionalSlice(section, record.KeyStart, record.KeyLength),
                OptionalSlice(section, record.ValueStart, record.ValueLength),
                ReadHeaders(section, record)));
        }

        if (position != span.Length)
        {
            throw new RecordFormatException($"batch at offset {header.BaseOffset} has {span.Length - position} bytes after its {header.RecordCount} records");
        }

        return section.Length;
    }

    /// <summary>The records section of a batch, decompressed when needed (bounded by <paramref name="maxDecompressedBytes"/>).</summary>
    internal static ReadOnlyMemory<byte> RecordsSection(ReadOnlyMemory<byte> batch, in RecordBatchHeader header, int maxDecompressedBytes)
    {
        var raw = batch[RecordBatchHeader.Size..header.TotalSize];
        return header.Compression == CompressionType.None
            ? raw
            : RecordCompression.DecompressToSegment(header.Compression, raw, maxDecompressedBytes);
    }

    /// <summary>
    /// Walks the records of an uncompressed records section without allocating: each must be well formed, their
    /// count must match the header, their offset deltas must run 0, 1, 2…, and with <paramref name="requireKeys"/> each
    /// needs a key. Throws <see cref="RecordFormatException"/> otherwise.
    /// </summary>
    internal static void Validate(ReadOnlySpan<byte> section, in RecordBatchHeader header, bool requireKeys)
    {
        int position = 0;
        for (int i = 0; i < header.RecordCount; i++)
        {
            var record = ReadRecord(section, ref position, header);
            if (record.OffsetDelta != i)
            {
                throw new RecordFormatException(ErrorCode.InvalidRecord, $"record {i} of the batch has offset delta {record.OffsetDelta}");
            }

            if (requireKeys && record.KeyLength < 0)
            {
                throw new RecordFormatException(ErrorCode.InvalidRecord, $"record {i} of the batch has no key, which a compacted log needs");
            }
        }

        if (position != section.Length)
        {
            throw new RecordFormatException($"batch has {section.Length - position} bytes after its {header.RecordCount} records");
        }
    }

    /// <summary>Reads one record's framing at <paramref name="position"/>, checking that it stays inside its declared length.</summary>
    internal static RecordLayout ReadRecord(ReadOnlySpan<byte> section, ref int position, in RecordBatchHeader header)
    {
        int length = Varint.ReadInt32(section, ref position);
        if (length < RecordBytesMin - 1 || length > section.Length - position)
        {
            throw new RecordFormatException($"record length {length} does not fit the {section.Length - position} bytes left");
        }

        int end = position + length;
        var record = section[..end];
        position++; // attributes: unused in v2
        long timestampDelta = Varint.ReadInt64(record, ref position);
        int offsetDelta = Varint.ReadInt32(record, ref position);
        var (keyStart, keyLength) = ReadBytes(record, ref position);
        var (valueStart, valueLength) = ReadBytes(record, ref position);
        int headerCount = Varint.ReadInt32(record, ref position);
        if (headerCount < 0 || headerCount > HeadersPerRecordMax || headerCount > (end - position) / 2)
        {
            throw new RecordFormatException($"record declares {headerCount} headers in {end - position} bytes");
        }

        int headersStart = position;
        for (int h = 0; h < headerCount; h++)
        {
            var (_, headerKeyLength) = ReadBytes(record, ref position);
            if (headerKeyLength < 0)
            {
                throw new RecordFormatException("record header with a null key");
            }

            _ = ReadBytes(record, ref position);
        }

        if (position != end)
        {
            throw new RecordFormatException($"record declares {length} bytes but its fields take {position - (end - length)}");
        }

        long timestamp = header.TimestampType == TimestampType.LogAppendTime ? header.MaxTimestamp : header.BaseTimestamp + timestampDelta;
        return new RecordLayout(timestamp, offsetDelta, keyStart, keyLength, valueStart, valueLength, headersStart, headerCount);
    }

    /// <summary>The field's bytes, or null for length -1 (a bare <c>? null :</c> would turn null into an empty memory).</summary>
    private static ReadOnlyMemory<byte>? OptionalSlice(ReadOnlyMemory<byte> section, int start, int length) =>
        length < 0 ? (ReadOnlyMemory<byte>?)null : section.Slice(start, length);

    private static (int Start, int Length) ReadBytes(ReadOnlySpan<byte> record, ref int position)
    {
        int length = Varint.ReadInt32(record, ref position);
        if (length < -1 || length > record.Length - position)
        {
            throw new RecordFormatException($"field length {length} does not fit the {record.Length - position} bytes left of the record");
        }

        int start = position;
        position += Math.Max(length, 0);
        return (start, length);
    }

    private static RecordHeader[] ReadHeaders(ReadOnlyMemory<byte> section, in RecordLayout record)
    {
        if (record.HeaderCount == 0)
        {
            return NoHeaders;
        }

        var span = section.Span;
        var headers = new RecordHeader[record.HeaderCount];
        int position = record.HeadersStart;
        for (int h = 0; h < headers.Length; h++)
        {
            var (keyStart, keyLength) = ReadBytes(span, ref position);
            var (valueStart, valueLength) = ReadBytes(span, ref position);
            string key;
            try
            {
                key = StrictUtf8.GetString(span.Slice(keyStart, keyLength));
            }
            catch (DecoderFallbackException e)
            {
                throw new RecordFormatException("record header key is not UTF-8", e);
            }

            headers[h] = new RecordHeader(key, OptionalSlice(section, valueStart, valueLength));
        }

        return headers;
    }

    /// <summary>Where one record's fields lie in its records section.</summary>
    internal readonly record struct RecordLayout(
        long Timestamp,
        int OffsetDelta,
        int KeyStart,
        int KeyLength,
        int ValueStart,
        int ValueLength,
        int HeadersStart,
        int HeaderCount);
}
