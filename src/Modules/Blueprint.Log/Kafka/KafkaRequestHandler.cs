using System.Buffers;
using Blueprint.Log.Broker;
using Blueprint.Log.Kafka.Protocol;
using Microsoft.Extensions.Logging;

namespace Blueprint.Log.Kafka;

/// <summary>
/// Turns one decoded Kafka request into the broker's work and writes the response (header and body, without the size
/// prefix). Split by concern: this file dispatches and serves ApiVersions, Metadata and topic administration; produce,
/// fetch and offsets, and the consumer groups have their own files.
/// </summary>
public sealed partial class KafkaRequestHandler(LogBroker broker, ProducerIds producerIds, TimeProvider time, ILogger<KafkaRequestHandler> logger)
{
    /// <summary>
    /// Handles one request frame and writes its response frame to <paramref name="output"/>; returns whether one was
    /// written (acks=0 produces have none). A failure of the broker's own is answered with Kafka's UnknownServerError
    /// for everything the request named, and the connection goes on.
    /// </summary>
    /// <exception cref="KafkaProtocolException">The frame cannot be decoded, or names an API or version this broker does not serve; the connection is closed.</exception>
    public async ValueTask<bool> HandleAsync(ReadOnlyMemory<byte> frame, IBufferWriter<byte> output, KafkaClient client, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(client);
        var reader = new KafkaReader(frame);
        var header = RequestHeader.Read(ref reader);
        if (!header.IsSupported)
        {
            if (header.ApiKey == ApiKey.ApiVersions)
            {
                // Kafka answers an ApiVersions it cannot read with a v0 response listing what it serves, so the client can retry (KIP-511).
                KafkaFrame.WriteApiVersionsUnsupported(output, header.CorrelationId);
                return true;
            }

            LogUnsupported(logger, client.Address, (short)header.ApiKey, header.ApiVersion);
            throw new KafkaProtocolException($"API key {(short)header.ApiKey} version {header.ApiVersion} is not served by this broker (ApiVersions lists what is)");
        }

        var request = ReadBody(header, reader);
        IKafkaMessage? response;
        try
        {
            response = await AnswerAsync(header, request, client, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            LogFailed(logger, e, header.ApiKey.ToString(), client.Address);
            response = request is ProduceRequest { Acks: 0 } ? null : KafkaErrorResponses.ForRequest(request, ErrorCode.UnknownServerError);
        }

        if (response is null)
        {
            return false;
        }

        KafkaFrame.WriteResponse(output, header, response);
        return true;
    }

    private static IKafkaMessage ReadBody(RequestHeader header, KafkaReader reader)
    {
        var version = header.ApiVersion;
        IKafkaMessage request = header.ApiKey switch
        {
            ApiKey.ApiVersions => ApiVersionsRequest.Read(ref reader, version),
            ApiKey.Metadata => MetadataRequest.Read(ref reader, version),
            ApiKey.Produce => ProduceRequest.Read(ref reader, version),
            ApiKey.Fetch => FetchRequest.Read(ref reader, version),
            ApiKey.ListOffsets => ListOffsetsRequest.Read(ref reader, version),
            ApiKey.CreateTopics => CreateTopicsRequest.Read(ref reader, version),
            ApiKey.DeleteTopics => DeleteTopicsRequest.Read(ref reader, version),
            ApiKey.InitProducerId => InitProducerIdRequest.Read(ref reader, version),
            ApiKey.FindCoordinator => FindCoordinatorRequest.Read(ref reader, version),
            ApiKey.JoinGroup => JoinGroupRequest.Read(ref reader, version),
            ApiKey.SyncGroup => SyncGroupRequest.Read(ref reader, version),
            ApiKey.Heartbeat => HeartbeatRequest.Read(ref reader, version),
            ApiKey.LeaveGroup => LeaveGroupRequest.Read(ref reader, version),
            ApiKey.OffsetCommit => OffsetCommitRequest.Read(ref reader, version),
            ApiKey.OffsetFetch => OffsetFetchRequest.Read(ref reader, version),
            ApiKey.ListGroups => ListGroupsRequest.Read(ref reader, version),
            ApiKey.DescribeGroups => DescribeGroupsRequest.Read(ref reader, version),
            ApiKey.OffsetForLeaderEpoch => OffsetForLeaderEpochRequest.Read(ref reader, version),
            _ => throw new KafkaProtocolException($"API key {(short)header.ApiKey} is listed as served but has no handler"),
        };
        return request;
    }

    private async ValueTask<IKafkaMessage?> AnswerAsync(RequestHeader header, IKafkaMessage request, KafkaClient client, CancellationToken cancellationToken) => request switch
    {
        // In a cluster one broker coordinates the groups; the others send their clients there (FindCoordinator).
        JoinGroupRequest or SyncGroupRequest or HeartbeatRequest or LeaveGroupRequest or OffsetCommitRequest or OffsetFetchRequest or DescribeGroupsRequest
            when CoordinatorId() != broker.Options.BrokerId => KafkaErrorResponses.ForRequest(request, ErrorCode.NotCoordinator),
        ApiVersionsRequest => ApiVersionsResponse.CreateSupported(),
        MetadataRequest metadata => await MetadataAsync(metadata, header.ApiVersion, cancellationToken).ConfigureAwait(false),
        ProduceRequest produce => await ProduceAsync(produce, cancellationToken).ConfigureAwait(false) is var produced && produce.Acks == 0 ? null : produced,
        FetchRequest fetch => await FetchAsync(fetch, cancellationToken).ConfigureAwait(false),
        ListOffsetsRequest listOffsets => ListOffsets(listOffsets),
        CreateTopicsRequest createTopics => await CreateTopicsAsync(createTopics, cancellationToken).ConfigureAwait(false),
        DeleteTopicsRequest deleteTopics => await DeleteTopicsAsync(deleteTopics, cancellationToken).ConfigureAwait(false),
        InitProducerIdRequest initProducerId => InitProducerId(initProducerId),
        FindCoordinatorRequest findCoordinator => FindCoordinator(findCoordinator),
        JoinGroupRequest joinGroup => await JoinGroupAsync(joinGroup, header, client, cancellationToken).ConfigureAwait(false),
        SyncGroupRequest syncGroup => await SyncGroupAsync(syncGroup, cancellationToken).ConfigureAwait(false),
        HeartbeatRequest heartbeat => Heartbeat(heartbeat),
        LeaveGroupRequest leaveGroup => LeaveGroup(leaveGroup, header.ApiVersion),
        OffsetCommitRequest offsetCommit => await OffsetCommitAsync(offsetCommit, cancellationToken).ConfigureAwait(false),
        OffsetFetchRequest offsetFetch => OffsetFetch(offsetFetch),
        ListGroupsRequest => ListGroups(),
        DescribeGroupsRequest describeGroups => DescribeGroups(describeGroups),
        OffsetForLeaderEpochRequest offsetForLeaderEpoch => OffsetForLeaderEpoch(offsetForLeaderEpoch),
        _ => throw new KafkaProtocolException($"API key {(short)header.ApiKey} has no handler"),
    };

    [LoggerMessage(Level = LogLevel.Error, Message = "{Api} from {Client} failed; answered with UnknownServerError")]
    private static partial void LogFailed(ILogger logger, Exception exception, string api, string client);

    [LoggerMessage(Level = LogLevel.Warning, Message = "client {Client} sent API key {ApiKey} version {Version}, which this broker does not serve")]
    private static partial void LogUnsupported(ILogger logger, string client, short apiKey, short version);
}
