namespace Blueprint.Log.Kafka.Protocol;

/// <summary>ListOffsets request (key 2), versions 1–5: one offset per partition, by timestamp (-2 earliest, -1 latest).</summary>
public sealed class ListOffsetsRequest : IKafkaMessage<ListOffsetsRequest>
{
    /// <inheritdoc />
    public ApiKey ApiKey => ApiKey.ListOffsets;

    /// <summary>The broker id of the requester, or -1 for a consumer.</summary>
    public int ReplicaId { get; set; } = -1;

    /// <summary>0 read uncommitted, 1 read committed (version 2+).</summary>
    public sbyte IsolationLevel { get; set; }

    /// <summary>Each topic in the request.</summary>
    public List<ListOffsetsTopic> Topics { get; set; } = [];

    /// <inheritdoc />
    public static ListOffsetsRequest Read(ref KafkaReader reader, short version)
    {
        bool flexible = ApiVersionTable.CheckRead(ApiKey.ListOffsets, version);
        var message = new ListOffsetsRequest { ReplicaId = reader.ReadInt32() };
        if (version >= 2)
        {
            message.IsolationLevel = reader.ReadInt8();
        }

        int topicCount = reader.ReadNonNullArrayLength(flexible);
        message.Topics = new List<ListOffsetsTopic>(topicCount);
        for (int i = 0; i < topicCount; i++)
        {
            var topic = new ListOffsetsTopic { Name = reader.ReadString(flexible) };
            int partitionCount = reader.ReadNonNullArrayLength(flexible);
            topic.Partitions = new List<ListOffsetsPartition>(partitionCount);
            for (int j = 0; j < partitionCount; j++)
            {
                var partition = new ListOffsetsPartition { PartitionIndex = reader.ReadInt32() };
                if (version >= 4)
                {
                    partition.CurrentLeaderEpoch = reader.ReadInt32();
                }

                partition.Timestamp = reader.ReadInt64();
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
        bool flexible = ApiVersionTable.CheckWrite(ApiKey.ListOffsets, version);
        writer.WriteInt32(ReplicaId);
        if (version >= 2)
        {
            writer.WriteInt8(IsolationLevel);
        }

        writer.WriteArrayLength(Topics.Count, flexible);
        foreach (ListOffsetsTopic topic in Topics)
        {
            writer.WriteString(topic.Name, flexible);
            writer.WriteArrayLength(topic.Partitions.Count, flexible);
            foreach (ListOffsetsPartition partition in topic.Partitions)
            {
                writer.WriteInt32(partition.PartitionIndex);
                if (version >= 4)
                {
                    writer.WriteInt32(partition.CurrentLeaderEpoch);
                }

                writer.WriteInt64(partition.Timestamp);
                KafkaArrays.EndStruct(ref writer, flexible);
            }

            KafkaArrays.EndStruct(ref writer, flexible);
        }

        KafkaArrays.EndStruct(ref writer, flexible);
    }

    /// <summary>One topic in the request.</summary>
    public sealed class ListOffsetsTopic
    {
        /// <summary>The topic name.</summary>
        public string Name { get; set; } = "";

        /// <summary>Each partition in the request.</summary>
        public List<ListOffsetsPartition> Partitions { get; set; } = [];
    }

    /// <summary>One partition in the request.</summary>
    public sealed class ListOffsetsPartition
    {
        /// <summary>The partition index.</summary>
        public int PartitionIndex { get; set; }

        /// <summary>The current leader epoch known to the client, or -1 (version 4+).</summary>
        public int CurrentLeaderEpoch { get; set; } = -1;

        /// <summary>The timestamp to look up: -2 earliest, -1 latest, else milliseconds since the epoch.</summary>
        public long Timestamp { get; set; }
    }
}

/// <summary>ListOffsets response (key 2), versions 1–5.</summary>
public sealed class ListOffsetsResponse : IKafkaMessage<ListOffsetsResponse>
{
    /// <inheritdoc />
    public ApiKey ApiKey => ApiKey.ListOffsets;

    /// <summary>The time in milliseconds the request was throttled for (version 2+).</summary>
    public int ThrottleTimeMs { get; set; }

    /// <summary>Each topic in the response.</summary>
    public List<ListOffsetsTopicResponse> Topics { get; set; } = [];

    /// <inheritdoc />
    public static ListOffsetsResponse Read(ref KafkaReader reader, short version)
    {
        bool flexible = ApiVersionTable.CheckRead(ApiKey.ListOffsets, version);
        var message = new ListOffsetsResponse();
        if (version >= 2)
        {
            message.ThrottleTimeMs = reader.ReadInt32();
        }

        int topicCount = reader.ReadNonNullArrayLength(flexible);
        message.Topics = new List<ListOffsetsTopicResponse>(topicCount);
        for (int i = 0; i < topicCount; i++)
        {
            var topic = new ListOffsetsTopicResponse { Name = reader.ReadString(flexible) };
            int partitionCount = reader.ReadNonNullArrayLength(flexible);
            topic.Partitions = new List<ListOffsetsPartitionResponse>(partitionCount);
            for (int j = 0; j < partitionCount; j++)
            {
                var partition = new ListOffsetsPartitionResponse
                {
                    PartitionIndex = reader.ReadInt32(),
                    ErrorCode = (ErrorCode)reader.ReadInt16(),
                    Timestamp = reader.ReadInt64(),
                    Offset = reader.ReadInt64(),
                };
                if (version >= 4)
                {
                    partition.LeaderEpoch = reader.ReadInt32();
                }

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
        bool flexible = ApiVersionTable.CheckWrite(ApiKey.ListOffsets, version);
        if (version >= 2)
        {
            writer.WriteInt32(ThrottleTimeMs);
        }

        writer.WriteArrayLength(Topics.Count, flexible);
        foreach (ListOffsetsTopicResponse topic in Topics)
        {
            writer.WriteString(topic.Name, flexible);
            writer.WriteArrayLength(topic.Partitions.Count, flexible);
            foreach (ListOffsetsPartitionResponse partition in topic.Partitions)
            {
                writer.WriteInt32(partition.PartitionIndex);
                writer.WriteInt16((short)partition.ErrorCode);
                writer.WriteInt64(partition.Timestamp);
                writer.WriteInt64(partition.Offset);
                if (version >= 4)
                {
                    writer.WriteInt32(partition.LeaderEpoch);
                }

                KafkaArrays.EndStruct(ref writer, flexible);
            }

            KafkaArrays.EndStruct(ref writer, flexible);
        }

        KafkaArrays.EndStruct(ref writer, flexible);
    }

    /// <summary>One topic in the response.</summary>
    public sealed class ListOffsetsTopicResponse
    {
        /// <summary>The topic name.</summary>
        public string Name { get; set; } = "";

        /// <summary>Each partition in the response.</summary>
        public List<ListOffsetsPartitionResponse> Partitions { get; set; } = [];
    }

    /// <summary>One partition in the response.</summary>
    public sealed class ListOffsetsPartitionResponse
    {
        /// <summary>The partition index.</summary>
        public int PartitionIndex { get; set; }

        /// <summary>The error code, or <see cref="ErrorCode.None"/>.</summary>
        public ErrorCode ErrorCode { get; set; }

        /// <summary>The timestamp of the returned offset, or -1.</summary>
        public long Timestamp { get; set; } = -1;

        /// <summary>The returned offset, or -1.</summary>
        public long Offset { get; set; } = -1;

        /// <summary>The leader epoch of the returned offset, or -1 (version 4+).</summary>
        public int LeaderEpoch { get; set; } = -1;
    }
}
