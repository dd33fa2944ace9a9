using Blueprint.Log.Kafka;
using Blueprint.Log.Kafka.Protocol;

namespace Blueprint.Log.Tests.Protocol;

/// <summary>The advertised versions, the header rules, and the error responses built from them.</summary>
public sealed class VersionTableAndErrorResponseTests
{
    public static TheoryData<string, short> Cases => MessageCases.EveryVersion();

    [Fact]
    public void Supported_IsExactlyTheAdvertisedTable_InKeyOrder()
    {
        (ApiKey, short, short)[] expected =
        [
            (ApiKey.Produce, 3, 8), (ApiKey.Fetch, 4, 11), (ApiKey.ListOffsets, 1, 5), (ApiKey.Metadata, 0, 8),
            (ApiKey.OffsetCommit, 2, 7), (ApiKey.OffsetFetch, 1, 5), (ApiKey.FindCoordinator, 0, 2),
            (ApiKey.JoinGroup, 0, 5), (ApiKey.Heartbeat, 0, 3), (ApiKey.LeaveGroup, 0, 3), (ApiKey.SyncGroup, 0, 3),
            (ApiKey.DescribeGroups, 0, 4), (ApiKey.ListGroups, 0, 2), (ApiKey.ApiVersions, 0, 3),
            (ApiKey.CreateTopics, 0, 4), (ApiKey.DeleteTopics, 0, 3), (ApiKey.InitProducerId, 0, 1),
            (ApiKey.OffsetForLeaderEpoch, 0, 3),
        ];

        Assert.Equal(expected, ApiVersionTable.Supported.Select(s => (s.ApiKey, s.MinVersion, s.MaxVersion)));
    }

    [Fact]
    public void IsFlexible_AmongAdvertisedVersions_OnlyApiVersions3()
    {
        var flexible = ApiVersionTable.Supported
            .SelectMany(s => Enumerable.Range(s.MinVersion, s.MaxVersion - s.MinVersion + 1).Select(v => (s.ApiKey, (short)v)))
            .Where(p => ApiVersionTable.IsFlexible(p.ApiKey, p.Item2));

        Assert.Equal([(ApiKey.ApiVersions, (short)3)], flexible);
    }

    [Theory]
    [InlineData(ApiKey.Produce, 9)]
    [InlineData(ApiKey.Fetch, 12)]
    [InlineData(ApiKey.Metadata, 9)]
    [InlineData(ApiKey.OffsetCommit, 8)]
    [InlineData(ApiKey.JoinGroup, 6)]
    [InlineData(ApiKey.InitProducerId, 2)]
    [InlineData(ApiKey.OffsetForLeaderEpoch, 4)]
    public void IsFlexible_KafkasFirstFlexibleVersion_IsTheBoundary(ApiKey apiKey, short first)
    {
        Assert.False(ApiVersionTable.IsFlexible(apiKey, (short)(first - 1)));
        Assert.True(ApiVersionTable.IsFlexible(apiKey, first));
        Assert.Equal(2, ApiVersionTable.RequestHeaderVersion(apiKey, first));
        Assert.Equal(1, ApiVersionTable.ResponseHeaderVersion(apiKey, first));
        Assert.Equal(1, ApiVersionTable.RequestHeaderVersion(apiKey, (short)(first - 1)));
        Assert.Equal(0, ApiVersionTable.ResponseHeaderVersion(apiKey, (short)(first - 1)));
    }

    [Fact]
    public void ResponseHeaderVersion_ApiVersions_IsAlwaysZero()
    {
        Assert.Equal(2, ApiVersionTable.RequestHeaderVersion(ApiKey.ApiVersions, 3));
        Assert.Equal(0, ApiVersionTable.ResponseHeaderVersion(ApiKey.ApiVersions, 3));
        Assert.False(ApiVersionTable.IsFlexible(ApiKey.SaslHandshake, 1));
    }

