using System.Buffers;
using System.Buffers.Binary;
using System.Text;

namespace Blueprint.Log.Kafka.Protocol;

/// <summary>
/// Writes Kafka protocol primitives to an <see cref="IBufferWriter{T}"/>. A mutable struct: pass it by <c>ref</c>.
/// </summary>
/// <remarks>
/// A writer made by <see cref="CreateMeasuring"/> has no output and only counts: a frame's size prefix is measured
/// with it first, so a fetch response's record sets go to the output once and are never staged in a second buffer.
/// Values the protocol cannot carry (a string longer than its length prefix allows, a null where the version has no
/// null) are programmer errors and throw <see cref="ArgumentException"/>.
/// </remarks>
public struct KafkaWriter
{
    private readonly IBufferWriter<byte>? _output;
    private long _bytesWritten;

    /// <summary>Creates a writer that appends to <paramref name="output"/>.</summary>
    /// <param name="output">Where the bytes go.</param>
    public KafkaWriter(IBufferWriter<byte> output)
    {
        ArgumentNullException.ThrowIfNull(output);
        _output = output;
        _bytesWritten = 0;
    }

    /// <summary>How many bytes this writer has written (or, measuring, would have written).</summary>
    public readonly long BytesWritten => _bytesWritten;

    /// <summary>Whether this writer only counts bytes (made by <see cref="CreateMeasuring"/>).</summary>
    public readonly bool IsMeasuring => _output is null;

    /// <summary>Creates a writer with no output that only counts the bytes it is given.</summary>
    public static KafkaWriter CreateMeasuring() => default;

    /// <summary>Writes a signed 8-bit integer.</summary>
    /// <param name="value">The value.</param>
    public void WriteInt8(sbyte value)
    {
        if (_output is not null)
        {
            _output.GetSpan(1)[0] = (byte)value;
        }

        Advance(1);
    }

    /// <summary>Writes a big-endian signed 16-bit integer.</summary>
    /// <param name="value">The value.</param>
    public void WriteInt16(short value)
    {
        if (_output is not null)
        {
            BinaryPrimitives.WriteInt16BigEndian(_output.GetSpan(2), value);
        }

        Advance(2);
    }

    /// <summary>Writes a big-endian signed 32-bit integer.</summary>
    /// <param name="value">The value.</param>
    public void WriteInt32(int value)
    {
        if (_output is not null)
        {
            BinaryPrimitives.WriteInt32BigEndian(_output.GetSpan(4), value);
        }

        Advance(4);
    }

    /// <summary>Writes a big-endian signed 64-bit integer.</summary>
    /// <param name="value">The value.</param>
    public void WriteInt64(long value)
    {
        if (_output is not null)
        {
            BinaryPrimitives.WriteInt64BigEndian(_output.GetSpan(8), value);
        }

        Advance(8);
    }

    /// <summary>Writes a big-endian unsigned 32-bit integer.</summary>
    /// <param name="value">The value.</param>
    public void WriteUInt32(uint value)
    {
        if (_output is not null)
        {
            BinaryPrimitives.WriteUInt32BigEndian(_output.GetSpan(4), value);
        }

        Advance(4);
    }

    /// <summary>Writes a boolean as one byte, 1 or 0.</summary>
    /// <param name="value">The value.</param>
    public void WriteBoolean(bool value) => WriteInt8(value ? (sbyte)1 : (sbyte)0);

    /// <summary>Writes an unsigned LEB128 varint (one to five bytes).</summary>
    /// <param name="value">The value.</param>
    public void WriteUnsignedVarInt(uint value)
    {
        int size = SizeOfUnsignedVarInt(value);
        if (_output is not null)
        {
            Span<byte> span = _output.GetSpan(size);
            int i = 0;
            while (value >= 0x80)
            {
                span[i++] = (byte)(value | 0x80);
                value >>= 7;
            }

            span[i] = (byte)value;
        }

        Advance(size);
    }

