namespace Blueprint.Log.Kafka.Protocol;

/// <summary>OffsetFetch request (key 9), versions 1–5. From version 2, <see cref="Topics"/> null asks for every topic.</summary>
public sealed class OffsetFetchRequest : IKafkaMessage<OffsetFetchRequest>
{
    /// <inheritdoc />
    public ApiKey ApiKey => ApiKey.OffsetFetch;

    /// <summary>The group id.</summary>
    public string GroupId { get; set; } = "";

    /// <summary>The topics to fetch offsets for, or null for all (null only from version 2).</summary>
    public List<OffsetFetchRequestTopic>? Topics { get; set; } = [];

    /// <inheritdoc />
    public static OffsetFetchRequest Read(ref KafkaReader reader, short version)
    {
        bool flexible = ApiVersionTable.CheckRead(ApiKey.OffsetFetch, version);
        var message = new OffsetFetchRequest { GroupId = reader.ReadString(flexible) };
        int topicCount = version >= 2 ? reader.ReadArrayLength(flexible) : reader.ReadNonNullArrayLength(flexible);
        if (topicCount < 0)
        {
            message.Topics = null;
        }
        else
        {
            message.Topics = new List<OffsetFetchRequestTopic>(topicCount);
            for (int i = 0; i < topicCount; i++)
            {
                message.Topics.Add(new OffsetFetchRequestTopic
                {
                    Name = reader.ReadString(flexible),
                    PartitionIndexes = KafkaArrays.ReadInt32List(ref reader, flexible),
                });
                KafkaArrays.EndStruct(ref reader, flexible);
            }
        }

        KafkaArrays.EndStruct(ref reader, flexible);
        return message;
    }

    /// <inheritdoc />
    public void Write(ref KafkaWriter writer, short version)
    {
        bool flexible = ApiVersionTable.CheckWrite(ApiKey.OffsetFetch, version);
        writer.WriteString(GroupId, flexible);
        if (Topics is null)
        {
            if (version < 2)
            {
                throw new ArgumentException($"OffsetFetch version {version} cannot ask for all topics (null needs version 2+).");
            }

            writer.WriteArrayLength(-1, flexible);
        }
        else
        {
            writer.WriteArrayLength(Topics.Count, flexible);
            foreach (OffsetFetchRequestTopic topic in Topics)
            {
                writer.WriteString(topic.Name, flexible);
                KafkaArrays.WriteInt32List(ref writer, topic.PartitionIndexes, flexible);
                KafkaArrays.EndStruct(ref writer, flexible);
            }
        }

        KafkaArrays.EndStruct(ref writer, flexible);
    }

    /// <summary>One topic to fetch offsets for.</summary>
    public sealed class OffsetFetchRequestTopic
    {
        /// <summary>The topic name.</summary>
        public string Name { get; set; } = "";

        /// <summary>The partitions to fetch offsets for.</summary>
        public List<int> PartitionIndexes { get; set; } = [];
    }
}

/// <summary>OffsetFetch response (key 9), versions 1–5. A partition without a committed offset has offset -1.</summary>
public sealed class OffsetFetchResponse : IKafkaMessage<OffsetFetchResponse>
{
    /// <inheritdoc />
    public ApiKey ApiKey => ApiKey.OffsetFetch;

    /// <summary>The time in milliseconds the request was throttled for (version 3+).</summary>
    public int ThrottleTimeMs { get; set; }

    /// <summary>The result for each topic.</summary>
    public List<OffsetFetchResponseTopic> Topics { get; set; } = [];

    /// <summary>The top-level error code, or <see cref="ErrorCode.None"/> (version 2+).</summary>
    public ErrorCode ErrorCode { get; set; }

