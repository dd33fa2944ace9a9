namespace Blueprint.Log.Kafka.Protocol;

/// <summary>
/// Error responses built the way Kafka's <c>AbstractRequest.getErrorResponse</c> builds them: the same error for
/// everything the request asked about.
/// </summary>
/// <remarks>
/// <para>Write the result with <see cref="KafkaFrame.WriteResponse(System.Buffers.IBufferWriter{byte}, RequestHeader, IKafkaMessage)"/>
/// at the request's version. Exceptions that are not covered here:</para>
/// <list type="bullet">
/// <item>An ApiVersions request of an unsupported version gets <see cref="KafkaFrame.WriteApiVersionsUnsupported"/>.</item>
/// <item>Any other API or version the broker does not speak, and any body that fails to parse: Kafka closes the
/// connection, since the client cannot read a response it did not expect; so should the broker.</item>
/// <item>A Produce request with acks 0 gets no response at all, error or not.</item>
/// </list>
/// </remarks>
public static class KafkaErrorResponses
{
    /// <summary>
    /// The error response to a request known only by its header — the body is unread or unreadable — for the APIs
    /// whose response carries a top-level error code: ApiVersions, FindCoordinator, JoinGroup, SyncGroup, Heartbeat,
    /// LeaveGroup, ListGroups, InitProducerId, Fetch from version 7 and OffsetFetch from version 2. Null for the others
    /// (Produce, Fetch 4–6, ListOffsets, Metadata, CreateTopics, DeleteTopics, OffsetCommit, OffsetFetch 1,
    /// DescribeGroups, OffsetForLeaderEpoch), whose errors are per topic, partition or group and need the parsed request
    /// (<see cref="ForRequest"/>), and for APIs or versions the broker does not speak.
    /// </summary>
    /// <param name="header">The request's header.</param>
    /// <param name="error">The error to report.</param>
    public static IKafkaMessage? ForHeader(RequestHeader header, ErrorCode error)
    {
        ArgumentNullException.ThrowIfNull(header);
        if (!header.IsSupported)
        {
            return null;
        }

        return header.ApiKey switch
        {
            ApiKey.ApiVersions => ForRequest(new ApiVersionsRequest(), error),
            ApiKey.FindCoordinator => ForRequest(new FindCoordinatorRequest(), error),
            ApiKey.JoinGroup => ForRequest(new JoinGroupRequest(), error),
            ApiKey.SyncGroup => ForRequest(new SyncGroupRequest(), error),
            ApiKey.Heartbeat => ForRequest(new HeartbeatRequest(), error),
            ApiKey.LeaveGroup => ForRequest(new LeaveGroupRequest(), error),
            ApiKey.ListGroups => ForRequest(new ListGroupsRequest(), error),
            ApiKey.InitProducerId => ForRequest(new InitProducerIdRequest(), error),
            ApiKey.Fetch when header.ApiVersion >= 7 => ForRequest(new FetchRequest(), error),
            ApiKey.OffsetFetch when header.ApiVersion >= 2 => ForRequest(new OffsetFetchRequest { Topics = null }, error),
            _ => null,
        };
    }

    /// <summary>
    /// The error response to a parsed request: <paramref name="error"/> at the top level where the response has one,
    /// and for every topic, partition or group the request named.
    /// </summary>
    /// <param name="request">A request read by one of this namespace's codecs.</param>
    /// <param name="error">The error to report.</param>
    /// <exception cref="ArgumentException"><paramref name="request"/> is not one of the implemented requests.</exception>
    public static IKafkaMessage ForRequest(IKafkaMessage request, ErrorCode error) => request switch
    {
        ProduceRequest produce => Produce(produce, error),
        FetchRequest fetch => Fetch(fetch, error),
        ListOffsetsRequest listOffsets => ListOffsets(listOffsets, error),
        MetadataRequest metadata => Metadata(metadata, error),
        OffsetCommitRequest offsetCommit => OffsetCommit(offsetCommit, error),
        OffsetFetchRequest offsetFetch => OffsetFetch(offsetFetch, error),
        OffsetForLeaderEpochRequest offsetForLeaderEpoch => OffsetForLeaderEpoch(offsetForLeaderEpoch, error),
        CreateTopicsRequest createTopics => new CreateTopicsResponse
        {
            Topics = [.. createTopics.Topics.Select(topic => new CreateTopicsResponse.CreatableTopicResult { Name = topic.Name, ErrorCode = error })],
        },
        DeleteTopicsRequest deleteTopics => new DeleteTopicsResponse
        {
            Responses = [.. deleteTopics.TopicNames.Select(name => new DeleteTopicsResponse.DeletableTopicResult { Name = name, ErrorCode = error })],
        },
        DescribeGroupsRequest describeGroups => new DescribeGroupsResponse
        {
            Groups = [.. describeGroups.Groups.Select(id => new DescribeGroupsResponse.DescribedGroup { GroupId = id, ErrorCode = error })],
        },
        ApiVersionsRequest => new ApiVersionsResponse { ErrorCode = error, ApiKeys = ApiVersionsResponse.CreateSupported().ApiKeys },
        FindCoordinatorRequest => new FindCoordinatorResponse { ErrorCode = error, NodeId = -1, Port = -1 },
        JoinGroupRequest => new JoinGroupResponse { ErrorCode = error },
        SyncGroupRequest => new SyncGroupResponse { ErrorCode = error },
        HeartbeatRequest => new HeartbeatResponse { ErrorCode = error },
        LeaveGroupRequest => new LeaveGroupResponse { ErrorCode = error },
        ListGroupsRequest => new ListGroupsResponse { ErrorCode = error },
        InitProducerIdRequest => new InitProducerIdResponse { ErrorCode = error, ProducerId = -1, ProducerEpoch = -1 },
        _ => throw new ArgumentException($"No error response is defined for {request?.GetType().Name ?? "null"}.", nameof(request)),
    };

