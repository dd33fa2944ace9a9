using System.Buffers;
using System.Runtime.InteropServices;
using System.Text;
using Blueprint.Log.Kafka;
using Blueprint.Log.Kafka.Protocol;

namespace Blueprint.Log.Tests.Protocol;

/// <summary>Frames built byte by byte from the protocol guide and from what librdkafka sends.</summary>
public sealed class GoldenBytesTests
{
    /// <summary>
    /// librdkafka's first request on every connection (rd_kafka_ApiVersionRequest): ApiVersions v3 with header v2, the
    /// default client id "rdkafka", and the software name and version as compact strings (KIP-511).
    /// </summary>
    private static readonly byte[] LibrdkafkaApiVersionsV3 =
    [
        0, 0, 0, 37,                                       // frame size
        0, 18, 0, 3,                                       // api key 18 (ApiVersions), version 3
        0, 0, 0, 1,                                        // correlation id 1
        0, 7, .. "rdkafka"u8,                              // client id: int16 length even in header v2
        0,                                                 // header tag buffer: empty
        11, .. "librdkafka"u8,                             // ClientSoftwareName: compact, length + 1
        7, .. "2.16.0"u8,                                  // ClientSoftwareVersion
        0,                                                 // body tag buffer: empty
    ];

    [Fact]
    public void ApiVersionsV3_AsLibrdkafkaSendsIt_Parses()
    {
        var buffer = new ReadOnlySequence<byte>(LibrdkafkaApiVersionsV3);

        Assert.True(KafkaFrame.TryReadFrame(ref buffer, KafkaFrame.DefaultMaxFrameBytes, out ReadOnlySequence<byte> frame));
        var reader = new KafkaReader(KafkaFrame.ToContiguous(frame));
        RequestHeader header = RequestHeader.Read(ref reader);
        ApiVersionsRequest body = ApiVersionsRequest.Read(ref reader, header.ApiVersion);

        Assert.Equal(0, buffer.Length);
        Assert.Equal(new RequestHeader(ApiKey.ApiVersions, 3, 1, "rdkafka"), header);
        Assert.Equal(2, header.HeaderVersion);
        Assert.Equal("librdkafka", body.ClientSoftwareName);
        Assert.Equal("2.16.0", body.ClientSoftwareVersion);
        Assert.Equal(0, reader.Remaining);
    }

    [Fact]
    public void ApiVersionsV3_WrittenAsRequest_MatchesLibrdkafkaBytes()
    {
        var output = new ArrayBufferWriter<byte>();

        KafkaFrame.WriteRequest(
            output,
            new RequestHeader(ApiKey.ApiVersions, 3, 1, "rdkafka"),
            new ApiVersionsRequest { ClientSoftwareName = "librdkafka", ClientSoftwareVersion = "2.16.0" });

        Assert.Equal(LibrdkafkaApiVersionsV3, output.WrittenSpan.ToArray());
    }

    [Fact]
    public void ApiVersionsV3_UnknownTaggedFieldsInHeaderAndBody_AreSkipped()
    {
        byte[] payload =
        [
            0, 18, 0, 3, 0, 0, 0, 9, 0xFF, 0xFF,           // ApiVersions v3, correlation 9, null client id
            1, 7, 2, 0xAA, 0xBB,                           // header tags: tag 7 with 2 bytes
            4, .. "abc"u8, 2, .. "1"u8,                    // name "abc", version "1"
            2, 9, 1, 0xCC, 0x80, 0x01, 0,                  // body tags: tag 9 (1 byte), tag 128 (empty)
        ];
        var reader = new KafkaReader(payload);

        RequestHeader header = RequestHeader.Read(ref reader);
        ApiVersionsRequest body = ApiVersionsRequest.Read(ref reader, header.ApiVersion);

        Assert.Equal(9, header.CorrelationId);
        Assert.Null(header.ClientId);
        Assert.Equal("abc", body.ClientSoftwareName);
        Assert.Equal("1", body.ClientSoftwareVersion);
        Assert.Equal(0, reader.Remaining);
    }

