using System.Buffers.Binary;
using Blueprint.Log.Records;

namespace Blueprint.Log.Storage;

/// <summary>
/// The producer-state snapshot file <c>{offset:D20}.snapshot</c>: the state of every idempotent producer after all
/// batches below that offset. Written at each segment roll and at close; on open, the newest snapshot at or below the
/// log end is loaded and the batches from its offset on are replayed. Layout (big-endian):
/// <c>version i16, crc32c u32 of the rest, producerCount i32</c>, then per producer
/// <c>producerId i64, epoch i16, lastOffset i64, batchCount i32</c> and per batch
/// <c>firstSequence i32, lastSequence i32, firstOffset i64, lastOffset i64</c>.
/// </summary>
internal static class ProducerSnapshot
{
    private const short Version = 1;
    private const int HeaderBytes = 2 + 4 + 4;
    private const int ProducerBytes = 8 + 2 + 8 + 4;
    private const int BatchBytes = 4 + 4 + 8 + 8;

    public static byte[] Encode(ProducerStateManager state)
    {
        long length = HeaderBytes;
        foreach (var entry in state.Producers.Values)
        {
            length += ProducerBytes + ((long)entry.Batches.Count * BatchBytes);
        }

        var bytes = new byte[length];
        var span = bytes.AsSpan();
        BinaryPrimitives.WriteInt16BigEndian(span, Version);
        BinaryPrimitives.WriteInt32BigEndian(span[6..], state.Count);
        int position = HeaderBytes;
        foreach (var (producerId, entry) in state.Producers)
        {
            BinaryPrimitives.WriteInt64BigEndian(span[position..], producerId);
            BinaryPrimitives.WriteInt16BigEndian(span[(position + 8)..], entry.Epoch);
            BinaryPrimitives.WriteInt64BigEndian(span[(position + 10)..], entry.LastOffset);
            BinaryPrimitives.WriteInt32BigEndian(span[(position + 18)..], entry.Batches.Count);
            position += ProducerBytes;
            foreach (var batch in entry.Batches)
            {
                BinaryPrimitives.WriteInt32BigEndian(span[position..], batch.FirstSequence);
                BinaryPrimitives.WriteInt32BigEndian(span[(position + 4)..], batch.LastSequence);
                BinaryPrimitives.WriteInt64BigEndian(span[(position + 8)..], batch.FirstOffset);
                BinaryPrimitives.WriteInt64BigEndian(span[(position + 16)..], batch.LastOffset);
                position += BatchBytes;
            }
        }

        BinaryPrimitives.WriteUInt32BigEndian(span[2..], Crc32C.Compute(span[6..]));
        return bytes;
    }

    /// <summary>Loads a snapshot into <paramref name="state"/> (cleared first); false, with the state left empty, when the file is damaged.</summary>
    public static bool TryDecode(ReadOnlySpan<byte> bytes, ProducerStateManager state)
    {
        state.Clear();
        if (bytes.Length < HeaderBytes || BinaryPrimitives.ReadInt16BigEndian(bytes) != Version
            || BinaryPrimitives.ReadUInt32BigEndian(bytes[2..]) != Crc32C.Compute(bytes[6..]))
        {
            return false;
        }

        int count = BinaryPrimitives.ReadInt32BigEndian(bytes[6..]);
        int position = HeaderBytes;
        var batches = new List<BatchMetadata>(ProducerEntry.BatchesMax);
        for (int i = 0; i < count; i++)
        {
            if (bytes.Length - position < ProducerBytes)
            {
                state.Clear();
                return false;
            }

            long producerId = BinaryPrimitives.ReadInt64BigEndian(bytes[position..]);
            short epoch = BinaryPrimitives.ReadInt16BigEndian(bytes[(position + 8)..]);
            long lastOffset = BinaryPrimitives.ReadInt64BigEndian(bytes[(position + 10)..]);
            int batchCount = BinaryPrimitives.ReadInt32BigEndian(bytes[(position + 18)..]);
            position += ProducerBytes;
            if (batchCount < 0 || batchCount > ProducerEntry.BatchesMax || bytes.Length - position < batchCount * BatchBytes)
            {
                state.Clear();
                return false;
            }

            batches.Clear();
            for (int b = 0; b < batchCount; b++)
            {
                batches.Add(new BatchMetadata(
                    BinaryPrimitives.ReadInt32BigEndian(bytes[position..]),
                    BinaryPrimitives.ReadInt32BigEndian(bytes[(position + 4)..]),
                    BinaryPrimitives.ReadInt64BigEndian(bytes[(position + 8)..]),
                    BinaryPrimitives.ReadInt64BigEndian(bytes[(position + 16)..])));
                position += BatchBytes;
            }

            var entry = new ProducerEntry(epoch);
            entry.Restore(lastOffset, batches);
            state.Restore(producerId, entry);
        }

        return true;
    }

    /// <summary>The snapshot files of <paramref name="directory"/>, by offset.</summary>
    public static List<long> List(string directory)
    {
        var offsets = new List<long>();
        foreach (string path in Directory.EnumerateFiles(directory, "*" + SegmentFiles.SnapshotExtension))
        {
            if (SegmentFiles.TryParse(Path.GetFileName(path), SegmentFiles.SnapshotExtension, out long offset))
            {
                offsets.Add(offset);
            }
        }

        offsets.Sort();
        return offsets;
    }
}
