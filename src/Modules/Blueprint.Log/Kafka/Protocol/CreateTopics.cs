namespace Blueprint.Log.Kafka.Protocol;

/// <summary>CreateTopics request (key 19), versions 0–4.</summary>
public sealed class CreateTopicsRequest : IKafkaMessage<CreateTopicsRequest>
{
    /// <inheritdoc />
    public ApiKey ApiKey => ApiKey.CreateTopics;

    /// <summary>The topics to create.</summary>
    public List<CreatableTopic> Topics { get; set; } = [];

    /// <summary>How long to wait in milliseconds before timing out the request.</summary>
    public int TimeoutMs { get; set; } = 60000;

    /// <summary>Whether only to check that the topics could be created (version 1+).</summary>
    public bool ValidateOnly { get; set; }

    /// <inheritdoc />
    public static CreateTopicsRequest Read(ref KafkaReader reader, short version)
    {
        bool flexible = ApiVersionTable.CheckRead(ApiKey.CreateTopics, version);
        var message = new CreateTopicsRequest();
        int topicCount = reader.ReadNonNullArrayLength(flexible);
        message.Topics = new List<CreatableTopic>(topicCount);
        for (int i = 0; i < topicCount; i++)
        {
            var topic = new CreatableTopic
            {
                Name = reader.ReadString(flexible),
                NumPartitions = reader.ReadInt32(),
                ReplicationFactor = reader.ReadInt16(),
            };
            int assignmentCount = reader.ReadNonNullArrayLength(flexible);
            topic.Assignments = new List<CreatableReplicaAssignment>(assignmentCount);
            for (int j = 0; j < assignmentCount; j++)
            {
                topic.Assignments.Add(new CreatableReplicaAssignment
                {
                    PartitionIndex = reader.ReadInt32(),
                    BrokerIds = KafkaArrays.ReadInt32List(ref reader, flexible),
                });
                KafkaArrays.EndStruct(ref reader, flexible);
            }

            int configCount = reader.ReadNonNullArrayLength(flexible);
            topic.Configs = new List<CreatableTopicConfig>(configCount);
            for (int j = 0; j < configCount; j++)
            {
                topic.Configs.Add(new CreatableTopicConfig
                {
                    Name = reader.ReadString(flexible),
                    Value = reader.ReadNullableString(flexible),
                });
                KafkaArrays.EndStruct(ref reader, flexible);
            }

            KafkaArrays.EndStruct(ref reader, flexible);
            message.Topics.Add(topic);
        }

        message.TimeoutMs = reader.ReadInt32();
        if (version >= 1)
        {
            message.ValidateOnly = reader.ReadBoolean();
        }

        KafkaArrays.EndStruct(ref reader, flexible);
        return message;
    }

    /// <inheritdoc />
    public void Write(ref KafkaWriter writer, short version)
    {
        bool flexible = ApiVersionTable.CheckWrite(ApiKey.CreateTopics, version);
        writer.WriteArrayLength(Topics.Count, flexible);
        foreach (CreatableTopic topic in Topics)
        {
            writer.WriteString(topic.Name, flexible);
            writer.WriteInt32(topic.NumPartitions);
            writer.WriteInt16(topic.ReplicationFactor);
            writer.WriteArrayLength(topic.Assignments.Count, flexible);
            foreach (CreatableReplicaAssignment assignment in topic.Assignments)
            {
                writer.WriteInt32(assignment.PartitionIndex);
                KafkaArrays.WriteInt32List(ref writer, assignment.BrokerIds, flexible);
                KafkaArrays.EndStruct(ref writer, flexible);
            }

            writer.WriteArrayLength(topic.Configs.Count, flexible);
            foreach (CreatableTopicConfig config in topic.Configs)
            {
                writer.WriteString(config.Name, flexible);
                writer.WriteNullableString(config.Value, flexible);
                KafkaArrays.EndStruct(ref writer, flexible);
            }

            KafkaArrays.EndStruct(ref writer, flexible);
        }

        writer.WriteInt32(TimeoutMs);
        if (version >= 1)
        {
            writer.WriteBoolean(ValidateOnly);
        }

        KafkaArrays.EndStruct(ref writer, flexible);
    }