    [Fact]
    public void MetadataV1_TwoTopics_MatchesTheSpec()
    {
        byte[] frame =
        [
            0, 0, 0, 28,
            0, 3, 0, 1, 0, 0, 0, 42,                       // Metadata v1, correlation 42
            0, 4, .. "kcat"u8,                             // client id
            0, 0, 0, 2,                                    // two topics
            0, 3, .. "foo"u8,
            0, 3, .. "bar"u8,
        ];
        var output = new ArrayBufferWriter<byte>();

        KafkaFrame.WriteRequest(
            output,
            new RequestHeader(ApiKey.Metadata, 1, 42, "kcat"),
            new MetadataRequest { Topics = [new() { Name = "foo" }, new() { Name = "bar" }] });

        Assert.Equal(frame, output.WrittenSpan.ToArray());
        var reader = new KafkaReader(frame.AsMemory(4));
        RequestHeader header = RequestHeader.Read(ref reader);
        MetadataRequest body = MetadataRequest.Read(ref reader, header.ApiVersion);
        Assert.Equal(1, header.HeaderVersion);
        Assert.Equal(["foo", "bar"], body.Topics!.Select(t => t.Name));
        Assert.True(body.AllowAutoTopicCreation);
    }

    [Fact]
    public void MetadataV1_AllTopics_IsANullArray()
    {
        byte[] payload = [0, 3, 0, 1, 0, 0, 0, 5, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF];
        var reader = new KafkaReader(payload);

        RequestHeader header = RequestHeader.Read(ref reader);
        MetadataRequest body = MetadataRequest.Read(ref reader, header.ApiVersion);

        Assert.Null(header.ClientId);
        Assert.Null(body.Topics);
    }

    [Fact]
    public void ApiVersionsV3Response_SmallList_HasHeaderV0AndCompactBody()
    {
        var output = new ArrayBufferWriter<byte>();
        var response = new ApiVersionsResponse { ApiKeys = [new() { ApiKey = ApiKey.ApiVersions, MinVersion = 0, MaxVersion = 3 }] };

        KafkaFrame.WriteResponse(output, new RequestHeader(ApiKey.ApiVersions, 3, 7, "c"), response);

        byte[] expected =
        [
            0, 0, 0, 19,
            0, 0, 0, 7,                                    // header v0: correlation id, no tag buffer
            0, 0,                                          // error code
            2,                                             // compact array: one element
            0, 18, 0, 0, 0, 3, 0,                          // ApiVersions 0..3, element tag buffer
            0, 0, 0, 0,                                    // throttle time
            0,                                             // body tag buffer
        ];
        Assert.Equal(expected, output.WrittenSpan.ToArray());
    }

    [Fact]
    public void ApiVersionsV3Response_FeatureTags_AreWrittenAndUnknownTagsSkipped()
    {
        var response = new ApiVersionsResponse
        {
            SupportedFeatures = [new() { Name = "f", MinVersion = 1, MaxVersion = 2 }],
            FinalizedFeaturesEpoch = 5,
        };
        byte[] body = MessageCases.Encode(response, 3);

        byte[] expected =
        [
            0, 0, 1, 0, 0, 0, 0,                           // no error, empty compact array, throttle 0
            2,                                             // two tagged fields
            0, 8, 2, 2, .. "f"u8, 0, 1, 0, 2, 0,           // tag 0, 8 bytes: [{f, 1, 2}]
            1, 8, 0, 0, 0, 0, 0, 0, 0, 5,                  // tag 1, 8 bytes: epoch 5
        ];
        Assert.Equal(expected, body);

        // The same body with an unknown tag 42 between the known ones still reads.
        byte[] withUnknown = [.. expected[..7], 3, .. expected[8..18], 42, 1, 0xEE, .. expected[18..]];
        var reader = new KafkaReader(withUnknown);
        ApiVersionsResponse read = ApiVersionsResponse.Read(ref reader, 3);
        Assert.Equal("f", Assert.Single(read.SupportedFeatures).Name);
        Assert.Equal(5, read.FinalizedFeaturesEpoch);
        Assert.Equal(0, reader.Remaining);
    }