    /// <summary>Writes a zig-zag encoded signed varint.</summary>
    /// <param name="value">The value.</param>
    public void WriteVarInt(int value) => WriteUnsignedVarInt((uint)((value << 1) ^ (value >> 31)));

    /// <summary>Writes a zig-zag encoded signed varlong (one to ten bytes).</summary>
    /// <param name="value">The value.</param>
    public void WriteVarLong(long value)
    {
        ulong raw = (ulong)((value << 1) ^ (value >> 63));
        int size = 1;
        for (ulong v = raw; v >= 0x80; v >>= 7)
        {
            size++;
        }

        if (_output is not null)
        {
            Span<byte> span = _output.GetSpan(size);
            int i = 0;
            while (raw >= 0x80)
            {
                span[i++] = (byte)(raw | 0x80);
                raw >>= 7;
            }

            span[i] = (byte)raw;
        }

        Advance(size);
    }

    /// <summary>Writes a non-null string with an int16 length.</summary>
    /// <param name="value">The string; at most 32767 UTF-8 bytes.</param>
    public void WriteString(string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        WriteNullableString(value);
    }

    /// <summary>Writes a string with an int16 length, null as -1.</summary>
    /// <param name="value">The string, or null; at most 32767 UTF-8 bytes.</param>
    public void WriteNullableString(string? value)
    {
        if (value is null)
        {
            WriteInt16(-1);
            return;
        }

        int length = Encoding.UTF8.GetByteCount(value);
        if (length > short.MaxValue)
        {
            throw new ArgumentException($"A string of {length} UTF-8 bytes does not fit an int16 length.", nameof(value));
        }

        WriteInt16((short)length);
        WriteUtf8(value, length);
    }

    /// <summary>Writes a non-null compact string (unsigned varint length + 1).</summary>
    /// <param name="value">The string.</param>
    public void WriteCompactString(string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        WriteCompactNullableString(value);
    }

    /// <summary>Writes a compact string (unsigned varint length + 1), null as 0.</summary>
    /// <param name="value">The string, or null.</param>
    public void WriteCompactNullableString(string? value)
    {
        if (value is null)
        {
            WriteUnsignedVarInt(0);
            return;
        }

        int length = Encoding.UTF8.GetByteCount(value);
        WriteUnsignedVarInt((uint)length + 1);
        WriteUtf8(value, length);
    }

    /// <summary>Writes a non-null string, compact when <paramref name="compact"/> (a flexible version).</summary>
    /// <param name="value">The string.</param>
    /// <param name="compact">Whether the message version is flexible.</param>
    public void WriteString(string value, bool compact)
    {
        if (compact)
        {
            WriteCompactString(value);
        }
        else
        {
            WriteString(value);
        }
    }

    /// <summary>Writes a nullable string, compact when <paramref name="compact"/> (a flexible version).</summary>
    /// <param name="value">The string, or null.</param>
    /// <param name="compact">Whether the message version is flexible.</param>
    public void WriteNullableString(string? value, bool compact)
    {
        if (compact)
        {
            WriteCompactNullableString(value);
        }
        else
        {
            WriteNullableString(value);
        }
    }

    /// <summary>Writes bytes with an int32 length.</summary>
    /// <param name="value">The bytes.</param>
    public void WriteBytes(ReadOnlySpan<byte> value)
    {
        WriteInt32(value.Length);
        WriteRaw(value);
    }

    /// <summary>Writes bytes with an int32 length, null as -1.</summary>
    /// <param name="value">The bytes, or null.</param>
    public void WriteNullableBytes(ReadOnlyMemory<byte>? value)
    {
        if (value is { } bytes)
        {
            WriteBytes(bytes.Span);
        }
        else
        {
            WriteInt32(-1);
        }
    }

    /// <summary>Writes compact bytes (unsigned varint length + 1).</summary>
    /// <param name="value">The bytes.</param>
    public void WriteCompactBytes(ReadOnlySpan<byte> value)
    {
        WriteUnsignedVarInt((uint)value.Length + 1);
        WriteRaw(value);
    }

