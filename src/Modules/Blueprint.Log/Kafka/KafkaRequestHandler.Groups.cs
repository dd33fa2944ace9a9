using Blueprint.Log.Cluster;
using Blueprint.Log.Groups;
using Blueprint.Log.Kafka.Protocol;

namespace Blueprint.Log.Kafka;

/// <summary>The classic consumer-group protocol, translated onto the <see cref="GroupCoordinator"/>.</summary>
public sealed partial class KafkaRequestHandler
{
    private FindCoordinatorResponse FindCoordinator(FindCoordinatorRequest request)
    {
        if (request.KeyType != 0)
        {
            return new FindCoordinatorResponse
            {
                ErrorCode = ErrorCode.CoordinatorNotAvailable,
                ErrorMessage = "transactions are not served by this broker",
                NodeId = -1,
                Host = "",
                Port = -1,
            };
        }

        var coordinator = CoordinatorId();
        if (coordinator == broker.Options.BrokerId)
        {
            return new FindCoordinatorResponse { ErrorCode = ErrorCode.None, NodeId = coordinator, Host = broker.AdvertisedHost, Port = broker.Options.KafkaPort };
        }

        return broker.Cluster?.Image.Brokers.TryGetValue(coordinator, out var registered) == true
            ? new FindCoordinatorResponse { ErrorCode = ErrorCode.None, NodeId = coordinator, Host = registered.Host, Port = registered.Port }
            : new FindCoordinatorResponse { ErrorCode = ErrorCode.CoordinatorNotAvailable, ErrorMessage = "no broker is live yet", NodeId = -1, Host = "", Port = -1 };
    }

    /// <summary>
    /// The broker that coordinates every group: this one alone, or in a cluster the live broker with the smallest id.
    /// Group state and committed offsets stay on that broker (they are not replicated).
    /// </summary>
    private int CoordinatorId() =>
        broker.Cluster is { } cluster
            ? cluster.Image.LiveBrokers.Select(registered => registered.Id).DefaultIfEmpty(-1).Min()
            : broker.Options.BrokerId;

    private async ValueTask<JoinGroupResponse> JoinGroupAsync(JoinGroupRequest request, RequestHeader header, KafkaClient client, CancellationToken cancellationToken)
    {
        var result = await broker.Groups.JoinAsync(
            new JoinGroupCall(
                request.GroupId,
                request.MemberId,
                request.GroupInstanceId,
                header.ClientId ?? "",
                client.Host,
                TimeSpan.FromMilliseconds(request.SessionTimeoutMs),
                // Before v1 there was no rebalance timeout: the session timeout served for both.
                TimeSpan.FromMilliseconds(request.RebalanceTimeoutMs > 0 ? request.RebalanceTimeoutMs : request.SessionTimeoutMs),
                request.ProtocolType,
                [.. request.Protocols.Select(protocol => (protocol.Name, protocol.Metadata.ToArray()))],
                RequireKnownMemberId: header.ApiVersion >= 4),
            cancellationToken).ConfigureAwait(false);
        var response = new JoinGroupResponse
        {
            ErrorCode = result.Error,
            GenerationId = result.GenerationId,
            ProtocolName = result.ProtocolName ?? "",
            Leader = result.LeaderId ?? "",
            MemberId = result.MemberId ?? "",
        };
        foreach (var member in result.Members)
        {
            response.Members.Add(new() { MemberId = member.MemberId, GroupInstanceId = member.GroupInstanceId, Metadata = member.Metadata });
        }

        return response;
    }

    private async ValueTask<SyncGroupResponse> SyncGroupAsync(SyncGroupRequest request, CancellationToken cancellationToken)
    {
        var result = await broker.Groups.SyncAsync(
            new SyncGroupCall(
                request.GroupId,
                request.GenerationId,
                request.MemberId,
                request.GroupInstanceId,
                ProtocolType: null,
                ProtocolName: null,
                [.. request.Assignments.Select(assignment => (assignment.MemberId, assignment.Assignment.ToArray()))]),
            cancellationToken).ConfigureAwait(false);
        return new SyncGroupResponse { ErrorCode = result.Error, Assignment = result.Assignment ?? [] };
    }

    private HeartbeatResponse Heartbeat(HeartbeatRequest request) =>
        new() { ErrorCode = broker.Groups.Heartbeat(request.GroupId, request.GenerationId, request.MemberId, request.GroupInstanceId) };

    private LeaveGroupResponse LeaveGroup(LeaveGroupRequest request, short version)
    {
        IReadOnlyList<(string MemberId, string? GroupInstanceId)> members = version >= 3
            ? [.. request.Members.Select(member => (member.MemberId, member.GroupInstanceId))]
            : [(request.MemberId, null)];
        var result = broker.Groups.Leave(request.GroupId, members);
        var response = new LeaveGroupResponse { ErrorCode = result.Error };
        foreach (var member in result.Members)
        {
            response.Members.Add(new() { MemberId = member.MemberId, GroupInstanceId = member.GroupInstanceId, ErrorCode = member.Error });
        }

        return response;
    }