    private static ProduceResponse Produce(ProduceRequest request, ErrorCode error) => new()
    {
        Responses =
        [
            .. request.Topics.Select(topic => new ProduceResponse.TopicProduceResponse
            {
                Name = topic.Name,
                Partitions =
                [
                    .. topic.Partitions.Select(partition => new ProduceResponse.PartitionProduceResponse
                    {
                        PartitionIndex = partition.PartitionIndex,
                        ErrorCode = error,
                        BaseOffset = -1,
                    }),
                ],
            }),
        ],
    };

    private static FetchResponse Fetch(FetchRequest request, ErrorCode error) => new()
    {
        ErrorCode = error,
        SessionId = 0,
        Responses =
        [
            .. request.Topics.Select(topic => new FetchResponse.FetchableTopicResponse
            {
                Topic = topic.Topic,
                Partitions =
                [
                    .. topic.Partitions.Select(partition => new FetchResponse.PartitionData
                    {
                        PartitionIndex = partition.Partition,
                        ErrorCode = error,
                        HighWatermark = -1,
                        Records = ReadOnlyMemory<byte>.Empty,
                    }),
                ],
            }),
        ],
    };

    private static ListOffsetsResponse ListOffsets(ListOffsetsRequest request, ErrorCode error) => new()
    {
        Topics =
        [
            .. request.Topics.Select(topic => new ListOffsetsResponse.ListOffsetsTopicResponse
            {
                Name = topic.Name,
                Partitions =
                [
                    .. topic.Partitions.Select(partition => new ListOffsetsResponse.ListOffsetsPartitionResponse
                    {
                        PartitionIndex = partition.PartitionIndex,
                        ErrorCode = error,
                    }),
                ],
            }),
        ],
    };

    private static MetadataResponse Metadata(MetadataRequest request, ErrorCode error) => new()
    {
        Topics = [.. (request.Topics ?? []).Select(topic => new MetadataResponse.MetadataResponseTopic { Name = topic.Name, ErrorCode = error })],
    };

    private static OffsetCommitResponse OffsetCommit(OffsetCommitRequest request, ErrorCode error) => new()
    {
        Topics =
        [
            .. request.Topics.Select(topic => new OffsetCommitResponse.OffsetCommitResponseTopic
            {
                Name = topic.Name,
                Partitions =
                [
                    .. topic.Partitions.Select(partition => new OffsetCommitResponse.OffsetCommitResponsePartition
                    {
                        PartitionIndex = partition.PartitionIndex,
                        ErrorCode = error,
                    }),
                ],
            }),
        ],
    };

    // Version 1 has no top-level error code, so the error also goes on every partition asked for; from version 2
    // clients read the top-level code first.
    private static OffsetFetchResponse OffsetFetch(OffsetFetchRequest request, ErrorCode error) => new()
    {
        ErrorCode = error,
        Topics =
        [
            .. (request.Topics ?? []).Select(topic => new OffsetFetchResponse.OffsetFetchResponseTopic
            {
                Name = topic.Name,
                Partitions =
                [
                    .. topic.PartitionIndexes.Select(index => new OffsetFetchResponse.OffsetFetchResponsePartition
                    {
                        PartitionIndex = index,
                        ErrorCode = error,
                    }),
                ],
            }),
        ],
    };

    // Kafka answers with an undefined epoch and offset (-1, -1) beside the error, the response's defaults.
    private static OffsetForLeaderEpochResponse OffsetForLeaderEpoch(OffsetForLeaderEpochRequest request, ErrorCode error) => new()
    {
        Topics =
        [
            .. request.Topics.Select(topic => new OffsetForLeaderEpochResponse.OffsetForLeaderTopicResult
            {
                Topic = topic.Topic,
                Partitions =
                [
                    .. topic.Partitions.Select(partition => new OffsetForLeaderEpochResponse.EpochEndOffset
                    {
                        Partition = partition.Partition,
                        ErrorCode = error,
                    }),
                ],
            }),
        ],
    };
}
