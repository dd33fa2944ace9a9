using System.Buffers;
using System.Collections;
using System.Reflection;
using Blueprint.Log.Kafka;
using Blueprint.Log.Kafka.Protocol;

namespace Blueprint.Log.Tests.Protocol;

/// <summary>One message type of the codec, with a way to read it without knowing its type statically.</summary>
internal sealed record MessageCase(Type Type, ApiKey ApiKey, Func<ReadOnlyMemory<byte>, short, (IKafkaMessage Message, int Remaining)> Read)
{
    public string Name => Type.Name;

    public IEnumerable<short> Versions
    {
        get
        {
            Assert.True(ApiVersionTable.TryGetRange(ApiKey, out SupportedApiVersion range));
            for (short v = range.MinVersion; v <= range.MaxVersion; v++)
            {
                yield return v;
            }
        }
    }
}

/// <summary>Every request and response of the codec, and helpers to encode them.</summary>
internal static class MessageCases
{
    public static readonly IReadOnlyList<MessageCase> All =
    [
        Case<ProduceRequest>(ApiKey.Produce), Case<ProduceResponse>(ApiKey.Produce),
        Case<FetchRequest>(ApiKey.Fetch), Case<FetchResponse>(ApiKey.Fetch),
        Case<ListOffsetsRequest>(ApiKey.ListOffsets), Case<ListOffsetsResponse>(ApiKey.ListOffsets),
        Case<MetadataRequest>(ApiKey.Metadata), Case<MetadataResponse>(ApiKey.Metadata),
        Case<ApiVersionsRequest>(ApiKey.ApiVersions), Case<ApiVersionsResponse>(ApiKey.ApiVersions),
        Case<CreateTopicsRequest>(ApiKey.CreateTopics), Case<CreateTopicsResponse>(ApiKey.CreateTopics),
        Case<DeleteTopicsRequest>(ApiKey.DeleteTopics), Case<DeleteTopicsResponse>(ApiKey.DeleteTopics),
        Case<FindCoordinatorRequest>(ApiKey.FindCoordinator), Case<FindCoordinatorResponse>(ApiKey.FindCoordinator),
        Case<JoinGroupRequest>(ApiKey.JoinGroup), Case<JoinGroupResponse>(ApiKey.JoinGroup),
        Case<SyncGroupRequest>(ApiKey.SyncGroup), Case<SyncGroupResponse>(ApiKey.SyncGroup),
        Case<HeartbeatRequest>(ApiKey.Heartbeat), Case<HeartbeatResponse>(ApiKey.Heartbeat),
        Case<LeaveGroupRequest>(ApiKey.LeaveGroup), Case<LeaveGroupResponse>(ApiKey.LeaveGroup),
        Case<OffsetCommitRequest>(ApiKey.OffsetCommit), Case<OffsetCommitResponse>(ApiKey.OffsetCommit),
        Case<OffsetFetchRequest>(ApiKey.OffsetFetch), Case<OffsetFetchResponse>(ApiKey.OffsetFetch),
        Case<ListGroupsRequest>(ApiKey.ListGroups), Case<ListGroupsResponse>(ApiKey.ListGroups),
        Case<DescribeGroupsRequest>(ApiKey.DescribeGroups), Case<DescribeGroupsResponse>(ApiKey.DescribeGroups),
        Case<InitProducerIdRequest>(ApiKey.InitProducerId), Case<InitProducerIdResponse>(ApiKey.InitProducerId),
        Case<OffsetForLeaderEpochRequest>(ApiKey.OffsetForLeaderEpoch), Case<OffsetForLeaderEpochResponse>(ApiKey.OffsetForLeaderEpoch),
    ];

    public static MessageCase Get(string name) => All.Single(c => c.Name == name);

    /// <summary>(message name, version) for every message at every advertised version.</summary>
    public static TheoryData<string, short> EveryVersion()
    {
        var data = new TheoryData<string, short>();
        foreach (MessageCase c in All)
        {
            foreach (short version in c.Versions)
            {
                data.Add(c.Name, version);
            }
        }

        return data;
    }

