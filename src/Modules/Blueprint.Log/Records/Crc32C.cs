using System.Buffers.Binary;
using System.Numerics;

namespace Blueprint.Log.Records;

/// <summary>CRC-32C (Castagnoli), the checksum of Kafka's v2 record batches, on the CPU's CRC instruction where there is one.</summary>
internal static class Crc32C
{
    /// <summary>The CRC-32C of <paramref name="data"/> (initial value and final xor 0xFFFFFFFF, as Java's CRC32C).</summary>
    public static uint Compute(ReadOnlySpan<byte> data)
    {
        uint crc = 0xFFFFFFFFu;
        while (data.Length >= sizeof(ulong))
        {
            crc = BitOperations.Crc32C(crc, BinaryPrimitives.ReadUInt64LittleEndian(data));
            data = data[sizeof(ulong)..];
        }

        foreach (byte b in data)
        {
            crc = BitOperations.Crc32C(crc, b);
        }

        return crc ^ 0xFFFFFFFFu;
    }
}
