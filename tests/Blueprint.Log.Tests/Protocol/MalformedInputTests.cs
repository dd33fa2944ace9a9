using Blueprint.Log.Kafka.Protocol;
using CsCheck;

namespace Blueprint.Log.Tests.Protocol;

/// <summary>Truncated, hostile and random input: always <see cref="KafkaProtocolException"/>, never another exception or a huge allocation.</summary>
public sealed class MalformedInputTests
{
    public static TheoryData<string, short> Cases => MessageCases.EveryVersion();

    [Theory]
    [MemberData(nameof(Cases))]
    public void Message_EveryTruncation_ThrowsProtocolException(string name, short version)
    {
        MessageCase message = MessageCases.Get(name);
        var original = (IKafkaMessage)new MessageFiller(new Random(version * 31 + name.Length), message.Type, version).Fill(message.Type);
        byte[] bytes = MessageCases.Encode(original, version);

        for (int length = 0; length < bytes.Length; length++)
        {
            ReadOnlyMemory<byte> prefix = bytes.AsMemory(0, length);
            Assert.Throws<KafkaProtocolException>(() => message.Read(prefix, version));
        }
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Message_RandomBytes_ParseOrThrowProtocolExceptionOnly(string name, short version)
    {
        MessageCase message = MessageCases.Get(name);
        Gen.Byte.Array[0, 200].Sample(
            bytes =>
            {
                try
                {
                    _ = message.Read(bytes, version);
                }
                catch (KafkaProtocolException)
                {
                }
            },
            iter: 200);
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Message_OneByteCorrupted_ParseOrThrowProtocolExceptionOnly(string name, short version)
    {
        MessageCase message = MessageCases.Get(name);
        Gen.Int.Sample(
            seed =>
            {
                var random = new Random(seed);
                var original = (IKafkaMessage)new MessageFiller(random, message.Type, version).Fill(message.Type);
                byte[] bytes = MessageCases.Encode(original, version);
                if (bytes.Length == 0)
                {
                    return;
                }

                bytes[random.Next(bytes.Length)] = (byte)random.Next(256);
                try
                {
                    _ = message.Read(bytes, version);
                }
                catch (KafkaProtocolException)
                {
                }
            },
            iter: 50);
    }

    [Fact]
    public void ArrayLength_HugeCount_IsRejectedBeforeAllocating()
    {
        // A produce request claiming int.MaxValue topics in a 20-byte frame.
        byte[] bytes = [0xFF, 0xFF, 0, 1, 0, 0, 0x75, 0x30, 0x7F, 0xFF, 0xFF, 0xFF, 0, 0, 0, 0, 0, 0, 0, 0];
        long before = GC.GetAllocatedBytesForCurrentThread();

        var exception = Assert.Throws<KafkaProtocolException>(() => ReadProduce(bytes));

        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.Contains("2147483647", exception.Message, StringComparison.Ordinal);
        Assert.True(allocated < 64 * 1024, $"allocated {allocated} bytes");
    }

    [Fact]
    public void BytesLength_HugeLength_IsRejectedBeforeAllocating()
    {
        byte[] bytes = [0x7F, 0xFF, 0xFF, 0xFF, 1, 2, 3];
        long before = GC.GetAllocatedBytesForCurrentThread();

        Assert.Throws<KafkaProtocolException>(() => new KafkaReader(bytes).ReadBytes());

        Assert.True(GC.GetAllocatedBytesForCurrentThread() - before < 64 * 1024);
    }

    [Fact]
    public void CompactLength_HugeVarInt_IsRejectedBeforeAllocating()
    {
        byte[] bytes = [0xFF, 0xFF, 0xFF, 0xFF, 0x0F, 1, 2];
        long before = GC.GetAllocatedBytesForCurrentThread();

        Assert.Throws<KafkaProtocolException>(() => new KafkaReader(bytes).ReadCompactString());
        Assert.Throws<KafkaProtocolException>(() => new KafkaReader(bytes).ReadCompactArrayLength());
        Assert.Throws<KafkaProtocolException>(() => new KafkaReader(bytes).ReadCompactBytes());

        Assert.True(GC.GetAllocatedBytesForCurrentThread() - before < 64 * 1024);
    }

    [Theory]
    [InlineData(new byte[] { 0x00, 0x05, 0x61 })]
    [InlineData(new byte[] { 0xFF, 0xFE })]
    [InlineData(new byte[] { 0xFF, 0xFF })]
    [InlineData(new byte[] { 0x00 })]
    public void String_BadLengthOrNull_ThrowsProtocolException(byte[] bytes)
    {
        Assert.Throws<KafkaProtocolException>(() => new KafkaReader(bytes).ReadString());
    }

    [Theory]
    [InlineData(new byte[] { 0xFF, 0xFF, 0xFF, 0xFE })]
    [InlineData(new byte[] { 0x80, 0x00, 0x00, 0x00 })]
    public void ArrayLength_NegativeBelowMinusOne_ThrowsProtocolException(byte[] bytes)
    {
        Assert.Throws<KafkaProtocolException>(() => new KafkaReader(bytes).ReadArrayLength());
    }

    [Theory]
    [InlineData(new byte[] { 0x80, 0x80, 0x80, 0x80, 0x80, 0x01 })]
    [InlineData(new byte[] { 0xFF, 0xFF, 0xFF, 0xFF, 0x1F })]
    [InlineData(new byte[] { 0x80 })]
    public void UnsignedVarInt_TooLongOrTruncated_ThrowsProtocolException(byte[] bytes)
    {
        Assert.Throws<KafkaProtocolException>(() => new KafkaReader(bytes).ReadUnsignedVarInt());
    }

    [Fact]
    public void VarLong_ElevenBytes_ThrowsProtocolException()
    {
        byte[] bytes = [0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01];

        Assert.Throws<KafkaProtocolException>(() => new KafkaReader(bytes).ReadVarLong());
    }

    [Fact]
    public void TaggedField_SizePastTheEnd_ThrowsProtocolException()
    {
        byte[] bytes = [1, 0, 9, 1, 2];

        Assert.Throws<KafkaProtocolException>(() => new KafkaReader(bytes).SkipTaggedFields());
    }

    [Fact]
    public void Primitives_PastTheEnd_ThrowProtocolExceptionNotIndexOutOfRange()
    {
        byte[] three = [1, 2, 3];

        Assert.Throws<KafkaProtocolException>(() => new KafkaReader(three).ReadInt32());
        Assert.Throws<KafkaProtocolException>(() => new KafkaReader(three).ReadInt64());
        Assert.Throws<KafkaProtocolException>(() => new KafkaReader(three).ReadUInt32());
        Assert.Throws<KafkaProtocolException>(() => new KafkaReader(ReadOnlyMemory<byte>.Empty).ReadInt8());
        Assert.Throws<KafkaProtocolException>(() => new KafkaReader(ReadOnlyMemory<byte>.Empty).ReadBoolean());
        Assert.Throws<KafkaProtocolException>(() => new KafkaReader(three).Skip(4));
    }

    [Fact]
    public void OffsetForLeaderEpochRequest_Version0BodyReadAsVersion2_ThrowsProtocolException()
    {
        // Version 2 adds CurrentLeaderEpoch to each partition: a version 0 body is four bytes short of it.
        byte[] version0 = [0, 0, 0, 1, 0, 1, .. "t"u8, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 4];

        Assert.Throws<KafkaProtocolException>(() => MessageCases.Get(nameof(OffsetForLeaderEpochRequest)).Read(version0, 2));
    }

    private static ProduceRequest ReadProduce(byte[] bytes)
    {
        var reader = new KafkaReader(bytes);
        return ProduceRequest.Read(ref reader, 3);
    }
}
