using Blueprint.Log.Broker;
using Blueprint.Log.Cluster;
using Blueprint.Log.Kafka.Protocol;

namespace Blueprint.Log.Kafka;

/// <summary>Metadata, topic creation and deletion, and producer ids.</summary>
public sealed partial class KafkaRequestHandler
{
    private async ValueTask<MetadataResponse> MetadataAsync(MetadataRequest request, short version, CancellationToken cancellationToken)
    {
        if (broker.Cluster is { } cluster)
        {
            return await ClusterMetadataAsync(cluster, request, version, cancellationToken).ConfigureAwait(false);
        }

        var response = new MetadataResponse
        {
            ClusterId = broker.ClusterId,
            ControllerId = broker.Options.BrokerId,
        };
        response.Brokers.Add(new() { NodeId = broker.Options.BrokerId, Host = broker.AdvertisedHost, Port = broker.Options.KafkaPort });

        // A null list (v1+) or an empty one (v0) asks for every topic.
        var all = request.Topics is null || (version == 0 && request.Topics.Count == 0);
        if (all)
        {
            foreach (var topic in broker.Topics.All)
            {
                response.Topics.Add(Describe(topic));
            }

            return response;
        }

        var autoCreate = version < 4 || request.AllowAutoTopicCreation;
        foreach (var requested in request.Topics!)
        {
            var name = requested.Name ?? "";
            Topic? topic;
            if (TopicRegistry.ValidateName(name) is not null)
            {
                response.Topics.Add(new() { Name = name, ErrorCode = ErrorCode.InvalidTopicException });
                continue;
            }

            topic = autoCreate
                ? await broker.Topics.GetOrAutoCreateAsync(name, cancellationToken).ConfigureAwait(false)
                : broker.Topics.TryGet(name, out var existing) ? existing : null;
            response.Topics.Add(topic is null
                ? new() { Name = name, ErrorCode = ErrorCode.UnknownTopicOrPartition }
                : Describe(topic));
        }

        return response;
    }

    private MetadataResponse.MetadataResponseTopic Describe(Topic topic)
    {
        var self = broker.Options.BrokerId;
        var described = new MetadataResponse.MetadataResponseTopic
        {
            Name = topic.Name,
            IsInternal = topic.IsInternal,
        };
        foreach (var partition in topic.Partitions)
        {
            described.Partitions.Add(new()
            {
                PartitionIndex = partition.Index,
                LeaderId = self,
                LeaderEpoch = -1,
                ReplicaNodes = [self],
                IsrNodes = [self],
                OfflineReplicas = [],
            });
        }

        return described;
    }

    private async ValueTask<MetadataResponse> ClusterMetadataAsync(LogCluster cluster, MetadataRequest request, short version, CancellationToken cancellationToken)
    {
        var image = cluster.Image;
        // As KRaft brokers do, name this broker as the "controller": admin requests are served by any broker, which
        // proposes them to the metadata quorum (the real controller is the quorum's leader).
        var response = new MetadataResponse { ClusterId = broker.ClusterId, ControllerId = broker.Options.BrokerId };
        foreach (var registered in image.LiveBrokers)
        {
            response.Brokers.Add(new() { NodeId = registered.Id, Host = registered.Host, Port = registered.Port });
        }

        if (request.Topics is null || (version == 0 && request.Topics.Count == 0))
        {
            foreach (var topic in image.Topics.Values)
            {
                response.Topics.Add(Describe(image, topic));
            }

            return response;
        }

        var autoCreate = (version < 4 || request.AllowAutoTopicCreation) && broker.Options.AutoCreateTopics;
        foreach (var requested in request.Topics!)
        {
            var name = requested.Name ?? "";
            if (TopicRegistry.ValidateName(name) is not null)
            {
                response.Topics.Add(new() { Name = name, ErrorCode = ErrorCode.InvalidTopicException });
                continue;
            }

            if (!image.Topics.TryGetValue(name, out var topic) && autoCreate)
            {
                var created = await cluster.ProposeAsync(new CreateTopic(name, Guid.NewGuid(), broker.Options.DefaultPartitions, -1, []), cancellationToken).ConfigureAwait(false);
                if (created.Error is not (ErrorCode.None or ErrorCode.TopicAlreadyExists))
                {
                    response.Topics.Add(new() { Name = name, ErrorCode = created.Error });
                    continue;
                }

                image = await cluster.WaitForAsync(next => next.Topics.ContainsKey(name), cancellationToken).ConfigureAwait(false);
                image.Topics.TryGetValue(name, out topic);
            }

            response.Topics.Add(topic is null ? new() { Name = name, ErrorCode = autoCreate ? ErrorCode.LeaderNotAvailable : ErrorCode.UnknownTopicOrPartition } : Describe(image, topic));
        }

        return response;
    }

    private static MetadataResponse.MetadataResponseTopic Describe(MetadataImage image, TopicAssignment topic)
    {
        var described = new MetadataResponse.MetadataResponseTopic { Name = topic.Name, IsInternal = topic.Name.StartsWith("__", StringComparison.Ordinal) };
        for (var index = 0; index < topic.Partitions.Length; index++)
        {
            var partition = topic.Partitions[index];
            described.Partitions.Add(new()
            {
                ErrorCode = partition.Leader < 0 ? ErrorCode.LeaderNotAvailable : ErrorCode.None,
                PartitionIndex = index,
                LeaderId = partition.Leader,

                // Epochs stay unknown to clients: with one, librdkafka would validate positions with OffsetForLeaderEpoch
                // after every leader change, which this broker answers for followers only.
                LeaderEpoch = -1,
                ReplicaNodes = [.. partition.Replicas],
                IsrNodes = [.. partition.Isr],
                OfflineReplicas = [.. partition.Replicas.Where(replica => !image.Brokers.TryGetValue(replica, out var registered) || registered.Fenced)],
            });
        }

        return described;
    }

