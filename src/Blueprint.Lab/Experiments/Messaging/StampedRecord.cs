using System.Buffers.Binary;
using System.Diagnostics;

namespace Blueprint.Lab.Experiments.Messaging;

/// <summary>
/// The record value the messaging experiments send: when it was sent (a <see cref="Stopwatch"/> timestamp: producer and
/// consumer share the process), its sequence number and a payload value, padded to <see cref="Bytes"/>.
/// </summary>
internal static class StampedRecord
{
    /// <summary>The size of every record value.</summary>
    public const int Bytes = 100;

    /// <summary>The sequence number of a warm-up record, which measurements skip.</summary>
    public const long WarmUp = -1;

    /// <summary>Encodes a record stamped now.</summary>
    public static byte[] Create(long sequence, int value)
    {
        byte[] bytes = new byte[Bytes];
        BinaryPrimitives.WriteInt64LittleEndian(bytes, Stopwatch.GetTimestamp());
        BinaryPrimitives.WriteInt64LittleEndian(bytes.AsSpan(8), sequence);
        BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(16), value);
        return bytes;
    }

    /// <summary>The sequence number.</summary>
    public static long Sequence(ReadOnlySpan<byte> record) => BinaryPrimitives.ReadInt64LittleEndian(record[8..]);

    /// <summary>The payload value.</summary>
    public static int Value(ReadOnlySpan<byte> record) => BinaryPrimitives.ReadInt32LittleEndian(record[16..]);

    /// <summary>Milliseconds from the record's stamp to now.</summary>
    public static double AgeMs(ReadOnlySpan<byte> record) => AgeMs(record, Stopwatch.GetTimestamp());

    /// <summary>Milliseconds from the record's stamp to <paramref name="now"/> (a <see cref="Stopwatch"/> timestamp).</summary>
    public static double AgeMs(ReadOnlySpan<byte> record, long now) =>
        Stopwatch.GetElapsedTime(BinaryPrimitives.ReadInt64LittleEndian(record), now).TotalMilliseconds;
}