    /// <summary>Writes compact bytes (unsigned varint length + 1), null as 0.</summary>
    /// <param name="value">The bytes, or null.</param>
    public void WriteCompactNullableBytes(ReadOnlyMemory<byte>? value)
    {
        if (value is { } bytes)
        {
            WriteCompactBytes(bytes.Span);
        }
        else
        {
            WriteUnsignedVarInt(0);
        }
    }

    /// <summary>Writes non-null bytes, compact when <paramref name="compact"/> (a flexible version).</summary>
    /// <param name="value">The bytes.</param>
    /// <param name="compact">Whether the message version is flexible.</param>
    public void WriteBytes(ReadOnlySpan<byte> value, bool compact)
    {
        if (compact)
        {
            WriteCompactBytes(value);
        }
        else
        {
            WriteBytes(value);
        }
    }

    /// <summary>Writes nullable bytes, compact when <paramref name="compact"/> (a flexible version).</summary>
    /// <param name="value">The bytes, or null.</param>
    /// <param name="compact">Whether the message version is flexible.</param>
    public void WriteNullableBytes(ReadOnlyMemory<byte>? value, bool compact)
    {
        if (compact)
        {
            WriteCompactNullableBytes(value);
        }
        else
        {
            WriteNullableBytes(value);
        }
    }

    /// <summary>Writes an array's element count as int32; -1 writes a null array.</summary>
    /// <param name="count">The element count, or -1 for null.</param>
    public void WriteArrayLength(int count)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(count, -1);
        WriteInt32(count);
    }

    /// <summary>Writes a compact array's element count (unsigned varint count + 1); -1 writes a null array.</summary>
    /// <param name="count">The element count, or -1 for null.</param>
    public void WriteCompactArrayLength(int count)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(count, -1);
        WriteUnsignedVarInt((uint)(count + 1));
    }

    /// <summary>Writes an array's element count, compact when <paramref name="compact"/>; -1 writes a null array.</summary>
    /// <param name="count">The element count, or -1 for null.</param>
    /// <param name="compact">Whether the message version is flexible.</param>
    public void WriteArrayLength(int count, bool compact)
    {
        if (compact)
        {
            WriteCompactArrayLength(count);
        }
        else
        {
            WriteArrayLength(count);
        }
    }

    /// <summary>Writes an empty tag buffer (no tagged fields), as every flexible structure ends.</summary>
    public void WriteEmptyTaggedFields() => WriteUnsignedVarInt(0);

    /// <summary>Writes the header of one tagged field: its tag and the size of the data that must follow.</summary>
    /// <param name="tag">The field's tag.</param>
    /// <param name="sizeBytes">The size of the field's data, which the caller writes next.</param>
    public void WriteTaggedFieldHeader(uint tag, int sizeBytes)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(sizeBytes);
        WriteUnsignedVarInt(tag);
        WriteUnsignedVarInt((uint)sizeBytes);
    }

    /// <summary>Writes bytes as they are, with no length.</summary>
    /// <param name="value">The bytes.</param>
    public void WriteRaw(ReadOnlySpan<byte> value)
    {
        if (_output is not null)
        {
            _output.Write(value);
        }

        _bytesWritten += value.Length;
    }

    /// <summary>How many bytes the unsigned varint encoding of <paramref name="value"/> takes.</summary>
    /// <param name="value">The value.</param>
    public static int SizeOfUnsignedVarInt(uint value)
    {
        int size = 1;
        while (value >= 0x80)
        {
            value >>= 7;
            size++;
        }

        return size;
    }

    private void WriteUtf8(string value, int length)
    {
        if (_output is not null && length > 0)
        {
            int written = Encoding.UTF8.GetBytes(value, _output.GetSpan(length));
            _output.Advance(written);
        }

        _bytesWritten += length;
    }

    private void Advance(int count)
    {
        _output?.Advance(count);
        _bytesWritten += count;
    }
}
