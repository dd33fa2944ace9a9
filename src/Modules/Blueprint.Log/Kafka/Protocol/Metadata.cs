namespace Blueprint.Log.Kafka.Protocol;

/// <summary>
/// Metadata request (key 3), versions 0–8. <see cref="Topics"/> null asks for every topic. Version 0 cannot send a
/// null array and means "every topic" by an empty one, so an empty version 0 array is read as null and null is
/// written as an empty array.
/// </summary>
public sealed class MetadataRequest : IKafkaMessage<MetadataRequest>
{
    /// <inheritdoc />
    public ApiKey ApiKey => ApiKey.Metadata;

    /// <summary>The topics to describe; null for all topics, empty for none (version 1+).</summary>
    public List<MetadataRequestTopic>? Topics { get; set; } = [];

    /// <summary>Whether the broker may create requested topics that do not exist (version 4+; earlier versions always allow it).</summary>
    public bool AllowAutoTopicCreation { get; set; } = true;

    /// <summary>Whether to include cluster authorized operations (version 8+).</summary>
    public bool IncludeClusterAuthorizedOperations { get; set; }

    /// <summary>Whether to include topic authorized operations (version 8+).</summary>
    public bool IncludeTopicAuthorizedOperations { get; set; }

    /// <inheritdoc />
    public static MetadataRequest Read(ref KafkaReader reader, short version)
    {
        bool flexible = ApiVersionTable.CheckRead(ApiKey.Metadata, version);
        var message = new MetadataRequest();
        int topicCount = version >= 1 ? reader.ReadArrayLength(flexible) : reader.ReadNonNullArrayLength(flexible);
        if (topicCount < 0 || (version == 0 && topicCount == 0))
        {
            message.Topics = null;
        }
        else
        {
            message.Topics = new List<MetadataRequestTopic>(topicCount);
            for (int i = 0; i < topicCount; i++)
            {
                message.Topics.Add(new MetadataRequestTopic { Name = reader.ReadString(flexible) });
                KafkaArrays.EndStruct(ref reader, flexible);
            }
        }

        if (version >= 4)
        {
            message.AllowAutoTopicCreation = reader.ReadBoolean();
        }

        if (version >= 8)
        {
            message.IncludeClusterAuthorizedOperations = reader.ReadBoolean();
            message.IncludeTopicAuthorizedOperations = reader.ReadBoolean();
        }

        KafkaArrays.EndStruct(ref reader, flexible);
        return message;
    }

    /// <inheritdoc />
    public void Write(ref KafkaWriter writer, short version)
    {
        bool flexible = ApiVersionTable.CheckWrite(ApiKey.Metadata, version);
        if (Topics is null)
        {
            writer.WriteArrayLength(version >= 1 ? -1 : 0, flexible);
        }
        else
        {
            writer.WriteArrayLength(Topics.Count, flexible);
            foreach (MetadataRequestTopic topic in Topics)
            {
                writer.WriteString(topic.Name, flexible);
                KafkaArrays.EndStruct(ref writer, flexible);
            }
        }

        if (version >= 4)
        {
            writer.WriteBoolean(AllowAutoTopicCreation);
        }

        if (version >= 8)
        {
            writer.WriteBoolean(IncludeClusterAuthorizedOperations);
            writer.WriteBoolean(IncludeTopicAuthorizedOperations);
        }

        KafkaArrays.EndStruct(ref writer, flexible);
    }

    /// <summary>One topic to describe.</summary>
    public sealed class MetadataRequestTopic
    {
        /// <summary>The topic name.</summary>
        public string Name { get; set; } = "";
    }
}

/// <summary>Metadata response (key 3), versions 0–8.</summary>
public sealed class MetadataResponse : IKafkaMessage<MetadataResponse>
{
    /// <summary>The "not provided" value of the authorized-operations bit fields.</summary>
    public const int AuthorizedOperationsOmitted = int.MinValue;

    /// <inheritdoc />
    public ApiKey ApiKey => ApiKey.Metadata;

    /// <summary>The time in milliseconds the request was throttled for (version 3+).</summary>
    public int ThrottleTimeMs { get; set; }

