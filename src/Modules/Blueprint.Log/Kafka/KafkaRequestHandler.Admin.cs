using Blueprint.Log.Broker;
using Blueprint.Log.Kafka.Protocol;

namespace Blueprint.Log.Kafka;

/// <summary>Metadata, topic creation and deletion, and producer ids.</summary>
public sealed partial class KafkaRequestHandler
{
    private async ValueTask<MetadataResponse> MetadataAsync(MetadataRequest request, short version, CancellationToken cancellationToken)
    {
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

    private async ValueTask<CreateTopicsResponse> CreateTopicsAsync(CreateTopicsRequest request, CancellationToken cancellationToken)
    {
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

    private async ValueTask<DeleteTopicsResponse> DeleteTopicsAsync(DeleteTopicsRequest request, CancellationToken cancellationToken)
    {
        var response = new DeleteTopicsResponse();
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
