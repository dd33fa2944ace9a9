// The Kafka wire protocol (https://kafka.apache.org/protocol), primitive types and the flexible encodings of KIP-482
// (compact strings, bytes and arrays; tagged fields). No Kafka *server* codec library exists for .NET — the .NET
// clients wrap librdkafka and keep their codec inside it — so this codec is written here by hand from Apache Kafka's
// message definitions (clients/src/main/resources/common/message/*.json).
using System.Buffers.Binary;
using System.Text;

namespace Blueprint.Log.Kafka.Protocol;

/// <summary>
/// Reads Kafka protocol primitives from a buffer, front to back. A mutable struct: pass it by <c>ref</c>.
/// </summary>
/// <remarks>
/// <para>Every read checks what remains first. A read past the end, a negative length where none is allowed, or a
/// length or element count larger than the bytes left throws <see cref="KafkaProtocolException"/> before anything is
/// allocated, so a hostile length costs nothing.</para>
/// <para>Byte fields (<see cref="ReadBytes()"/> and its kin) return slices of the input, not copies: a produce
/// request's record set is never copied. The slices stay valid only as long as the input buffer does — a caller
/// reading from a pipe must finish with them before it advances the pipe past the frame.</para>
/// </remarks>
public struct KafkaReader
{
    private readonly ReadOnlyMemory<byte> _buffer;
    private int _position;

    /// <summary>Creates a reader at the start of <paramref name="buffer"/>.</summary>
    /// <param name="buffer">The bytes to read, typically one frame's payload.</param>
    public KafkaReader(ReadOnlyMemory<byte> buffer)
    {
        _buffer = buffer;
        _position = 0;
    }

    /// <summary>How many bytes have been read.</summary>
    public readonly int Position => _position;

    /// <summary>How many bytes are left to read.</summary>
    public readonly int Remaining => _buffer.Length - _position;

    /// <summary>The bytes not yet read (a slice of the input).</summary>
    public readonly ReadOnlyMemory<byte> RemainingMemory => _buffer[_position..];

    /// <summary>Reads a signed 8-bit integer.</summary>
    public sbyte ReadInt8() => (sbyte)Take(1)[0];

    /// <summary>Reads a big-endian signed 16-bit integer.</summary>
    public short ReadInt16() => BinaryPrimitives.ReadInt16BigEndian(Take(2));

    /// <summary>Reads a big-endian signed 32-bit integer.</summary>
    public int ReadInt32() => BinaryPrimitives.ReadInt32BigEndian(Take(4));

    /// <summary>Reads a big-endian signed 64-bit integer.</summary>
    public long ReadInt64() => BinaryPrimitives.ReadInt64BigEndian(Take(8));

    /// <summary>Reads a big-endian unsigned 32-bit integer.</summary>
    public uint ReadUInt32() => BinaryPrimitives.ReadUInt32BigEndian(Take(4));

    /// <summary>Reads a boolean: one byte, any non-zero value is true (as Kafka reads it).</summary>
    public bool ReadBoolean() => Take(1)[0] != 0;

    /// <summary>Reads an unsigned LEB128 varint of at most 32 bits (at most five bytes).</summary>
    public uint ReadUnsignedVarInt()
    {
        ReadOnlySpan<byte> span = _buffer.Span;
        uint value = 0;
        for (int shift = 0; shift < 35; shift += 7)
        {
            if (_position >= span.Length)
            {
                throw Truncated("a varint", 1);
            }

            byte b = span[_position++];
            if (shift == 28 && b > 0x0F)
            {
                throw new KafkaProtocolException("A varint does not fit in 32 bits.");
            }

            value |= (uint)(b & 0x7F) << shift;
            if ((b & 0x80) == 0)
            {
                return value;
            }
        }

        throw new KafkaProtocolException("A varint is longer than five bytes.");
    }

    /// <summary>Reads a zig-zag encoded signed varint of at most 32 bits.</summary>
    public int ReadVarInt()
    {
        uint raw = ReadUnsignedVarInt();
        return (int)(raw >> 1) ^ -(int)(raw & 1);
    }