    /// <summary>Each broker in the response.</summary>
    public List<MetadataResponseBroker> Brokers { get; set; } = [];

    /// <summary>The cluster id, or null (version 2+).</summary>
    public string? ClusterId { get; set; }

    /// <summary>The id of the controller broker, or -1 (version 1+).</summary>
    public int ControllerId { get; set; } = -1;

    /// <summary>Each topic in the response.</summary>
    public List<MetadataResponseTopic> Topics { get; set; } = [];

    /// <summary>Bit field of the operations authorized on the cluster (version 8+).</summary>
    public int ClusterAuthorizedOperations { get; set; } = AuthorizedOperationsOmitted;

    /// <inheritdoc />
    public static MetadataResponse Read(ref KafkaReader reader, short version)
    {
        bool flexible = ApiVersionTable.CheckRead(ApiKey.Metadata, version);
        var message = new MetadataResponse();
        if (version >= 3)
        {
            message.ThrottleTimeMs = reader.ReadInt32();
        }

        int brokerCount = reader.ReadNonNullArrayLength(flexible);
        message.Brokers = new List<MetadataResponseBroker>(brokerCount);
        for (int i = 0; i < brokerCount; i++)
        {
            var broker = new MetadataResponseBroker
            {
                NodeId = reader.ReadInt32(),
                Host = reader.ReadString(flexible),
                Port = reader.ReadInt32(),
            };
            if (version >= 1)
            {
                broker.Rack = reader.ReadNullableString(flexible);
            }

            KafkaArrays.EndStruct(ref reader, flexible);
            message.Brokers.Add(broker);
        }

        if (version >= 2)
        {
            message.ClusterId = reader.ReadNullableString(flexible);
        }

        if (version >= 1)
        {
            message.ControllerId = reader.ReadInt32();
        }

        int topicCount = reader.ReadNonNullArrayLength(flexible);
        message.Topics = new List<MetadataResponseTopic>(topicCount);
        for (int i = 0; i < topicCount; i++)
        {
            var topic = new MetadataResponseTopic
            {
                ErrorCode = (ErrorCode)reader.ReadInt16(),
                Name = reader.ReadString(flexible),
            };
            if (version >= 1)
            {
                topic.IsInternal = reader.ReadBoolean();
            }

            int partitionCount = reader.ReadNonNullArrayLength(flexible);
            topic.Partitions = new List<MetadataResponsePartition>(partitionCount);
            for (int j = 0; j < partitionCount; j++)
            {
                var partition = new MetadataResponsePartition
                {
                    ErrorCode = (ErrorCode)reader.ReadInt16(),
                    PartitionIndex = reader.ReadInt32(),
                    LeaderId = reader.ReadInt32(),
                };
                if (version >= 7)
                {
                    partition.LeaderEpoch = reader.ReadInt32();
                }

                partition.ReplicaNodes = KafkaArrays.ReadInt32List(ref reader, flexible);
                partition.IsrNodes = KafkaArrays.ReadInt32List(ref reader, flexible);
                if (version >= 5)
                {
                    partition.OfflineReplicas = KafkaArrays.ReadInt32List(ref reader, flexible);
                }

                KafkaArrays.EndStruct(ref reader, flexible);
                topic.Partitions.Add(partition);
            }

            if (version >= 8)
            {
                topic.TopicAuthorizedOperations = reader.ReadInt32();
            }

            KafkaArrays.EndStruct(ref reader, flexible);
            message.Topics.Add(topic);
        }

        if (version >= 8)
        {
            message.ClusterAuthorizedOperations = reader.ReadInt32();
        }

        KafkaArrays.EndStruct(ref reader, flexible);
        return message;
    }

