namespace Blueprint.Log.Kafka.Protocol;

/// <summary>OffsetCommit request (key 8), versions 2–7.</summary>
public sealed class OffsetCommitRequest : IKafkaMessage<OffsetCommitRequest>
{
    /// <inheritdoc />
    public ApiKey ApiKey => ApiKey.OffsetCommit;

    /// <summary>The group id.</summary>
    public string GroupId { get; set; } = "";

    /// <summary>The generation of the group, or -1 for a commit from outside the group.</summary>
    public int GenerationId { get; set; } = -1;

    /// <summary>The member id, or empty for a commit from outside the group.</summary>
    public string MemberId { get; set; } = "";

    /// <summary>The static member's instance id, or null (version 7+).</summary>
    public string? GroupInstanceId { get; set; }

    /// <summary>How long in milliseconds to keep the offsets, -1 for the broker's default (versions 2–4).</summary>
    public long RetentionTimeMs { get; set; } = -1;

    /// <summary>The topics to commit offsets for.</summary>
    public List<OffsetCommitRequestTopic> Topics { get; set; } = [];

    /// <inheritdoc />
    public static OffsetCommitRequest Read(ref KafkaReader reader, short version)
    {
        bool flexible = ApiVersionTable.CheckRead(ApiKey.OffsetCommit, version);
        var message = new OffsetCommitRequest
        {
            GroupId = reader.ReadString(flexible),
            GenerationId = reader.ReadInt32(),
            MemberId = reader.ReadString(flexible),
        };
        if (version >= 7)
        {
            message.GroupInstanceId = reader.ReadNullableString(flexible);
        }

        if (version <= 4)
        {
            message.RetentionTimeMs = reader.ReadInt64();
        }

        int topicCount = reader.ReadNonNullArrayLength(flexible);
        message.Topics = new List<OffsetCommitRequestTopic>(topicCount);
        for (int i = 0; i < topicCount; i++)
        {
            var topic = new OffsetCommitRequestTopic { Name = reader.ReadString(flexible) };
            int partitionCount = reader.ReadNonNullArrayLength(flexible);
            topic.Partitions = new List<OffsetCommitRequestPartition>(partitionCount);
            for (int j = 0; j < partitionCount; j++)
            {
                var partition = new OffsetCommitRequestPartition
                {
                    PartitionIndex = reader.ReadInt32(),
                    CommittedOffset = reader.ReadInt64(),
                };
                if (version >= 6)
                {
                    partition.CommittedLeaderEpoch = reader.ReadInt32();
                }

                partition.CommittedMetadata = reader.ReadNullableString(flexible);
                KafkaArrays.EndStruct(ref reader, flexible);
                topic.Partitions.Add(partition);
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
        bool flexible = ApiVersionTable.CheckWrite(ApiKey.OffsetCommit, version);
        writer.WriteString(GroupId, flexible);
        writer.WriteInt32(GenerationId);
        writer.WriteString(MemberId, flexible);
        if (version >= 7)
        {
            writer.WriteNullableString(GroupInstanceId, flexible);
        }

        if (version <= 4)
        {
            writer.WriteInt64(RetentionTimeMs);
        }

        writer.WriteArrayLength(Topics.Count, flexible);
        foreach (OffsetCommitRequestTopic topic in Topics)
        {
            writer.WriteString(topic.Name, flexible);
            writer.WriteArrayLength(topic.Partitions.Count, flexible);
            foreach (OffsetCommitRequestPartition partition in topic.Partitions)
            {
                writer.WriteInt32(partition.PartitionIndex);
                writer.WriteInt64(partition.CommittedOffset);
                if (version >= 6)
                {
                    writer.WriteInt32(partition.CommittedLeaderEpoch);
                }

                writer.WriteNullableString(partition.CommittedMetadata, flexible);
                KafkaArrays.EndStruct(ref writer, flexible);
            }

            KafkaArrays.EndStruct(ref writer, flexible);
        }

        KafkaArrays.EndStruct(ref writer, flexible);
    }

    /// <summary>One topic to commit offsets for.</summary>
    public sealed class OffsetCommitRequestTopic
    {
        /// <summary>The topic name.</summary>
        public string Name { get; set; } = "";

        /// <summary>Each partition to commit an offset for.</summary>
        public List<OffsetCommitRequestPartition> Partitions { get; set; } = [];
    }

    /// <summary>One partition's offset to commit.</summary>
    public sealed class OffsetCommitRequestPartition
    {
        /// <summary>The partition index.</summary>
        public int PartitionIndex { get; set; }

        /// <summary>The offset to commit: the next offset the consumer will read.</summary>
        public long CommittedOffset { get; set; }

        /// <summary>The leader epoch of the last consumed record, or -1 (version 6+).</summary>
        public int CommittedLeaderEpoch { get; set; } = -1;

        /// <summary>Metadata the client keeps with the offset, or null.</summary>
        public string? CommittedMetadata { get; set; }
    }
}

/// <summary>OffsetCommit response (key 8), versions 2–7.</summary>
public sealed class OffsetCommitResponse : IKafkaMessage<OffsetCommitResponse>
{
    /// <inheritdoc />
    public ApiKey ApiKey => ApiKey.OffsetCommit;

    /// <summary>The time in milliseconds the request was throttled for (version 3+).</summary>
    public int ThrottleTimeMs { get; set; }

    /// <summary>The result for each topic.</summary>
    public List<OffsetCommitResponseTopic> Topics { get; set; } = [];

    /// <inheritdoc />
    public static OffsetCommitResponse Read(ref KafkaReader reader, short version)
    {
        bool flexible = ApiVersionTable.CheckRead(ApiKey.OffsetCommit, version);
        var message = new OffsetCommitResponse();
        if (version >= 3)
        {
            message.ThrottleTimeMs = reader.ReadInt32();
        }

        int topicCount = reader.ReadNonNullArrayLength(flexible);
        message.Topics = new List<OffsetCommitResponseTopic>(topicCount);
        for (int i = 0; i < topicCount; i++)
        {
            var topic = new OffsetCommitResponseTopic { Name = reader.ReadString(flexible) };
            int partitionCount = reader.ReadNonNullArrayLength(flexible);
            topic.Partitions = new List<OffsetCommitResponsePartition>(partitionCount);
            for (int j = 0; j < partitionCount; j++)
            {
                topic.Partitions.Add(new OffsetCommitResponsePartition
                {
                    PartitionIndex = reader.ReadInt32(),
                    ErrorCode = (ErrorCode)reader.ReadInt16(),
                });
                KafkaArrays.EndStruct(ref reader, flexible);
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
        bool flexible = ApiVersionTable.CheckWrite(ApiKey.OffsetCommit, version);
        if (version >= 3)
        {
            writer.WriteInt32(ThrottleTimeMs);
        }

        writer.WriteArrayLength(Topics.Count, flexible);
        foreach (OffsetCommitResponseTopic topic in Topics)
        {
            writer.WriteString(topic.Name, flexible);
            writer.WriteArrayLength(topic.Partitions.Count, flexible);
            foreach (OffsetCommitResponsePartition partition in topic.Partitions)
            {
                writer.WriteInt32(partition.PartitionIndex);
                writer.WriteInt16((short)partition.ErrorCode);
                KafkaArrays.EndStruct(ref writer, flexible);
            }

            KafkaArrays.EndStruct(ref writer, flexible);
        }

        KafkaArrays.EndStruct(ref writer, flexible);
    }

    /// <summary>The results for one topic.</summary>
    public sealed class OffsetCommitResponseTopic
    {
        /// <summary>The topic name.</summary>
        public string Name { get; set; } = "";

        /// <summary>The result for each partition.</summary>
        public List<OffsetCommitResponsePartition> Partitions { get; set; } = [];
    }

    /// <summary>The result for one partition.</summary>
    public sealed class OffsetCommitResponsePartition
    {
        /// <summary>The partition index.</summary>
        public int PartitionIndex { get; set; }

        /// <summary>The error code, or <see cref="ErrorCode.None"/>.</summary>
        public ErrorCode ErrorCode { get; set; }
    }
}
