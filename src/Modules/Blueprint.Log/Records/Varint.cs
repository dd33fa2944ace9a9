namespace Blueprint.Log.Records;

/// <summary>
/// Kafka's variable-length integers (protobuf style base-128, zigzag encoded): <c>varint</c> for int32 (at most 5
/// bytes) and <c>varlong</c> for int64 (at most 10). Reads are bounds-checked and throw
/// <see cref="RecordFormatException"/> on truncated or overlong input.
/// </summary>
internal static class Varint
{
    /// <summary>Reads a zigzag varint at <paramref name="position"/> and advances it.</summary>
    public static int ReadInt32(ReadOnlySpan<byte> source, ref int position)
    {
        uint raw = 0;
        for (int shift = 0; shift < 35; shift += 7)
        {
            if (position >= source.Length)
            {
                throw new RecordFormatException("truncated varint");
            }

            byte b = source[position++];
            raw |= (uint)(b & 0x7F) << shift;
            if ((b & 0x80) == 0)
            {
                return (int)(raw >> 1) ^ -(int)(raw & 1);
            }
        }

        throw new RecordFormatException("varint longer than 5 bytes");
    }

    /// <summary>Reads a zigzag varlong at <paramref name="position"/> and advances it.</summary>
    public static long ReadInt64(ReadOnlySpan<byte> source, ref int position)
    {
        ulong raw = 0;
        for (int shift = 0; shift < 70; shift += 7)
        {
            if (position >= source.Length)
            {
                throw new RecordFormatException("truncated varlong");
            }

            byte b = source[position++];
            raw |= (ulong)(b & 0x7F) << shift;
            if ((b & 0x80) == 0)
            {
                return (long)(raw >> 1) ^ -(long)(raw & 1);
            }
        }

        throw new RecordFormatException("varlong longer than 10 bytes");
    }

    /// <summary>The bytes of <paramref name="value"/> as a zigzag varint.</summary>
    public static int SizeOf(int value) => SizeOfRaw((uint)((value << 1) ^ (value >> 31)));

    /// <summary>The bytes of <paramref name="value"/> as a zigzag varlong.</summary>
    public static int SizeOf(long value) => SizeOfRaw((ulong)((value << 1) ^ (value >> 63)));

    /// <summary>Writes <paramref name="value"/> as a zigzag varint; returns the bytes written.</summary>
    public static int Write(Span<byte> destination, int value) => WriteRaw(destination, (uint)((value << 1) ^ (value >> 31)));

    /// <summary>Writes <paramref name="value"/> as a zigzag varlong; returns the bytes written.</summary>
    public static int Write(Span<byte> destination, long value) => WriteRaw(destination, (ulong)((value << 1) ^ (value >> 63)));

    private static int SizeOfRaw(ulong raw)
    {
        int size = 1;
        while (raw >= 0x80)
        {
            raw >>= 7;
            size++;
        }

        return size;
    }

    private static int WriteRaw(Span<byte> destination, ulong raw)
    {
        int i = 0;
        while (raw >= 0x80)
        {
            destination[i++] = (byte)(raw | 0x80);
            raw >>= 7;
        }

        destination[i++] = (byte)raw;
        return i;
    }
}