    /// <inheritdoc />
    public static OffsetFetchResponse Read(ref KafkaReader reader, short version)
    {
        bool flexible = ApiVersionTable.CheckRead(ApiKey.OffsetFetch, version);
        var message = new OffsetFetchResponse();
        if (version >= 3)
        {
            message.ThrottleTimeMs = reader.ReadInt32();
        }

        int topicCount = reader.ReadNonNullArrayLength(flexible);
        message.Topics = new List<OffsetFetchResponseTopic>(topicCount);
        for (int i = 0; i < topicCount; i++)
        {
            var topic = new OffsetFetchResponseTopic { Name = reader.ReadString(flexible) };
            int partitionCount = reader.ReadNonNullArrayLength(flexible);
            topic.Partitions = new List<OffsetFetchResponsePartition>(partitionCount);
            for (int j = 0; j < partitionCount; j++)
            {
                var partition = new OffsetFetchResponsePartition
                {
                    PartitionIndex = reader.ReadInt32(),
                    CommittedOffset = reader.ReadInt64(),
                };
                if (version >= 5)
                {
                    partition.CommittedLeaderEpoch = reader.ReadInt32();
                }

                partition.Metadata = reader.ReadNullableString(flexible);
                partition.ErrorCode = (ErrorCode)reader.ReadInt16();
                KafkaArrays.EndStruct(ref reader, flexible);
                topic.Partitions.Add(partition);
            }

            KafkaArrays.EndStruct(ref reader, flexible);
            message.Topics.Add(topic);
        }

        if (version >= 2)
        {
            message.ErrorCode = (ErrorCode)reader.ReadInt16();
        }

        KafkaArrays.EndStruct(ref reader, flexible);
        return message;
    }

    /// <inheritdoc />
    public void Write(ref KafkaWriter writer, short version)
    {
        bool flexible = ApiVersionTable.CheckWrite(ApiKey.OffsetFetch, version);
        if (version >= 3)
        {
            writer.WriteInt32(ThrottleTimeMs);
        }

        writer.WriteArrayLength(Topics.Count, flexible);
        foreach (OffsetFetchResponseTopic topic in Topics)
        {
            writer.WriteString(topic.Name, flexible);
            writer.WriteArrayLength(topic.Partitions.Count, flexible);
            foreach (OffsetFetchResponsePartition partition in topic.Partitions)
            {
                writer.WriteInt32(partition.PartitionIndex);
                writer.WriteInt64(partition.CommittedOffset);
                if (version >= 5)
                {
                    writer.WriteInt32(partition.CommittedLeaderEpoch);
                }

                writer.WriteNullableString(partition.Metadata, flexible);
                writer.WriteInt16((short)partition.ErrorCode);
                KafkaArrays.EndStruct(ref writer, flexible);
            }

            KafkaArrays.EndStruct(ref writer, flexible);
        }

        if (version >= 2)
        {
            writer.WriteInt16((short)ErrorCode);
        }

        KafkaArrays.EndStruct(ref writer, flexible);
    }

    /// <summary>The results for one topic.</summary>
    public sealed class OffsetFetchResponseTopic
    {
        /// <summary>The topic name.</summary>
        public string Name { get; set; } = "";

        /// <summary>The result for each partition.</summary>
        public List<OffsetFetchResponsePartition> Partitions { get; set; } = [];
    }

    /// <summary>The committed offset of one partition.</summary>
    public sealed class OffsetFetchResponsePartition
    {
        /// <summary>The partition index.</summary>
        public int PartitionIndex { get; set; }

        /// <summary>The committed offset, or -1 if none.</summary>
        public long CommittedOffset { get; set; } = -1;

        /// <summary>The leader epoch committed with the offset, or -1 (version 5+).</summary>
        public int CommittedLeaderEpoch { get; set; } = -1;

        /// <summary>The metadata committed with the offset, or null.</summary>
        public string? Metadata { get; set; }

        /// <summary>The error code, or <see cref="ErrorCode.None"/>.</summary>
        public ErrorCode ErrorCode { get; set; }
    }
}