    private async ValueTask<OffsetCommitResponse> OffsetCommitAsync(OffsetCommitRequest request, CancellationToken cancellationToken)
    {
        var offsets = new List<OffsetCommitEntry>();
        var response = new OffsetCommitResponse();
        foreach (var topic in request.Topics)
        {
            foreach (var partition in topic.Partitions)
            {
                var known = broker.Topics.TryGet(topic.Name, out var found) && partition.PartitionIndex >= 0 && partition.PartitionIndex < found.Partitions.Count;
                if (known)
                {
                    offsets.Add(new OffsetCommitEntry(topic.Name, partition.PartitionIndex, partition.CommittedOffset, partition.CommittedLeaderEpoch, partition.CommittedMetadata));
                }
            }
        }

        var results = await broker.Groups.CommitOffsetsAsync(
            new OffsetCommitCall(request.GroupId, request.GenerationId, request.MemberId, request.GroupInstanceId, offsets),
            cancellationToken).ConfigureAwait(false);
        var byPartition = results.ToDictionary(result => (result.Topic, result.Partition), result => result.Error);
        if (broker.Cluster is { } cluster)
        {
            // In a cluster a commit is answered once the metadata quorum holds it: the next coordinator has it.
            var accepted = offsets.Where(entry => byPartition.GetValueOrDefault((entry.Topic, entry.Partition)) == ErrorCode.None)
                .Select(entry => new GroupOffset(request.GroupId, entry.Topic, entry.Partition, entry.Offset, entry.LeaderEpoch, entry.Metadata ?? ""))
                .ToList();
            if (accepted.Count > 0)
            {
                var replicated = await cluster.ProposeAsync(new CommitOffsets(request.GroupId, accepted), cancellationToken).ConfigureAwait(false);
                if (replicated.Error != ErrorCode.None)
                {
                    foreach (var entry in accepted)
                    {
                        byPartition[(entry.Topic, entry.Partition)] = ErrorCode.NotCoordinator;
                    }
                }
            }
        }

        foreach (var topic in request.Topics)
        {
            var topicAnswer = new OffsetCommitResponse.OffsetCommitResponseTopic { Name = topic.Name };
            response.Topics.Add(topicAnswer);
            foreach (var partition in topic.Partitions)
            {
                var error = byPartition.TryGetValue((topic.Name, partition.PartitionIndex), out var code) ? code : ErrorCode.UnknownTopicOrPartition;
                topicAnswer.Partitions.Add(new() { PartitionIndex = partition.PartitionIndex, ErrorCode = error });
            }
        }

        return response;
    }

    private OffsetFetchResponse OffsetFetch(OffsetFetchRequest request)
    {
        IReadOnlyList<(string Topic, IReadOnlyList<int> Partitions)>? wanted = request.Topics is null
            ? null
            : [.. request.Topics.Select(topic => (topic.Name, (IReadOnlyList<int>)[.. topic.PartitionIndexes]))];
        var result = broker.Cluster is { } cluster ? ReplicatedOffsets(cluster.Image, request.GroupId, wanted) : broker.Groups.FetchOffsets(request.GroupId, wanted);
        var response = new OffsetFetchResponse { ErrorCode = result.Error };
        foreach (var topic in result.Offsets.GroupBy(offset => offset.Topic, StringComparer.Ordinal))
        {
            var topicAnswer = new OffsetFetchResponse.OffsetFetchResponseTopic { Name = topic.Key };
            response.Topics.Add(topicAnswer);
            foreach (var partition in topic)
            {
                topicAnswer.Partitions.Add(new()
                {
                    PartitionIndex = partition.Partition,
                    CommittedOffset = partition.Offset,
                    CommittedLeaderEpoch = partition.LeaderEpoch,
                    Metadata = partition.Metadata ?? "",
                    ErrorCode = partition.Error,
                });
            }
        }

        return response;
    }

    /// <summary>A group's committed offsets as the metadata quorum holds them (every commit acknowledged in the cluster).</summary>
    private static OffsetFetchResult ReplicatedOffsets(MetadataImage image, string groupId, IReadOnlyList<(string Topic, IReadOnlyList<int> Partitions)>? wanted)
    {
        static FetchedOffset Found(GroupOffset offset) => new(offset.Topic, offset.Partition, offset.Offset, offset.LeaderEpoch, offset.Metadata, ErrorCode.None);
        if (wanted is null)
        {
            return new OffsetFetchResult(ErrorCode.None, [.. image.Offsets.Values.Where(offset => offset.Group == groupId).OrderBy(offset => offset.Topic, StringComparer.Ordinal).ThenBy(offset => offset.Partition).Select(Found)]);
        }

        return new OffsetFetchResult(ErrorCode.None, [.. wanted.SelectMany(topic => topic.Partitions.Select(partition =>
            image.Offsets.TryGetValue((groupId, topic.Topic, partition), out var offset) ? Found(offset) : new FetchedOffset(topic.Topic, partition, -1, -1, "", ErrorCode.None)))]);
    }

    private ListGroupsResponse ListGroups()
    {
        var response = new ListGroupsResponse();
        foreach (var (groupId, protocolType, _) in broker.Groups.ListGroups())
        {
            response.Groups.Add(new() { GroupId = groupId, ProtocolType = protocolType });
        }

        return response;
    }

    private DescribeGroupsResponse DescribeGroups(DescribeGroupsRequest request)
    {
        var response = new DescribeGroupsResponse();
        foreach (var group in broker.Groups.DescribeGroups(request.Groups))
        {
            var described = new DescribeGroupsResponse.DescribedGroup
            {
                ErrorCode = group.ErrorCode,
                GroupId = group.GroupId,
                GroupState = group.State,
                ProtocolType = group.ProtocolType,
                ProtocolData = group.Protocol,
            };
            foreach (var member in group.Members)
            {
                described.Members.Add(new()
                {
                    MemberId = member.MemberId,
                    GroupInstanceId = member.GroupInstanceId,
                    ClientId = member.ClientId,
                    ClientHost = member.ClientHost,
                    MemberMetadata = member.Metadata,
                    MemberAssignment = member.Assignment,
                });
            }

            response.Groups.Add(described);
        }

        return response;
    }
}