    private async ValueTask<CreateTopicsResponse> CreateTopicsAsync(CreateTopicsRequest request, CancellationToken cancellationToken)
    {
        if (broker.Cluster is { } cluster)
        {
            return await ClusterCreateTopicsAsync(cluster, request, cancellationToken).ConfigureAwait(false);
        }

        var response = new CreateTopicsResponse();
        foreach (var topic in request.Topics)
        {
            var configs = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var config in topic.Configs)
            {
                if (config.Value is not null)
                {
                    configs[config.Name] = config.Value;
                }
            }

            TopicCreation created;
            if (topic.Assignments.Count > 0)
            {
                created = new TopicCreation(ErrorCode.InvalidReplicaAssignment, "manual replica assignment is not supported; give a partition count", null);
            }
            else
            {
                created = await broker.Topics.CreateAsync(topic.Name, topic.NumPartitions, topic.ReplicationFactor, configs, request.ValidateOnly, cancellationToken).ConfigureAwait(false);
            }

            response.Topics.Add(new() { Name = topic.Name, ErrorCode = created.Error, ErrorMessage = created.Message });
        }

        return response;
    }

    private async ValueTask<CreateTopicsResponse> ClusterCreateTopicsAsync(LogCluster cluster, CreateTopicsRequest request, CancellationToken cancellationToken)
    {
        var response = new CreateTopicsResponse();
        foreach (var topic in request.Topics)
        {
            var configs = topic.Configs.Where(config => config.Value is not null).ToDictionary(config => config.Name, config => config.Value!, StringComparer.Ordinal);
            var partitions = topic.NumPartitions;
            var refused = topic.Assignments.Count > 0
                ? new TopicCreation(ErrorCode.InvalidReplicaAssignment, "manual replica assignment is not supported; give a partition count", null)
                : broker.Topics.Refusal(topic.Name, ref partitions, topic.ReplicationFactor, configs, MetadataStateMachine.MaxReplicationFactor);
            MetadataResult result;
            if (refused is not null)
            {
                result = new MetadataResult(refused.Error, refused.Message);
            }
            else if (cluster.Image.Topics.ContainsKey(topic.Name))
            {
                result = new MetadataResult(ErrorCode.TopicAlreadyExists, $"topic '{topic.Name}' already exists");
            }
            else if (request.ValidateOnly)
            {
                var live = cluster.Image.LiveBrokers.Count();
                result = topic.ReplicationFactor > live
                    ? new MetadataResult(ErrorCode.InvalidReplicationFactor, $"replication factor {topic.ReplicationFactor} is more than the {live} live brokers")
                    : MetadataResult.Ok;
            }
            else
            {
                result = await cluster.ProposeAsync(new CreateTopic(topic.Name, Guid.NewGuid(), partitions, topic.ReplicationFactor, configs), cancellationToken).ConfigureAwait(false);
                if (result.Error == ErrorCode.None)
                {
                    // The next Metadata from this client, on this broker, shows the topic.
                    await cluster.WaitForAsync(image => image.Topics.ContainsKey(topic.Name), cancellationToken).ConfigureAwait(false);
                }
            }

            response.Topics.Add(new() { Name = topic.Name, ErrorCode = result.Error, ErrorMessage = result.Message });
        }

        return response;
    }

    private async ValueTask<DeleteTopicsResponse> DeleteTopicsAsync(DeleteTopicsRequest request, CancellationToken cancellationToken)
    {
        var response = new DeleteTopicsResponse();
        if (broker.Cluster is { } cluster)
        {
            foreach (var name in request.TopicNames)
            {
                var result = await cluster.ProposeAsync(new DeleteTopic(name), cancellationToken).ConfigureAwait(false);
                if (result.Error == ErrorCode.None)
                {
                    await cluster.WaitForAsync(image => !image.Topics.ContainsKey(name), cancellationToken).ConfigureAwait(false);
                }

                response.Responses.Add(new() { Name = name, ErrorCode = result.Error });
            }

            return response;
        }

        foreach (var name in request.TopicNames)
        {
            var deleted = await broker.Topics.DeleteAsync(name, cancellationToken).ConfigureAwait(false);
            if (deleted)
            {
                broker.Groups.DeleteTopicOffsets(name);
            }

            response.Responses.Add(new() { Name = name, ErrorCode = deleted ? ErrorCode.None : ErrorCode.UnknownTopicOrPartition });
        }

        return response;
    }

    private InitProducerIdResponse InitProducerId(InitProducerIdRequest request)
    {
        if (request.TransactionalId is not null)
        {
            // Transactions (and their coordinator) are not served; an idempotent producer sends no transactional id.
            return new InitProducerIdResponse { ErrorCode = ErrorCode.InvalidRequest, ProducerId = -1, ProducerEpoch = -1 };
        }

        return new InitProducerIdResponse { ErrorCode = ErrorCode.None, ProducerId = producerIds.Next(), ProducerEpoch = 0 };
    }
}