    /// <summary>One topic to create.</summary>
    public sealed class CreatableTopic
    {
        /// <summary>The topic name.</summary>
        public string Name { get; set; } = "";

        /// <summary>The number of partitions, or -1 for a manual assignment or the broker's default.</summary>
        public int NumPartitions { get; set; }

        /// <summary>The number of replicas per partition, or -1 for a manual assignment or the broker's default.</summary>
        public short ReplicationFactor { get; set; }

        /// <summary>The manual partition assignment, or empty for automatic assignment.</summary>
        public List<CreatableReplicaAssignment> Assignments { get; set; } = [];

        /// <summary>The custom topic configuration.</summary>
        public List<CreatableTopicConfig> Configs { get; set; } = [];
    }

    /// <summary>The brokers of one partition in a manual assignment.</summary>
    public sealed class CreatableReplicaAssignment
    {
        /// <summary>The partition index.</summary>
        public int PartitionIndex { get; set; }

        /// <summary>The brokers to place the partition on.</summary>
        public List<int> BrokerIds { get; set; } = [];
    }

    /// <summary>One topic configuration entry (Kafka spells the struct CreateableTopicConfig).</summary>
    public sealed class CreatableTopicConfig
    {
        /// <summary>The configuration name.</summary>
        public string Name { get; set; } = "";

        /// <summary>The configuration value, or null.</summary>
        public string? Value { get; set; }
    }
}

/// <summary>CreateTopics response (key 19), versions 0–4.</summary>
public sealed class CreateTopicsResponse : IKafkaMessage<CreateTopicsResponse>
{
    /// <inheritdoc />
    public ApiKey ApiKey => ApiKey.CreateTopics;

    /// <summary>The time in milliseconds the request was throttled for (version 2+).</summary>
    public int ThrottleTimeMs { get; set; }

    /// <summary>The result for each topic.</summary>
    public List<CreatableTopicResult> Topics { get; set; } = [];

    /// <inheritdoc />
    public static CreateTopicsResponse Read(ref KafkaReader reader, short version)
    {
        bool flexible = ApiVersionTable.CheckRead(ApiKey.CreateTopics, version);
        var message = new CreateTopicsResponse();
        if (version >= 2)
        {
            message.ThrottleTimeMs = reader.ReadInt32();
        }

        int topicCount = reader.ReadNonNullArrayLength(flexible);
        message.Topics = new List<CreatableTopicResult>(topicCount);
        for (int i = 0; i < topicCount; i++)
        {
            var topic = new CreatableTopicResult
            {
                Name = reader.ReadString(flexible),
                ErrorCode = (ErrorCode)reader.ReadInt16(),
            };
            if (version >= 1)
            {
                topic.ErrorMessage = reader.ReadNullableString(flexible);
            }

            KafkaArrays.EndStruct(ref reader, flexible);
            message.Topics.Add(topic);
        }

        KafkaArrays.EndStruct(ref reader, flexible);
        return message;
    }

    /// <inheritdoc />
    public void Write(ref KafkaWriter writer, short version)
    {
        bool flexible = ApiVersionTable.CheckWrite(ApiKey.CreateTopics, version);
        if (version >= 2)
        {
            writer.WriteInt32(ThrottleTimeMs);
        }

        writer.WriteArrayLength(Topics.Count, flexible);
        foreach (CreatableTopicResult topic in Topics)
        {
            writer.WriteString(topic.Name, flexible);
            writer.WriteInt16((short)topic.ErrorCode);
            if (version >= 1)
            {
                writer.WriteNullableString(topic.ErrorMessage, flexible);
            }

            KafkaArrays.EndStruct(ref writer, flexible);
        }

        KafkaArrays.EndStruct(ref writer, flexible);
    }

    /// <summary>The result for one topic.</summary>
    public sealed class CreatableTopicResult
    {
        /// <summary>The topic name.</summary>
        public string Name { get; set; } = "";

        /// <summary>The error code, or <see cref="ErrorCode.None"/>.</summary>
        public ErrorCode ErrorCode { get; set; }

        /// <summary>The error message, or null (version 1+).</summary>
        public string? ErrorMessage { get; set; }
    }
}