    public static byte[] Encode(IKafkaMessage message, short version)
    {
        var buffer = new ArrayBufferWriter<byte>();
        var writer = new KafkaWriter(buffer);
        message.Write(ref writer, version);
        Assert.Equal(buffer.WrittenCount, writer.BytesWritten);
        var measure = KafkaWriter.CreateMeasuring();
        message.Write(ref measure, version);
        Assert.Equal(buffer.WrittenCount, measure.BytesWritten);
        return buffer.WrittenSpan.ToArray();
    }

    private static MessageCase Case<T>(ApiKey apiKey)
        where T : IKafkaMessage<T>
    {
        return new MessageCase(typeof(T), apiKey, (bytes, version) =>
        {
            var reader = new KafkaReader(bytes);
            T message = T.Read(ref reader, version);
            Assert.Equal(apiKey, message.ApiKey);
            return (message, reader.Remaining);
        });
    }
}

/// <summary>
/// Which fields each version carries, written down from Kafka's message definitions independently of the codec: a
/// field the codec writes in the wrong versions survives (or fails to survive) a round trip where this table says
/// otherwise. Fields not listed are in every advertised version.
/// </summary>
internal static class FieldVersions
{
    private static readonly Dictionary<string, (short Min, short Max)> Present = new()
    {
        ["ProduceResponse:PartitionProduceResponse.LogStartOffset"] = (5, short.MaxValue),
        ["ProduceResponse:PartitionProduceResponse.RecordErrors"] = (8, short.MaxValue),
        ["ProduceResponse:PartitionProduceResponse.ErrorMessage"] = (8, short.MaxValue),
        ["FetchRequest:FetchRequest.SessionId"] = (7, short.MaxValue),
        ["FetchRequest:FetchRequest.SessionEpoch"] = (7, short.MaxValue),
        ["FetchRequest:FetchRequest.ForgottenTopicsData"] = (7, short.MaxValue),
        ["FetchRequest:FetchRequest.RackId"] = (11, short.MaxValue),
        ["FetchRequest:FetchPartition.CurrentLeaderEpoch"] = (9, short.MaxValue),
        ["FetchRequest:FetchPartition.LogStartOffset"] = (5, short.MaxValue),
        ["FetchResponse:FetchResponse.ErrorCode"] = (7, short.MaxValue),
        ["FetchResponse:FetchResponse.SessionId"] = (7, short.MaxValue),
        ["FetchResponse:PartitionData.LogStartOffset"] = (5, short.MaxValue),
        ["FetchResponse:PartitionData.PreferredReadReplica"] = (11, short.MaxValue),
        ["ListOffsetsRequest:ListOffsetsRequest.IsolationLevel"] = (2, short.MaxValue),
        ["ListOffsetsRequest:ListOffsetsPartition.CurrentLeaderEpoch"] = (4, short.MaxValue),
        ["ListOffsetsResponse:ListOffsetsResponse.ThrottleTimeMs"] = (2, short.MaxValue),
        ["ListOffsetsResponse:ListOffsetsPartitionResponse.LeaderEpoch"] = (4, short.MaxValue),
        ["MetadataRequest:MetadataRequest.AllowAutoTopicCreation"] = (4, short.MaxValue),
        ["MetadataRequest:MetadataRequest.IncludeClusterAuthorizedOperations"] = (8, 10),
        ["MetadataRequest:MetadataRequest.IncludeTopicAuthorizedOperations"] = (8, short.MaxValue),
        ["MetadataResponse:MetadataResponse.ThrottleTimeMs"] = (3, short.MaxValue),
        ["MetadataResponse:MetadataResponse.ClusterId"] = (2, short.MaxValue),
        ["MetadataResponse:MetadataResponse.ControllerId"] = (1, short.MaxValue),
        ["MetadataResponse:MetadataResponse.ClusterAuthorizedOperations"] = (8, short.MaxValue),
        ["MetadataResponse:MetadataResponseBroker.Rack"] = (1, short.MaxValue),
        ["MetadataResponse:MetadataResponseTopic.IsInternal"] = (1, short.MaxValue),
        ["MetadataResponse:MetadataResponseTopic.TopicAuthorizedOperations"] = (8, short.MaxValue),
        ["MetadataResponse:MetadataResponsePartition.LeaderEpoch"] = (7, short.MaxValue),
        ["MetadataResponse:MetadataResponsePartition.OfflineReplicas"] = (5, short.MaxValue),
        ["ApiVersionsRequest:ApiVersionsRequest.ClientSoftwareName"] = (3, short.MaxValue),
        ["ApiVersionsRequest:ApiVersionsRequest.ClientSoftwareVersion"] = (3, short.MaxValue),
        ["ApiVersionsResponse:ApiVersionsResponse.ThrottleTimeMs"] = (1, short.MaxValue),
        ["ApiVersionsResponse:ApiVersionsResponse.SupportedFeatures"] = (3, short.MaxValue),
        ["ApiVersionsResponse:ApiVersionsResponse.FinalizedFeaturesEpoch"] = (3, short.MaxValue),
        ["ApiVersionsResponse:ApiVersionsResponse.FinalizedFeatures"] = (3, short.MaxValue),
        ["ApiVersionsResponse:ApiVersionsResponse.ZkMigrationReady"] = (3, short.MaxValue),
        ["CreateTopicsRequest:CreateTopicsRequest.ValidateOnly"] = (1, short.MaxValue),
        ["CreateTopicsResponse:CreateTopicsResponse.ThrottleTimeMs"] = (2, short.MaxValue),
        ["CreateTopicsResponse:CreatableTopicResult.ErrorMessage"] = (1, short.MaxValue),
        ["DeleteTopicsResponse:DeleteTopicsResponse.ThrottleTimeMs"] = (1, short.MaxValue),
        ["FindCoordinatorRequest:FindCoordinatorRequest.KeyType"] = (1, short.MaxValue),
        ["FindCoordinatorResponse:FindCoordinatorResponse.ThrottleTimeMs"] = (1, short.MaxValue),
        ["FindCoordinatorResponse:FindCoordinatorResponse.ErrorMessage"] = (1, short.MaxValue),
        ["JoinGroupRequest:JoinGroupRequest.RebalanceTimeoutMs"] = (1, short.MaxValue),
        ["JoinGroupRequest:JoinGroupRequest.GroupInstanceId"] = (5, short.MaxValue),
        ["JoinGroupResponse:JoinGroupResponse.ThrottleTimeMs"] = (2, short.MaxValue),
        ["JoinGroupResponse:JoinGroupResponseMember.GroupInstanceId"] = (5, short.MaxValue),
        ["SyncGroupRequest:SyncGroupRequest.GroupInstanceId"] = (3, short.MaxValue),
        ["SyncGroupResponse:SyncGroupResponse.ThrottleTimeMs"] = (1, short.MaxValue),
        ["HeartbeatRequest:HeartbeatRequest.GroupInstanceId"] = (3, short.MaxValue),
        ["HeartbeatResponse:HeartbeatResponse.ThrottleTimeMs"] = (1, short.MaxValue),
        ["LeaveGroupRequest:LeaveGroupRequest.MemberId"] = (0, 2),
        ["LeaveGroupRequest:LeaveGroupRequest.Members"] = (3, short.MaxValue),
        ["LeaveGroupResponse:LeaveGroupResponse.ThrottleTimeMs"] = (1, short.MaxValue),
        ["LeaveGroupResponse:LeaveGroupResponse.Members"] = (3, short.MaxValue),
        ["OffsetCommitRequest:OffsetCommitRequest.GroupInstanceId"] = (7, short.MaxValue),
        ["OffsetCommitRequest:OffsetCommitRequest.RetentionTimeMs"] = (2, 4),
        ["OffsetCommitRequest:OffsetCommitRequestPartition.CommittedLeaderEpoch"] = (6, short.MaxValue),
        ["OffsetCommitResponse:OffsetCommitResponse.ThrottleTimeMs"] = (3, short.MaxValue),
        ["OffsetFetchResponse:OffsetFetchResponse.ThrottleTimeMs"] = (3, short.MaxValue),
        ["OffsetFetchResponse:OffsetFetchResponse.ErrorCode"] = (2, 7),
        ["OffsetFetchResponse:OffsetFetchResponsePartition.CommittedLeaderEpoch"] = (5, 7),
        ["ListGroupsResponse:ListGroupsResponse.ThrottleTimeMs"] = (1, short.MaxValue),
        ["DescribeGroupsRequest:DescribeGroupsRequest.IncludeAuthorizedOperations"] = (3, short.MaxValue),
        ["DescribeGroupsResponse:DescribeGroupsResponse.ThrottleTimeMs"] = (1, short.MaxValue),
        ["DescribeGroupsResponse:DescribedGroupMember.GroupInstanceId"] = (4, short.MaxValue),
        ["DescribeGroupsResponse:DescribedGroup.AuthorizedOperations"] = (3, short.MaxValue),
        ["OffsetForLeaderEpochRequest:OffsetForLeaderEpochRequest.ReplicaId"] = (3, short.MaxValue),
        ["OffsetForLeaderEpochRequest:OffsetForLeaderPartition.CurrentLeaderEpoch"] = (2, short.MaxValue),
        ["OffsetForLeaderEpochResponse:OffsetForLeaderEpochResponse.ThrottleTimeMs"] = (2, short.MaxValue),
        ["OffsetForLeaderEpochResponse:EpochEndOffset.LeaderEpoch"] = (1, short.MaxValue),
    };

