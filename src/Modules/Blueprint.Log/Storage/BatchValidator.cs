// Written by hand: the partition log is the subject of this module and no library provides a Kafka log.
// Checks after Kafka's LogValidator for magic 2: every batch whole, CRC-32C valid, within max.message.bytes, with
// consistent counts and well-formed records (decompressed within a bound when compressed).
using Blueprint.Log.Kafka;
using Blueprint.Log.Records;

namespace Blueprint.Log.Storage;

/// <summary>A batch of an append that passed validation: where it is in the input and its header.</summary>
internal readonly record struct ValidatedBatch(int Position, RecordBatchHeader Header);

/// <summary>Validates the batches of one append (a producer's or a replica's) before anything is written; the first problem rejects them all.</summary>
internal static class BatchValidator
{
    /// <summary>
    /// Checks each batch of <paramref name="input"/> and adds it to <paramref name="into"/>; throws
    /// <see cref="RecordRejectedException"/> with the Kafka error code on the first invalid one.
    /// </summary>
    public static void Validate(ReadOnlyMemory<byte> input, PartitionLogConfig config, List<ValidatedBatch> into)
    {
        if (input.IsEmpty)
        {
            throw new RecordRejectedException(ErrorCode.InvalidRecord, "no record batch to append");
        }

        int position = 0;
        while (position < input.Length)
        {
            var rest = input.Span[position..];
            if (rest.Length < RecordBatchHeader.Size)
            {
                throw new RecordRejectedException(ErrorCode.CorruptMessage, $"partial record batch at byte {position}: {rest.Length} bytes, less than a header");
            }

            var header = ParseHeader(rest, config, position);
            if (header.TotalSize > rest.Length)
            {
                throw new RecordRejectedException(ErrorCode.CorruptMessage, $"partial record batch at byte {position}: {header.TotalSize} bytes declared, {rest.Length} given");
            }

            var batch = input.Slice(position, header.TotalSize);
            CheckBatch(batch, header, config, position);
            into.Add(new ValidatedBatch(position, header));
            position += header.TotalSize;
        }
    }

    /// <summary>
    /// Checks the batches of a replicated append (copied from the leader with offsets and epochs set) and adds each whole
    /// one to <paramref name="into"/>; returns the bytes they take. A trailing partial batch — a fetch response may end
    /// inside one — is left out, not rejected. Only the framing is checked (length, size limit, magic, CRC-32C, offset
    /// delta), not the records: the leader checked those, and a compacted batch holds fewer records than its offsets span.
    /// </summary>
    public static int ValidateReplicated(ReadOnlyMemory<byte> input, PartitionLogConfig config, List<ValidatedBatch> into)
    {
        int position = 0;
        while (input.Length - position >= RecordBatchHeader.Size)
        {
            var rest = input.Span[position..];
            var header = ParseHeader(rest, config, position);
            if (header.TotalSize > rest.Length)
            {
                break;
            }

            CheckFraming(rest[..header.TotalSize], header, position);
            if (header.LastOffsetDelta < 0)
            {
                throw new RecordRejectedException(ErrorCode.CorruptMessage, $"record batch at byte {position} has last offset delta {header.LastOffsetDelta}");
            }

            into.Add(new ValidatedBatch(position, header));
            position += header.TotalSize;
        }

        return position;
    }

    /// <summary>The header at the front of <paramref name="rest"/>, with a possible length within the size limit.</summary>
    private static RecordBatchHeader ParseHeader(ReadOnlySpan<byte> rest, PartitionLogConfig config, int position)
    {
        if (!RecordBatchHeader.TryParse(rest, out var header))
        {
            throw new RecordRejectedException(ErrorCode.CorruptMessage, $"record batch at byte {position} declares an impossible length");
        }

        if (header.TotalSize > config.MaxBatchBytes)
        {
            throw new RecordRejectedException(ErrorCode.MessageTooLarge, $"record batch at byte {position} is {header.TotalSize} bytes, more than the {config.MaxBatchBytes} allowed");
        }

        return header;
    }

    /// <summary>Magic 2 and an intact CRC-32C: what a batch copied from anywhere must pass.</summary>
    private static void CheckFraming(ReadOnlySpan<byte> batch, in RecordBatchHeader header, int position)
    {
        if (header.Magic != RecordBatchHeader.CurrentMagic)
        {
            throw new RecordRejectedException(ErrorCode.InvalidRecord, $"record batch at byte {position} has magic {header.Magic}; this log takes only magic 2");
        }

        if (!header.HasValidCrc(batch))
        {
            throw new RecordRejectedException(ErrorCode.CorruptMessage, $"record batch at byte {position} fails its CRC-32C check");
        }
    }

    private static void CheckBatch(ReadOnlyMemory<byte> batch, in RecordBatchHeader header, PartitionLogConfig config, int position)
    {
        CheckFraming(batch.Span, header, position);
        if ((int)header.Compression > (int)CompressionType.Zstd)
        {
            throw new RecordRejectedException(ErrorCode.InvalidRecord, $"record batch at byte {position} names unknown compression {(int)header.Compression}");
        }

        if (header.RecordCount < 1 || header.LastOffsetDelta != header.RecordCount - 1)
        {
            throw new RecordRejectedException(ErrorCode.InvalidRecord, $"record batch at byte {position} has {header.RecordCount} records and last offset delta {header.LastOffsetDelta}");
        }

        if (header.HasProducerId && !header.IsControl && header.BaseSequence < 0)
        {
            throw new RecordRejectedException(ErrorCode.InvalidRecord, $"record batch at byte {position} has producer id {header.ProducerId} but no sequence number");
        }

        if (header.IsTransactional && !header.HasProducerId)
        {
            throw new RecordRejectedException(ErrorCode.InvalidRecord, $"transactional record batch at byte {position} has no producer id");
        }

        try
        {
            var section = RecordBatchReader.RecordsSection(batch, header, config.MaxDecompressedBatchBytes);
            RecordBatchReader.Validate(section.Span, header, requireKeys: config.Compact && !header.IsControl);
        }
        catch (RecordFormatException e)
        {
            throw new RecordRejectedException(e.Code, $"record batch at byte {position}: {e.Message}");
        }
    }
}