    /// <summary>Reads a zig-zag encoded signed varint of at most 64 bits (at most ten bytes).</summary>
    public long ReadVarLong()
    {
        ReadOnlySpan<byte> span = _buffer.Span;
        ulong raw = 0;
        for (int shift = 0; shift < 70; shift += 7)
        {
            if (_position >= span.Length)
            {
                throw Truncated("a varlong", 1);
            }

            byte b = span[_position++];
            if (shift == 63 && b > 0x01)
            {
                throw new KafkaProtocolException("A varlong does not fit in 64 bits.");
            }

            raw |= (ulong)(b & 0x7F) << shift;
            if ((b & 0x80) == 0)
            {
                return (long)(raw >> 1) ^ -(long)(raw & 1);
            }
        }

        throw new KafkaProtocolException("A varlong is longer than ten bytes.");
    }

    /// <summary>Reads a non-null string with an int16 length.</summary>
    public string ReadString() => ReadNullableString() ?? throw NullNotAllowed("string");

    /// <summary>Reads a string with an int16 length, -1 meaning null.</summary>
    public string? ReadNullableString()
    {
        short length = ReadInt16();
        if (length == -1)
        {
            return null;
        }

        if (length < 0)
        {
            throw new KafkaProtocolException($"A string has length {length}.");
        }

        return Encoding.UTF8.GetString(Take(length, "a string"));
    }

    /// <summary>Reads a non-null compact string (unsigned varint length + 1).</summary>
    public string ReadCompactString() => ReadCompactNullableString() ?? throw NullNotAllowed("compact string");

    /// <summary>Reads a compact string (unsigned varint length + 1), 0 meaning null.</summary>
    public string? ReadCompactNullableString()
    {
        int length = ReadCompactLength("compact string");
        return length < 0 ? null : Encoding.UTF8.GetString(Take(length, "a compact string"));
    }

    /// <summary>Reads a non-null string, compact when <paramref name="compact"/> (a flexible version).</summary>
    /// <param name="compact">Whether the message version is flexible.</param>
    public string ReadString(bool compact) => compact ? ReadCompactString() : ReadString();

    /// <summary>Reads a nullable string, compact when <paramref name="compact"/> (a flexible version).</summary>
    /// <param name="compact">Whether the message version is flexible.</param>
    public string? ReadNullableString(bool compact) => compact ? ReadCompactNullableString() : ReadNullableString();

    /// <summary>Reads non-null bytes with an int32 length, as a slice of the input.</summary>
    public ReadOnlyMemory<byte> ReadBytes() => ReadNullableBytes() ?? throw NullNotAllowed("bytes field");

    /// <summary>Reads bytes with an int32 length, -1 meaning null, as a slice of the input.</summary>
    public ReadOnlyMemory<byte>? ReadNullableBytes()
    {
        int length = ReadInt32();
        if (length == -1)
        {
            return null;
        }

        if (length < 0)
        {
            throw new KafkaProtocolException($"A bytes field has length {length}.");
        }

        return TakeMemory(length, "a bytes field");
    }

    /// <summary>Reads non-null compact bytes (unsigned varint length + 1), as a slice of the input.</summary>
    public ReadOnlyMemory<byte> ReadCompactBytes() => ReadCompactNullableBytes() ?? throw NullNotAllowed("compact bytes field");

    /// <summary>Reads compact bytes (unsigned varint length + 1), 0 meaning null, as a slice of the input.</summary>
    public ReadOnlyMemory<byte>? ReadCompactNullableBytes()
    {
        int length = ReadCompactLength("compact bytes field");

        // Not a conditional expression: null would convert through byte[] to an empty ReadOnlyMemory, not to null.
        if (length < 0)
        {
            return null;
        }

        return TakeMemory(length, "a compact bytes field");
    }

    /// <summary>Reads non-null bytes, compact when <paramref name="compact"/> (a flexible version).</summary>
    /// <param name="compact">Whether the message version is flexible.</param>
    public ReadOnlyMemory<byte> ReadBytes(bool compact) => compact ? ReadCompactBytes() : ReadBytes();

    /// <summary>Reads nullable bytes, compact when <paramref name="compact"/> (a flexible version).</summary>
    /// <param name="compact">Whether the message version is flexible.</param>
    public ReadOnlyMemory<byte>? ReadNullableBytes(bool compact) => compact ? ReadCompactNullableBytes() : ReadNullableBytes();