    /// <summary>Nullable fields that may be null only from some version on (earlier versions have no null).</summary>
    private static readonly Dictionary<string, short> NullableFrom = new()
    {
        ["OffsetFetchRequest:OffsetFetchRequest.Topics"] = 2,
    };

    public static string Key(Type root, PropertyInfo property) => $"{root.Name}:{property.DeclaringType!.Name}.{property.Name}";

    public static bool IsPresent(Type root, PropertyInfo property, short version) =>
        !Present.TryGetValue(Key(root, property), out var range) || (version >= range.Min && version <= range.Max);

    public static bool MayBeNull(Type root, PropertyInfo property, short version) =>
        !NullableFrom.TryGetValue(Key(root, property), out short from) || version >= from;
}

/// <summary>Fills every settable property with a random value different from the type's default.</summary>
internal sealed class MessageFiller(Random random, Type root, short version)
{
    private static readonly string[] Words = ["a", "topic", "grüße", "鍵", "x-y.z_0", "consumer", ""];

    public object Fill(Type type)
    {
        object instance = Activator.CreateInstance(type)!;
        object defaults = Activator.CreateInstance(type)!;
        foreach (PropertyInfo property in Settable(type))
        {
            property.SetValue(instance, Value(property, property.GetValue(defaults)));
        }