    [Fact]
    public void ApiVersionsUnsupported_IsV0WithTheSupportedList()
    {
        var output = new ArrayBufferWriter<byte>();

        KafkaFrame.WriteApiVersionsUnsupported(output, 77);

        byte[] bytes = output.WrittenSpan.ToArray();
        int count = ApiVersionTable.Supported.Count;
        Assert.Equal(4 + 4 + 2 + 4 + (count * 6), bytes.Length);
        Assert.Equal(new byte[] { 0, 0, 0, (byte)(bytes.Length - 4), 0, 0, 0, 77, 0, 35, 0, 0, 0, (byte)count }, bytes[..14]);
        var reader = new KafkaReader(bytes.AsMemory(8));
        ApiVersionsResponse response = ApiVersionsResponse.Read(ref reader, 0);
        Assert.Equal(ErrorCode.UnsupportedVersion, response.ErrorCode);
        Assert.Contains(response.ApiKeys, k => k.ApiKey == ApiKey.ApiVersions && k.MinVersion == 0 && k.MaxVersion == 3);
        Assert.Equal(0, reader.Remaining);
    }

    [Fact]
    public void ProduceV3_RecordSet_IsASliceOfTheFrameNotACopy()
    {
        byte[] records = Encoding.ASCII.GetBytes("pretend-record-batch");
        byte[] payload =
        [
            0xFF, 0xFF,                                    // no transactional id
            0xFF, 0xFF,                                    // acks -1
            0, 0, 0x75, 0x30,                              // timeout 30000
            0, 0, 0, 1, 0, 1, .. "t"u8,                    // one topic "t"
            0, 0, 0, 1, 0, 0, 0, 2,                        // one partition, index 2
            0, 0, 0, (byte)records.Length, .. records,
        ];
        var reader = new KafkaReader(payload);

        ProduceRequest request = ProduceRequest.Read(ref reader, 3);

        ProduceRequest.PartitionProduceData partition = Assert.Single(Assert.Single(request.Topics).Partitions);
        Assert.Equal(-1, request.Acks);
        Assert.Equal(30000, request.TimeoutMs);
        Assert.Equal(2, partition.PartitionIndex);
        Assert.True(MemoryMarshal.TryGetArray(partition.Records!.Value, out ArraySegment<byte> segment));
        Assert.Same(payload, segment.Array);
        Assert.Equal(payload.Length - records.Length, segment.Offset);
        Assert.Equal(records, segment.ToArray());
    }

    [Fact]
    public void OffsetForLeaderEpochV2_AsLibrdkafkaSendsIt_MatchesTheSpec()
    {
        // librdkafka validates a position with version 2 (rd_kafka_OffsetForLeaderEpochRequest): no replica id.
        byte[] frame =
        [
            0, 0, 0, 40,
            0, 23, 0, 2, 0, 0, 0, 3,                       // OffsetForLeaderEpoch v2, correlation 3
            0, 7, .. "rdkafka"u8,                          // client id
            0, 0, 0, 1, 0, 1, .. "t"u8,                    // one topic "t"
            0, 0, 0, 1, 0, 0, 0, 2,                        // one partition, index 2
            0, 0, 0, 5,                                    // CurrentLeaderEpoch 5
            0, 0, 0, 4,                                    // LeaderEpoch 4
        ];
        var output = new ArrayBufferWriter<byte>();

        KafkaFrame.WriteRequest(
            output,
            new RequestHeader(ApiKey.OffsetForLeaderEpoch, 2, 3, "rdkafka"),
            new OffsetForLeaderEpochRequest { Topics = [new() { Topic = "t", Partitions = [new() { Partition = 2, CurrentLeaderEpoch = 5, LeaderEpoch = 4 }] }] });

        Assert.Equal(frame, output.WrittenSpan.ToArray());
        var reader = new KafkaReader(frame.AsMemory(4));
        RequestHeader header = RequestHeader.Read(ref reader);
        OffsetForLeaderEpochRequest body = OffsetForLeaderEpochRequest.Read(ref reader, header.ApiVersion);
        Assert.Equal(1, header.HeaderVersion);
        Assert.Equal(-2, body.ReplicaId);
        OffsetForLeaderEpochRequest.OffsetForLeaderPartition partition = Assert.Single(Assert.Single(body.Topics).Partitions);
        Assert.Equal((2, 5, 4), (partition.Partition, partition.CurrentLeaderEpoch, partition.LeaderEpoch));
        Assert.Equal(0, reader.Remaining);
    }