    /// <summary>
    /// librdkafka enables a feature only when the broker's range overlaps every (API, min, max) it lists for it
    /// (rdkafka_feature.c, rd_kafka_feature_map); a feature it needs that the table switches off breaks the client.
    /// </summary>
    [Theory]
    [InlineData("MsgVer2", new short[] { 0, 3, 3, 1, 4, 4 })]
    [InlineData("ApiVersion", new short[] { 18, 0, 0 })]
    [InlineData("BrokerGroupCoordinator", new short[] { 10, 0, 0 })]
    [InlineData("BrokerBalancedConsumer", new short[] { 10, 0, 0, 8, 1, 2, 9, 1, 1, 11, 0, 0, 14, 0, 0, 12, 0, 0, 13, 0, 0 })]
    [InlineData("LZ4", new short[] { 10, 0, 0 })]
    [InlineData("OffsetTime", new short[] { 2, 1, 1 })]
    [InlineData("IdempotentProducer", new short[] { 22, 0, 0 })]
    [InlineData("ZSTD", new short[] { 0, 7, 7, 1, 10, 10 })]
    public void Table_LibrdkafkaFeature_IsEnabled(string feature, short[] depends)
    {
        for (int i = 0; i < depends.Length; i += 3)
        {
            var apiKey = (ApiKey)depends[i];
            Assert.True(ApiVersionTable.TryGetRange(apiKey, out SupportedApiVersion range), $"{feature}: {apiKey} not advertised");
            Assert.True(
                depends[i + 1] <= range.MaxVersion && range.MinVersion <= depends[i + 2],
                $"{feature}: {apiKey} {range.MinVersion}-{range.MaxVersion} misses {depends[i + 1]}-{depends[i + 2]}");
        }
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void ForRequest_RandomRequest_AnswersEverythingAskedAndIsWritable(string name, short version)
    {
        MessageCase message = MessageCases.Get(name);
        if (!name.EndsWith("Request", StringComparison.Ordinal))
        {
            return;
        }

        var request = (IKafkaMessage)new MessageFiller(new Random(version), message.Type, version).Fill(message.Type);
        byte[] bytes = MessageCases.Encode(request, version);
        (IKafkaMessage read, _) = message.Read(bytes, version);

        IKafkaMessage response = KafkaErrorResponses.ForRequest(read, ErrorCode.NotCoordinator);

        Assert.Equal(message.ApiKey, response.ApiKey);
        Assert.NotEmpty(MessageCases.Encode(response, version));
        Assert.All(ErrorCodes(response), code => Assert.Equal(ErrorCode.NotCoordinator, code));
        if (read is not MetadataRequest { Topics: null })
        {
            // A metadata request for all topics names none to fail; every other request gets at least one error.
            Assert.NotEmpty(ErrorCodes(response));
        }
    }

    [Fact]
    public void ForRequest_Produce_MirrorsEveryPartition()
    {
        var request = new ProduceRequest
        {
            Acks = 1,
            Topics =
            [
                new() { Name = "a", Partitions = [new() { PartitionIndex = 0 }, new() { PartitionIndex = 3 }] },
                new() { Name = "b", Partitions = [new() { PartitionIndex = 1 }] },
            ],
        };

        var response = (ProduceResponse)KafkaErrorResponses.ForRequest(request, ErrorCode.NotLeaderOrFollower);

        Assert.Equal(["a:0", "a:3", "b:1"], response.Responses.SelectMany(t => t.Partitions.Select(p => $"{t.Name}:{p.PartitionIndex}")));
        Assert.All(response.Responses.SelectMany(t => t.Partitions), p =>
        {
            Assert.Equal(ErrorCode.NotLeaderOrFollower, p.ErrorCode);
            Assert.Equal(-1, p.BaseOffset);
        });
    }

    [Fact]
    public void ForRequest_OffsetForLeaderEpoch_MirrorsEveryPartitionWithUndefinedEpochAndOffset()
    {
        var request = new OffsetForLeaderEpochRequest
        {
            Topics =
            [
                new() { Topic = "a", Partitions = [new() { Partition = 0, LeaderEpoch = 4 }, new() { Partition = 2, LeaderEpoch = 9 }] },
                new() { Topic = "b", Partitions = [new() { Partition = 1, LeaderEpoch = 0 }] },
            ],
        };

        var response = (OffsetForLeaderEpochResponse)KafkaErrorResponses.ForRequest(request, ErrorCode.NotLeaderOrFollower);

        Assert.Equal(["a:0", "a:2", "b:1"], response.Topics.SelectMany(t => t.Partitions.Select(p => $"{t.Topic}:{p.Partition}")));
        Assert.All(response.Topics.SelectMany(t => t.Partitions), p =>
        {
            Assert.Equal(ErrorCode.NotLeaderOrFollower, p.ErrorCode);
            Assert.Equal(-1, p.LeaderEpoch);
            Assert.Equal(-1, p.EndOffset);
        });
    }

    [Fact]
    public void ForHeader_ExactlyTheTopLevelErrorApis_AreAnswered()
    {
        var answered = new List<string>();
        foreach (SupportedApiVersion range in ApiVersionTable.Supported)
        {
            for (short version = range.MinVersion; version <= range.MaxVersion; version++)
            {
                var header = new RequestHeader(range.ApiKey, version, 1, null);
                IKafkaMessage? response = KafkaErrorResponses.ForHeader(header, ErrorCode.CoordinatorNotAvailable);
                if (response is not null)
                {
                    Assert.NotEmpty(MessageCases.Encode(response, version));
                    Assert.Contains(ErrorCode.CoordinatorNotAvailable, ErrorCodes(response));
                    answered.Add($"{range.ApiKey}{version}");
                }
            }
        }

        string[] expected =
        [
            "Fetch7", "Fetch8", "Fetch9", "Fetch10", "Fetch11", "OffsetFetch2", "OffsetFetch3", "OffsetFetch4", "OffsetFetch5",
            "FindCoordinator0", "FindCoordinator1", "FindCoordinator2", "JoinGroup0", "JoinGroup1", "JoinGroup2", "JoinGroup3",
            "JoinGroup4", "JoinGroup5", "Heartbeat0", "Heartbeat1", "Heartbeat2", "Heartbeat3", "LeaveGroup0", "LeaveGroup1",
            "LeaveGroup2", "LeaveGroup3", "SyncGroup0", "SyncGroup1", "SyncGroup2", "SyncGroup3", "ListGroups0", "ListGroups1",
            "ListGroups2", "ApiVersions0", "ApiVersions1", "ApiVersions2", "ApiVersions3", "InitProducerId0", "InitProducerId1",
        ];
        Assert.Equal(expected, answered);
    }

    /// <summary>Every ErrorCode-typed value in a message, at any depth.</summary>
    private static List<ErrorCode> ErrorCodes(object message)
    {
        var codes = new List<ErrorCode>();
        foreach (var property in MessageFiller.Settable(message.GetType()))
        {
            object? value = property.GetValue(message);
            switch (value)
            {
                case ErrorCode code:
                    codes.Add(code);
                    break;
                case System.Collections.IEnumerable items and not string:
                    foreach (object? item in items)
                    {
                        if (item is not null && item.GetType().IsClass && item is not string)
                        {
                            codes.AddRange(ErrorCodes(item));
                        }
                    }

                    break;
                default:
                    break;
            }
        }

        return codes;
    }
}