    /// <inheritdoc />
    public void Write(ref KafkaWriter writer, short version)
    {
        bool flexible = ApiVersionTable.CheckWrite(ApiKey.Metadata, version);
        if (version >= 3)
        {
            writer.WriteInt32(ThrottleTimeMs);
        }

        writer.WriteArrayLength(Brokers.Count, flexible);
        foreach (MetadataResponseBroker broker in Brokers)
        {
            writer.WriteInt32(broker.NodeId);
            writer.WriteString(broker.Host, flexible);
            writer.WriteInt32(broker.Port);
            if (version >= 1)
            {
                writer.WriteNullableString(broker.Rack, flexible);
            }

            KafkaArrays.EndStruct(ref writer, flexible);
        }

        if (version >= 2)
        {
            writer.WriteNullableString(ClusterId, flexible);
        }

        if (version >= 1)
        {
            writer.WriteInt32(ControllerId);
        }

        writer.WriteArrayLength(Topics.Count, flexible);
        foreach (MetadataResponseTopic topic in Topics)
        {
            writer.WriteInt16((short)topic.ErrorCode);
            writer.WriteString(topic.Name, flexible);
            if (version >= 1)
            {
                writer.WriteBoolean(topic.IsInternal);
            }

            writer.WriteArrayLength(topic.Partitions.Count, flexible);
            foreach (MetadataResponsePartition partition in topic.Partitions)
            {
                writer.WriteInt16((short)partition.ErrorCode);
                writer.WriteInt32(partition.PartitionIndex);
                writer.WriteInt32(partition.LeaderId);
                if (version >= 7)
                {
                    writer.WriteInt32(partition.LeaderEpoch);
                }

                KafkaArrays.WriteInt32List(ref writer, partition.ReplicaNodes, flexible);
                KafkaArrays.WriteInt32List(ref writer, partition.IsrNodes, flexible);
                if (version >= 5)
                {
                    KafkaArrays.WriteInt32List(ref writer, partition.OfflineReplicas, flexible);
                }

                KafkaArrays.EndStruct(ref writer, flexible);
            }

            if (version >= 8)
            {
                writer.WriteInt32(topic.TopicAuthorizedOperations);
            }

            KafkaArrays.EndStruct(ref writer, flexible);
        }

        if (version >= 8)
        {
            writer.WriteInt32(ClusterAuthorizedOperations);
        }

        KafkaArrays.EndStruct(ref writer, flexible);
    }

    /// <summary>One broker.</summary>
    public sealed class MetadataResponseBroker
    {
        /// <summary>The broker id.</summary>
        public int NodeId { get; set; }

        /// <summary>The host name clients connect to.</summary>
        public string Host { get; set; } = "";

        /// <summary>The port clients connect to.</summary>
        public int Port { get; set; }

        /// <summary>The broker's rack, or null (version 1+).</summary>
        public string? Rack { get; set; }
    }

    /// <summary>One topic.</summary>
    public sealed class MetadataResponseTopic
    {
        /// <summary>The topic error, or <see cref="ErrorCode.None"/>.</summary>
        public ErrorCode ErrorCode { get; set; }

        /// <summary>The topic name.</summary>
        public string Name { get; set; } = "";

        /// <summary>Whether the topic is internal (version 1+).</summary>
        public bool IsInternal { get; set; }

        /// <summary>Each partition in the topic.</summary>
        public List<MetadataResponsePartition> Partitions { get; set; } = [];

        /// <summary>Bit field of the operations authorized on the topic (version 8+).</summary>
        public int TopicAuthorizedOperations { get; set; } = AuthorizedOperationsOmitted;
    }

    /// <summary>One partition.</summary>
    public sealed class MetadataResponsePartition
    {
        /// <summary>The partition error, or <see cref="ErrorCode.None"/>.</summary>
        public ErrorCode ErrorCode { get; set; }

        /// <summary>The partition index.</summary>
        public int PartitionIndex { get; set; }

        /// <summary>The id of the leader broker.</summary>
        public int LeaderId { get; set; }

        /// <summary>The leader epoch, or -1 (version 7+).</summary>
        public int LeaderEpoch { get; set; } = -1;

        /// <summary>Every broker that hosts the partition.</summary>
        public List<int> ReplicaNodes { get; set; } = [];

        /// <summary>The brokers in sync with the leader.</summary>
        public List<int> IsrNodes { get; set; } = [];

        /// <summary>The offline replicas (version 5+).</summary>
        public List<int> OfflineReplicas { get; set; } = [];
    }
}