    [Fact]
    public void OffsetForLeaderEpochV3_ReplicaIdLeadsTheBody()
    {
        byte[] body =
        [
            0xFF, 0xFF, 0xFF, 0xFF,                        // ReplicaId -1: a consumer
            0, 0, 0, 1, 0, 1, .. "t"u8,
            0, 0, 0, 1, 0, 0, 0, 0,                        // partition 0
            0xFF, 0xFF, 0xFF, 0xFF,                        // CurrentLeaderEpoch -1: unknown
            0, 0, 0, 7,                                    // LeaderEpoch 7
        ];

        byte[] written = MessageCases.Encode(
            new OffsetForLeaderEpochRequest { ReplicaId = -1, Topics = [new() { Topic = "t", Partitions = [new() { LeaderEpoch = 7 }] }] }, 3);

        Assert.Equal(body, written);
    }

    [Fact]
    public void OffsetForLeaderEpochV0_Request_ReadsTheAbsentFieldsAsKafkasDefaults()
    {
        byte[] body = [0, 0, 0, 1, 0, 1, .. "t"u8, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 4];
        var reader = new KafkaReader(body);

        OffsetForLeaderEpochRequest request = OffsetForLeaderEpochRequest.Read(ref reader, 0);

        OffsetForLeaderEpochRequest.OffsetForLeaderPartition partition = Assert.Single(Assert.Single(request.Topics).Partitions);
        Assert.Equal(-2, request.ReplicaId);
        Assert.Equal(-1, partition.CurrentLeaderEpoch);
        Assert.Equal(4, partition.LeaderEpoch);
        Assert.Equal(0, reader.Remaining);
    }

    [Fact]
    public void OffsetForLeaderEpochV3Response_MatchesTheSpec()
    {
        var output = new ArrayBufferWriter<byte>();
        var response = new OffsetForLeaderEpochResponse
        {
            ThrottleTimeMs = 1,
            Topics = [new() { Topic = "t", Partitions = [new() { Partition = 2, LeaderEpoch = 4, EndOffset = 100 }] }],
        };

        KafkaFrame.WriteResponse(output, new RequestHeader(ApiKey.OffsetForLeaderEpoch, 3, 9, "c"), response);

        byte[] expected =
        [
            0, 0, 0, 37,
            0, 0, 0, 9,                                    // header v0: correlation id
            0, 0, 0, 1,                                    // ThrottleTimeMs 1
            0, 0, 0, 1, 0, 1, .. "t"u8,                    // one topic "t"
            0, 0, 0, 1,                                    // one partition
            0, 0,                                          // ErrorCode none
            0, 0, 0, 2,                                    // Partition 2
            0, 0, 0, 4,                                    // LeaderEpoch 4
            0, 0, 0, 0, 0, 0, 0, 100,                      // EndOffset 100
        ];
        Assert.Equal(expected, output.WrittenSpan.ToArray());
    }

    [Fact]
    public void OffsetForLeaderEpochV0Response_HasNoThrottleTimeNorLeaderEpoch()
    {
        byte[] body =
        [
            0, 0, 0, 1, 0, 1, .. "t"u8,
            0, 0, 0, 1,
            0, 74,                                         // FencedLeaderEpoch
            0, 0, 0, 2,
            0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, // EndOffset -1
        ];
        var reader = new KafkaReader(body);

        OffsetForLeaderEpochResponse response = OffsetForLeaderEpochResponse.Read(ref reader, 0);

        OffsetForLeaderEpochResponse.EpochEndOffset partition = Assert.Single(Assert.Single(response.Topics).Partitions);
        Assert.Equal(ErrorCode.FencedLeaderEpoch, partition.ErrorCode);
        Assert.Equal(2, partition.Partition);
        Assert.Equal(-1, partition.LeaderEpoch);
        Assert.Equal(-1, partition.EndOffset);
        Assert.Equal(0, reader.Remaining);
        Assert.Equal(body, MessageCases.Encode(response, 0));
    }

    [Fact]
    public void Response_HeaderVersion1_EndsWithAnEmptyTagBuffer()
    {
        var output = new ArrayBufferWriter<byte>();

        KafkaFrame.WriteResponse(output, 0x01020304, 1, new HeartbeatResponse { ErrorCode = ErrorCode.RebalanceInProgress }, 0);

        Assert.Equal(new byte[] { 0, 0, 0, 7, 1, 2, 3, 4, 0, 0, 27 }, output.WrittenSpan.ToArray());
    }
}
