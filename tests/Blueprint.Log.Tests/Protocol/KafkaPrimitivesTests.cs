using System.Buffers;
using Blueprint.Log.Kafka.Protocol;
using CsCheck;

namespace Blueprint.Log.Tests.Protocol;

/// <summary>The reader and writer primitives against encodings worked out by hand from the protocol guide.</summary>
public sealed class KafkaPrimitivesTests
{
    private delegate void WriteAction(ref KafkaWriter writer);

    [Theory]
    [InlineData(0u, new byte[] { 0x00 })]
    [InlineData(1u, new byte[] { 0x01 })]
    [InlineData(127u, new byte[] { 0x7F })]
    [InlineData(128u, new byte[] { 0x80, 0x01 })]
    [InlineData(300u, new byte[] { 0xAC, 0x02 })]
    [InlineData(uint.MaxValue, new byte[] { 0xFF, 0xFF, 0xFF, 0xFF, 0x0F })]
    public void UnsignedVarInt_KnownValue_HasKnownEncoding(uint value, byte[] encoding)
    {
        Assert.Equal(encoding, Write((ref KafkaWriter w) => w.WriteUnsignedVarInt(value)));
        var reader = new KafkaReader(encoding);
        Assert.Equal(value, reader.ReadUnsignedVarInt());
        Assert.Equal(0, reader.Remaining);
        Assert.Equal(encoding.Length, KafkaWriter.SizeOfUnsignedVarInt(value));
    }

    [Theory]
    [InlineData(0, new byte[] { 0x00 })]
    [InlineData(-1, new byte[] { 0x01 })]
    [InlineData(1, new byte[] { 0x02 })]
    [InlineData(-2, new byte[] { 0x03 })]
    [InlineData(-64, new byte[] { 0x7F })]
    [InlineData(64, new byte[] { 0x80, 0x01 })]
    [InlineData(int.MaxValue, new byte[] { 0xFE, 0xFF, 0xFF, 0xFF, 0x0F })]
    [InlineData(int.MinValue, new byte[] { 0xFF, 0xFF, 0xFF, 0xFF, 0x0F })]
    public void VarInt_KnownValue_HasZigZagEncoding(int value, byte[] encoding)
    {
        Assert.Equal(encoding, Write((ref KafkaWriter w) => w.WriteVarInt(value)));
        var reader = new KafkaReader(encoding);
        Assert.Equal(value, reader.ReadVarInt());
    }

    [Theory]
    [InlineData(0L, new byte[] { 0x00 })]
    [InlineData(-1L, new byte[] { 0x01 })]
    [InlineData(150L, new byte[] { 0xAC, 0x02 })]
    [InlineData(long.MaxValue, new byte[] { 0xFE, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01 })]
    [InlineData(long.MinValue, new byte[] { 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01 })]
    public void VarLong_KnownValue_HasZigZagEncoding(long value, byte[] encoding)
    {
        Assert.Equal(encoding, Write((ref KafkaWriter w) => w.WriteVarLong(value)));
        var reader = new KafkaReader(encoding);
        Assert.Equal(value, reader.ReadVarLong());
    }

    [Fact]
    public void VarInts_RandomValues_RoundTrip()
    {
        Gen.Select(Gen.Int, Gen.Long, Gen.UInt).Sample((i, l, u) =>
        {
            byte[] bytes = Write((ref KafkaWriter w) =>
            {
                w.WriteVarInt(i);
                w.WriteVarLong(l);
                w.WriteUnsignedVarInt(u);
            });
            var reader = new KafkaReader(bytes);
            Assert.Equal(i, reader.ReadVarInt());
            Assert.Equal(l, reader.ReadVarLong());
            Assert.Equal(u, reader.ReadUnsignedVarInt());
            Assert.Equal(0, reader.Remaining);
        });
    }

    [Fact]
    public void FixedWidth_Values_AreBigEndian()
    {
        byte[] bytes = Write((ref KafkaWriter w) =>
        {
            w.WriteInt8(-2);
            w.WriteInt16(0x0102);
            w.WriteInt32(0x01020304);
            w.WriteInt64(0x0102030405060708);
            w.WriteUInt32(0xF1F2F3F4);
            w.WriteBoolean(true);
        });

        Assert.Equal(
            new byte[] { 0xFE, 1, 2, 1, 2, 3, 4, 1, 2, 3, 4, 5, 6, 7, 8, 0xF1, 0xF2, 0xF3, 0xF4, 1 },
            bytes);
        var reader = new KafkaReader(bytes);
        Assert.Equal(-2, reader.ReadInt8());
        Assert.Equal(0x0102, reader.ReadInt16());
        Assert.Equal(0x01020304, reader.ReadInt32());
        Assert.Equal(0x0102030405060708, reader.ReadInt64());
        Assert.Equal(0xF1F2F3F4, reader.ReadUInt32());
        Assert.True(reader.ReadBoolean());
    }

