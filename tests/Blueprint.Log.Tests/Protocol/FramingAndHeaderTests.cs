using System.Buffers;
using Blueprint.Log.Kafka;
using Blueprint.Log.Kafka.Protocol;

namespace Blueprint.Log.Tests.Protocol;

/// <summary>Frame splitting and request headers, including headers of APIs and versions the broker does not speak.</summary>
public sealed class FramingAndHeaderTests
{
    [Fact]
    public void TryReadFrame_TwoFramesAndAPartialOne_TakesTwoAndKeepsTheRest()
    {
        byte[] bytes = [0, 0, 0, 2, 0xA, 0xB, 0, 0, 0, 0, 0, 0, 0, 3, 0xC];
        var buffer = new ReadOnlySequence<byte>(bytes);

        Assert.True(KafkaFrame.TryReadFrame(ref buffer, 100, out ReadOnlySequence<byte> first));
        Assert.True(KafkaFrame.TryReadFrame(ref buffer, 100, out ReadOnlySequence<byte> second));
        Assert.False(KafkaFrame.TryReadFrame(ref buffer, 100, out _));

        Assert.Equal(new byte[] { 0xA, 0xB }, first.ToArray());
        Assert.Equal(0, second.Length);
        Assert.Equal(new byte[] { 0, 0, 0, 3, 0xC }, buffer.ToArray());
    }

    [Fact]
    public void TryReadFrame_PrefixSplitAcrossSegments_IsRead()
    {
        ReadOnlySequence<byte> buffer = Segments([0, 0], [0, 3, 1], [2, 3, 9]);

        Assert.True(KafkaFrame.TryReadFrame(ref buffer, 100, out ReadOnlySequence<byte> frame));

        Assert.False(frame.IsSingleSegment);
        Assert.Equal(new byte[] { 1, 2, 3 }, KafkaFrame.ToContiguous(frame).ToArray());
        Assert.Equal(new byte[] { 9 }, buffer.ToArray());
    }

    [Fact]
    public void TryReadFrame_FewerThanFourBytes_AsksForMore()
    {
        var buffer = new ReadOnlySequence<byte>(new byte[] { 0, 0, 0 });

        Assert.False(KafkaFrame.TryReadFrame(ref buffer, 100, out _));
        Assert.Equal(3, buffer.Length);
    }

    [Fact]
    public void TryReadFrame_NegativeSize_Throws()
    {
        var buffer = new ReadOnlySequence<byte>(new byte[] { 0xFF, 0xFF, 0xFF, 0xFE, 1 });

        Assert.Throws<KafkaProtocolException>(() => KafkaFrame.TryReadFrame(ref buffer, 100, out _));
    }

    [Fact]
    public void TryReadFrame_SizeAboveLimit_ThrowsBeforeThePayloadArrives()
    {
        // Only the prefix is here: the limit is enforced without waiting for (or buffering) 101 bytes.
        var buffer = new ReadOnlySequence<byte>(new byte[] { 0, 0, 0, 101 });

        var exception = Assert.Throws<KafkaProtocolException>(() => KafkaFrame.TryReadFrame(ref buffer, 100, out _));
        Assert.Contains("101", exception.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void TryReadFrame_SizeAtLimit_IsAccepted()
    {
        byte[] bytes = new byte[104];
        bytes[3] = 100;
        var buffer = new ReadOnlySequence<byte>(bytes);

        Assert.True(KafkaFrame.TryReadFrame(ref buffer, 100, out ReadOnlySequence<byte> frame));
        Assert.Equal(100, frame.Length);
    }

    [Fact]
    public void RequestHeader_UnknownApiKey_ReadsFourFieldsAndStops()
    {
        byte[] payload = [0x03, 0xE7, 0, 0, 0, 0, 0, 5, 0, 1, (byte)'c', 0xAB, 0xCD];
        var reader = new KafkaReader(payload);

        RequestHeader header = RequestHeader.Read(ref reader);

        Assert.Equal((ApiKey)999, header.ApiKey);
        Assert.Equal(5, header.CorrelationId);
        Assert.Equal("c", header.ClientId);
        Assert.False(header.IsSupported);
        Assert.Equal(11, reader.Position);
    }

    [Fact]
    public void RequestHeader_UnsupportedFlexibleVersion_DoesNotReadTags()
    {
        // Metadata v12 is flexible in Kafka, but the broker does not speak it: it must stop after the client id and
        // still know the correlation id to answer with.
        byte[] payload = [0, 3, 0, 12, 0, 0, 0, 8, 0xFF, 0xFF, 0x05];
        var reader = new KafkaReader(payload);

        RequestHeader header = RequestHeader.Read(ref reader);

        Assert.Equal(ApiKey.Metadata, header.ApiKey);
        Assert.Equal(12, header.ApiVersion);
        Assert.Equal(8, header.CorrelationId);
        Assert.Equal(10, reader.Position);
    }

    [Fact]
    public void RequestHeader_FutureApiVersionsRequest_StillYieldsTheCorrelationId()
    {
        byte[] payload = [0, 18, 0, 4, 0x7F, 0, 0, 1, 0, 0, 0];
        var reader = new KafkaReader(payload);

        RequestHeader header = RequestHeader.Read(ref reader);

        Assert.Equal(ApiKey.ApiVersions, header.ApiKey);
        Assert.Equal(0x7F000001, header.CorrelationId);
        Assert.Equal("", header.ClientId);
        Assert.Null(KafkaErrorResponses.ForHeader(header, ErrorCode.UnsupportedVersion));
    }

    [Theory]
    [InlineData(new byte[] { 0, 3, 0 })]
    [InlineData(new byte[] { 0, 3, 0, 1, 0, 0, 0, 1 })]
    [InlineData(new byte[] { 0, 3, 0, 1, 0, 0, 0, 1, 0, 5, 1 })]
    [InlineData(new byte[] { 0, 18, 0, 3, 0, 0, 0, 1, 0, 0 })]
    public void RequestHeader_Truncated_ThrowsProtocolException(byte[] payload)
    {
        Assert.Throws<KafkaProtocolException>(() =>
        {
            var reader = new KafkaReader(payload);
            _ = RequestHeader.Read(ref reader);
        });
    }

    [Fact]
    public void WriteResponse_BodyChangedBetweenMeasureAndWrite_FailsFast()
    {
        var output = new ArrayBufferWriter<byte>();

        Assert.Throws<InvalidOperationException>(() => KafkaFrame.WriteResponse(output, 1, 0, new GrowingMessage(), 0));
    }

    private static ReadOnlySequence<byte> Segments(params byte[][] parts)
    {
        var first = new Segment(parts[0], 0);
        Segment last = first;
        for (int i = 1; i < parts.Length; i++)
        {
            last = last.Append(parts[i]);
        }

        return new ReadOnlySequence<byte>(first, 0, last, last.Memory.Length);
    }

    private sealed class Segment : ReadOnlySequenceSegment<byte>
    {
        public Segment(byte[] bytes, long runningIndex)
        {
            Memory = bytes;
            RunningIndex = runningIndex;
        }

        public Segment Append(byte[] bytes)
        {
            var next = new Segment(bytes, RunningIndex + Memory.Length);
            Next = next;
            return next;
        }
    }

    /// <summary>A planted bug: a body that writes one byte more each time, as a list mutated by another thread would.</summary>
    private sealed class GrowingMessage : IKafkaMessage
    {
        private int _writes;

        public ApiKey ApiKey => ApiKey.Heartbeat;

        public void Write(ref KafkaWriter writer, short version)
        {
            _writes++;
            writer.WriteRaw(new byte[_writes]);
        }
    }
}