        return instance;
    }

    public static IEnumerable<PropertyInfo> Settable(Type type) =>
        type.GetProperties(BindingFlags.Public | BindingFlags.Instance).Where(p => p.CanWrite && p.SetMethod!.IsPublic);

    private object? Value(PropertyInfo property, object? defaultValue)
    {
        // NullabilityInfoContext is not thread-safe and CsCheck samples in parallel: one per call.
        bool nullable = new NullabilityInfoContext().Create(property).WriteState == NullabilityState.Nullable
            && FieldVersions.MayBeNull(root, property, version);
        if (nullable && random.Next(4) == 0)
        {
            return null;
        }

        Type type = Nullable.GetUnderlyingType(property.PropertyType) ?? property.PropertyType;
        return NonDefault(type, defaultValue);
    }

    private object NonDefault(Type type, object? defaultValue)
    {
        for (int attempt = 0; ; attempt++)
        {
            object value = Random(type);
            if (!Equals(value, defaultValue) || attempt > 10)
            {
                return value;
            }
        }
    }

    private object Random(Type type)
    {
        if (type == typeof(int))
        {
            return random.Next(int.MinValue, int.MaxValue);
        }

        if (type == typeof(long))
        {
            return random.NextInt64(long.MinValue, long.MaxValue);
        }