    [Fact]
    public void Strings_ClassicAndCompact_CountUtf8Bytes()
    {
        byte[] bytes = Write((ref KafkaWriter w) =>
        {
            w.WriteString("é");
            w.WriteNullableString(null);
            w.WriteCompactString("é");
            w.WriteCompactNullableString(null);
            w.WriteCompactString("");
        });

        Assert.Equal(new byte[] { 0, 2, 0xC3, 0xA9, 0xFF, 0xFF, 3, 0xC3, 0xA9, 0, 1 }, bytes);
        var reader = new KafkaReader(bytes);
        Assert.Equal("é", reader.ReadString());
        Assert.Null(reader.ReadNullableString());
        Assert.Equal("é", reader.ReadCompactString());
        Assert.Null(reader.ReadCompactNullableString());
        Assert.Equal("", reader.ReadCompactString());
    }

    [Fact]
    public void Bytes_ClassicAndCompact_HaveTheirLengthPrefixes()
    {
        byte[] bytes = Write((ref KafkaWriter w) =>
        {
            w.WriteBytes([7, 8]);
            w.WriteNullableBytes(null);
            w.WriteCompactBytes([9]);
            w.WriteCompactNullableBytes(null);
        });

        Assert.Equal(new byte[] { 0, 0, 0, 2, 7, 8, 0xFF, 0xFF, 0xFF, 0xFF, 2, 9, 0 }, bytes);
        var reader = new KafkaReader(bytes);
        Assert.Equal(new byte[] { 7, 8 }, reader.ReadBytes().ToArray());
        Assert.Null(reader.ReadNullableBytes());
        Assert.Equal(new byte[] { 9 }, reader.ReadCompactBytes().ToArray());
        Assert.Null(reader.ReadCompactNullableBytes());
    }

    [Fact]
    public void ReadBytes_Slice_SharesTheInputBuffer()
    {
        byte[] input = [0, 0, 0, 3, 10, 11, 12];
        var reader = new KafkaReader(input);

        ReadOnlyMemory<byte> slice = reader.ReadBytes();

        Assert.True(System.Runtime.InteropServices.MemoryMarshal.TryGetArray(slice, out ArraySegment<byte> segment));
        Assert.Same(input, segment.Array);
        Assert.Equal(4, segment.Offset);
    }

    [Fact]
    public void Arrays_NullAndCounts_ClassicAndCompact()
    {
        byte[] bytes = Write((ref KafkaWriter w) =>
        {
            w.WriteArrayLength(-1);
            w.WriteCompactArrayLength(-1);
            w.WriteCompactArrayLength(2);
            w.WriteInt8(1);
            w.WriteInt8(2);
        });

        Assert.Equal(new byte[] { 0xFF, 0xFF, 0xFF, 0xFF, 0, 3, 1, 2 }, bytes);
        var reader = new KafkaReader(bytes);
        Assert.Equal(-1, reader.ReadArrayLength());
        Assert.Equal(-1, reader.ReadCompactArrayLength());
        Assert.Equal(2, reader.ReadCompactArrayLength());
    }

    [Fact]
    public void TaggedFields_Unknown_AreSkipped()
    {
        // Two tagged fields (tag 3 with 2 bytes, tag 200 with 1 byte), then an int16 that must still be read right.
        byte[] bytes = [2, 3, 2, 0xAA, 0xBB, 0xC8, 0x01, 1, 0xCC, 0x12, 0x34];
        var reader = new KafkaReader(bytes);

        reader.SkipTaggedFields();

        Assert.Equal(0x1234, reader.ReadInt16());
        Assert.Equal(0, reader.Remaining);
    }

    [Fact]
    public void TaggedField_Known_ComesBackWithItsTagAndData()
    {
        byte[] bytes = Write((ref KafkaWriter w) =>
        {
            w.WriteUnsignedVarInt(1);
            w.WriteTaggedFieldHeader(5, 2);
            w.WriteInt16(0x0A0B);
        });
        var reader = new KafkaReader(bytes);

        Assert.Equal(1, reader.ReadTaggedFieldCount());
        ReadOnlyMemory<byte> data = reader.ReadTaggedField(out uint tag);

        Assert.Equal(5u, tag);
        Assert.Equal(new byte[] { 0x0A, 0x0B }, data.ToArray());
    }

    [Fact]
    public void Writer_StringTooLongForInt16_Throws()
    {
        var writer = new KafkaWriter(new ArrayBufferWriter<byte>());
        string tooLong = new('x', short.MaxValue + 1);

        Assert.Throws<ArgumentException>(() => writer.WriteString(tooLong));
    }

    [Fact]
    public void MeasuringWriter_CountsWithoutOutput()
    {
        var writer = KafkaWriter.CreateMeasuring();

        writer.WriteString("abc");
        writer.WriteCompactBytes(new byte[300]);
        writer.WriteVarLong(long.MinValue);

        Assert.True(writer.IsMeasuring);
        Assert.Equal(2 + 3 + 2 + 300 + 10, writer.BytesWritten);
    }

    private static byte[] Write(WriteAction action)
    {
        var buffer = new ArrayBufferWriter<byte>();
        var writer = new KafkaWriter(buffer);
        action(ref writer);
        Assert.Equal(buffer.WrittenCount, writer.BytesWritten);
        return buffer.WrittenSpan.ToArray();
    }
}