    /// <summary>
    /// Reads an array's element count (int32), -1 meaning null. A count larger than the bytes left is rejected, since
    /// every element takes at least one byte; so the count can size a list without trusting the peer.
    /// </summary>
    public int ReadArrayLength()
    {
        int count = ReadInt32();
        if (count == -1)
        {
            return -1;
        }

        if (count < 0)
        {
            throw new KafkaProtocolException($"An array has {count} elements.");
        }

        return CheckCount(count);
    }

    /// <summary>Reads a compact array's element count (unsigned varint count + 1), -1 meaning null; checked as <see cref="ReadArrayLength()"/>.</summary>
    public int ReadCompactArrayLength()
    {
        int count = ReadCompactLength("compact array");
        return count < 0 ? -1 : CheckCount(count);
    }

    /// <summary>Reads an array's element count, compact when <paramref name="compact"/>; -1 means null.</summary>
    /// <param name="compact">Whether the message version is flexible.</param>
    public int ReadArrayLength(bool compact) => compact ? ReadCompactArrayLength() : ReadArrayLength();

    /// <summary>Reads a non-null array's element count, compact when <paramref name="compact"/>.</summary>
    /// <param name="compact">Whether the message version is flexible.</param>
    public int ReadNonNullArrayLength(bool compact)
    {
        int count = ReadArrayLength(compact);
        return count >= 0 ? count : throw NullNotAllowed("array");
    }

    /// <summary>Reads the number of tagged fields that follow (a flexible version's tag buffer).</summary>
    public int ReadTaggedFieldCount()
    {
        uint count = ReadUnsignedVarInt();
        if (count > (uint)Remaining)
        {
            throw new KafkaProtocolException($"{count} tagged fields announced with {Remaining} bytes left.");
        }

        return (int)count;
    }

    /// <summary>Reads one tagged field: its tag and its data (a slice of the input, to parse or ignore).</summary>
    /// <param name="tag">The field's tag.</param>
    public ReadOnlyMemory<byte> ReadTaggedField(out uint tag)
    {
        tag = ReadUnsignedVarInt();
        uint size = ReadUnsignedVarInt();
        if (size > (uint)Remaining)
        {
            throw Truncated("a tagged field", size);
        }

        return TakeMemory((int)size, "a tagged field");
    }

    /// <summary>Reads a tag buffer and ignores every field in it (the fields this codec does not know).</summary>
    public void SkipTaggedFields()
    {
        int count = ReadTaggedFieldCount();
        for (int i = 0; i < count; i++)
        {
            _ = ReadTaggedField(out _);
        }
    }

    /// <summary>Skips <paramref name="count"/> bytes.</summary>
    /// <param name="count">How many bytes to skip.</param>
    public void Skip(int count)
    {
        if (count < 0)
        {
            throw new KafkaProtocolException($"Cannot skip {count} bytes.");
        }

        _ = Take(count, "skipped bytes");
    }

    private int ReadCompactLength(string what)
    {
        uint raw = ReadUnsignedVarInt();
        if (raw == 0)
        {
            return -1;
        }

        uint length = raw - 1;
        if (length > (uint)Remaining)
        {
            throw Truncated($"a {what}", length);
        }

        return (int)length;
    }

    private readonly int CheckCount(int count)
    {
        if (count > Remaining)
        {
            throw new KafkaProtocolException($"An array announces {count} elements with only {Remaining} bytes left.");
        }

        return count;
    }

    private ReadOnlySpan<byte> Take(int count, string what = "a fixed-size field")
    {
        if ((uint)count > (uint)Remaining)
        {
            throw Truncated(what, (uint)count);
        }

        ReadOnlySpan<byte> span = _buffer.Span.Slice(_position, count);
        _position += count;
        return span;
    }

    private ReadOnlyMemory<byte> TakeMemory(int count, string what)
    {
        if ((uint)count > (uint)Remaining)
        {
            throw Truncated(what, (uint)count);
        }

        ReadOnlyMemory<byte> memory = _buffer.Slice(_position, count);
        _position += count;
        return memory;
    }

    private readonly KafkaProtocolException Truncated(string what, uint needed) =>
        new($"Truncated input: {what} needs {needed} bytes at offset {_position}, {Remaining} left.");

    private static KafkaProtocolException NullNotAllowed(string what) => new($"A null {what} where the protocol requires a value.");
}