        if (type == typeof(short))
        {
            return (short)random.Next(short.MinValue, short.MaxValue);
        }

        if (type == typeof(sbyte))
        {
            return (sbyte)random.Next(sbyte.MinValue, sbyte.MaxValue);
        }

        if (type == typeof(bool))
        {
            return random.Next(2) == 0;
        }

        if (type == typeof(ErrorCode))
        {
            return (ErrorCode)random.Next(1, 120);
        }

        if (type == typeof(ApiKey))
        {
            return (ApiKey)random.Next(0, 80);
        }

        if (type == typeof(string))
        {
            // Non-empty, sometimes multi-byte: a length counted in chars instead of UTF-8 bytes breaks the round trip.
            return Words[random.Next(Words.Length - 1)] + random.Next(1000);
        }

        if (type == typeof(ReadOnlyMemory<byte>))
        {
            byte[] bytes = new byte[random.Next(1, 40)];
            random.NextBytes(bytes);
            return new ReadOnlyMemory<byte>(bytes);
        }

        if (type.IsGenericType && type.GetGenericTypeDefinition() == typeof(List<>))
        {
            Type element = type.GetGenericArguments()[0];
            var list = (IList)Activator.CreateInstance(type)!;
            int count = random.Next(1, 4);
            for (int i = 0; i < count; i++)
            {
                list.Add(element.IsClass && element != typeof(string) ? Fill(element) : Random(element));
            }

            return list;
        }

        if (type.IsClass)
        {
            return Fill(type);
        }

        throw new NotSupportedException($"No generator for {type}.");
    }
}

/// <summary>Compares a message read back after a round trip with the one written, field by field.</summary>
internal static class MessageComparer
{
    /// <summary>
    /// Every field present in <paramref name="version"/> must equal the written value; every absent field must come
    /// back with its default, since the codec must neither write nor invent it.
    /// </summary>
    public static void AssertRoundTripped(Type root, short version, object expected, object actual, string path = "")
    {
        Type type = expected.GetType();
        Assert.Equal(type, actual.GetType());
        object defaults = Activator.CreateInstance(type)!;
        foreach (PropertyInfo property in MessageFiller.Settable(type))
        {
            string where = $"{path}{type.Name}.{property.Name} (v{version})";
            object? want = FieldVersions.IsPresent(root, property, version) ? property.GetValue(expected) : property.GetValue(defaults);
            AssertValue(root, version, want, property.GetValue(actual), where);
        }
    }

    private static void AssertValue(Type root, short version, object? want, object? got, string where)
    {
        switch (want)
        {
            case null:
                Assert.True(got is null, $"{where}: expected null, got {got}");
                break;
            case ReadOnlyMemory<byte> bytes:
                Assert.True(got is ReadOnlyMemory<byte>, $"{where}: expected bytes, got {got ?? "null"}");
                Assert.True(bytes.Span.SequenceEqual(((ReadOnlyMemory<byte>)got!).Span), $"{where}: bytes differ");
                break;
            case IList list:
                var other = Assert.IsAssignableFrom<IList>(got);
                Assert.True(list.Count == other.Count, $"{where}: {list.Count} elements written, {other.Count} read");
                for (int i = 0; i < list.Count; i++)
                {
                    AssertValue(root, version, list[i], other[i], $"{where}[{i}]");
                }

                break;
            case string or ValueType:
                Assert.True(Equals(want, got), $"{where}: expected {want}, got {got ?? "null"}");
                break;
            default:
                Assert.NotNull(got);
                AssertRoundTripped(root, version, want, got!, where + ".");
                break;
        }
    }
}
