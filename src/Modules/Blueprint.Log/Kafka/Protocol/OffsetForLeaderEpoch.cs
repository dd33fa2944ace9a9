namespace Blueprint.Log.Kafka.Protocol;

/// <summary>
/// OffsetForLeaderEpoch request (key 23), versions 0–3: for each partition, the end offset of a leader epoch, which a
/// consumer compares with its position to detect log truncation after a leader change (KIP-101, KIP-320).
/// </summary>
public sealed class OffsetForLeaderEpochRequest : IKafkaMessage<OffsetForLeaderEpochRequest>
{
    /// <inheritdoc />
    public ApiKey ApiKey => ApiKey.OffsetForLeaderEpoch;

    /// <summary>
    /// The broker id of a follower, -1 for a consumer, or -2 for a debug consumer allowed past the high watermark
    /// (version 3+). Earlier versions carry no id and read as -2, as Kafka reads them.
    /// </summary>
    public int ReplicaId { get; set; } = -2;

    /// <summary>Each topic to get offsets for.</summary>
    public List<OffsetForLeaderTopic> Topics { get; set; } = [];

    /// <inheritdoc />
    public static OffsetForLeaderEpochRequest Read(ref KafkaReader reader, short version)
    {
        bool flexible = ApiVersionTable.CheckRead(ApiKey.OffsetForLeaderEpoch, version);
        var message = new OffsetForLeaderEpochRequest();
        if (version >= 3)
        {
            message.ReplicaId = reader.ReadInt32();
        }

        int topicCount = reader.ReadNonNullArrayLength(flexible);
        message.Topics = new List<OffsetForLeaderTopic>(topicCount);
        for (int i = 0; i < topicCount; i++)
        {
            var topic = new OffsetForLeaderTopic { Topic = reader.ReadString(flexible) };
            int partitionCount = reader.ReadNonNullArrayLength(flexible);
            topic.Partitions = new List<OffsetForLeaderPartition>(partitionCount);
            for (int j = 0; j < partitionCount; j++)
            {
                var partition = new OffsetForLeaderPartition { Partition = reader.ReadInt32() };
                if (version >= 2)
                {
                    partition.CurrentLeaderEpoch = reader.ReadInt32();
                }

                partition.LeaderEpoch = reader.ReadInt32();
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
        bool flexible = ApiVersionTable.CheckWrite(ApiKey.OffsetForLeaderEpoch, version);
        if (version >= 3)
        {
            writer.WriteInt32(ReplicaId);
        }

        writer.WriteArrayLength(Topics.Count, flexible);
        foreach (OffsetForLeaderTopic topic in Topics)
        {
            writer.WriteString(topic.Topic, flexible);
            writer.WriteArrayLength(topic.Partitions.Count, flexible);
            foreach (OffsetForLeaderPartition partition in topic.Partitions)
            {
                writer.WriteInt32(partition.Partition);
                if (version >= 2)
                {
                    writer.WriteInt32(partition.CurrentLeaderEpoch);
                }

                writer.WriteInt32(partition.LeaderEpoch);
                KafkaArrays.EndStruct(ref writer, flexible);
            }

            KafkaArrays.EndStruct(ref writer, flexible);
        }

        KafkaArrays.EndStruct(ref writer, flexible);
    }

    /// <summary>One topic in the request.</summary>
    public sealed class OffsetForLeaderTopic
    {
        /// <summary>The topic name.</summary>
        public string Topic { get; set; } = "";

        /// <summary>Each partition to get offsets for.</summary>
        public List<OffsetForLeaderPartition> Partitions { get; set; } = [];
    }

    /// <summary>One partition in the request.</summary>
    public sealed class OffsetForLeaderPartition
    {
        /// <summary>The partition index.</summary>
        public int Partition { get; set; }

        /// <summary>
        /// The leader epoch the client knows, or -1 (version 2+): a newer one than the broker's is answered with
        /// UnknownLeaderEpoch, an older one with FencedLeaderEpoch.
        /// </summary>
        public int CurrentLeaderEpoch { get; set; } = -1;

        /// <summary>The epoch to look up the end offset of.</summary>
        public int LeaderEpoch { get; set; }
    }
}

/// <summary>OffsetForLeaderEpoch response (key 23), versions 0–3.</summary>
public sealed class OffsetForLeaderEpochResponse : IKafkaMessage<OffsetForLeaderEpochResponse>
{
    /// <inheritdoc />
    public ApiKey ApiKey => ApiKey.OffsetForLeaderEpoch;

    /// <summary>The time in milliseconds the request was throttled for (version 2+).</summary>
    public int ThrottleTimeMs { get; set; }

    /// <summary>Each topic in the response.</summary>
    public List<OffsetForLeaderTopicResult> Topics { get; set; } = [];

    /// <inheritdoc />
    public static OffsetForLeaderEpochResponse Read(ref KafkaReader reader, short version)
    {
        bool flexible = ApiVersionTable.CheckRead(ApiKey.OffsetForLeaderEpoch, version);
        var message = new OffsetForLeaderEpochResponse();
        if (version >= 2)
        {
            message.ThrottleTimeMs = reader.ReadInt32();
        }

        int topicCount = reader.ReadNonNullArrayLength(flexible);
        message.Topics = new List<OffsetForLeaderTopicResult>(topicCount);
        for (int i = 0; i < topicCount; i++)
        {
            var topic = new OffsetForLeaderTopicResult { Topic = reader.ReadString(flexible) };
            int partitionCount = reader.ReadNonNullArrayLength(flexible);
            topic.Partitions = new List<EpochEndOffset>(partitionCount);
            for (int j = 0; j < partitionCount; j++)
            {
                var partition = new EpochEndOffset
                {
                    ErrorCode = (ErrorCode)reader.ReadInt16(),
                    Partition = reader.ReadInt32(),
                };
                if (version >= 1)
                {
                    partition.LeaderEpoch = reader.ReadInt32();
                }

                partition.EndOffset = reader.ReadInt64();
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
        bool flexible = ApiVersionTable.CheckWrite(ApiKey.OffsetForLeaderEpoch, version);
        if (version >= 2)
        {
            writer.WriteInt32(ThrottleTimeMs);
        }

        writer.WriteArrayLength(Topics.Count, flexible);
        foreach (OffsetForLeaderTopicResult topic in Topics)
        {
            writer.WriteString(topic.Topic, flexible);
            writer.WriteArrayLength(topic.Partitions.Count, flexible);
            foreach (EpochEndOffset partition in topic.Partitions)
            {
                writer.WriteInt16((short)partition.ErrorCode);
                writer.WriteInt32(partition.Partition);
                if (version >= 1)
                {
                    writer.WriteInt32(partition.LeaderEpoch);
                }

                writer.WriteInt64(partition.EndOffset);
                KafkaArrays.EndStruct(ref writer, flexible);
            }

            KafkaArrays.EndStruct(ref writer, flexible);
        }

        KafkaArrays.EndStruct(ref writer, flexible);
    }

    /// <summary>One topic in the response.</summary>
    public sealed class OffsetForLeaderTopicResult
    {
        /// <summary>The topic name.</summary>
        public string Topic { get; set; } = "";

        /// <summary>Each partition in the topic.</summary>
        public List<EpochEndOffset> Partitions { get; set; } = [];
    }

    /// <summary>One partition in the response: the end offset of the requested epoch.</summary>
    public sealed class EpochEndOffset
    {
        /// <summary>The error code, or <see cref="ErrorCode.None"/>.</summary>
        public ErrorCode ErrorCode { get; set; }

        /// <summary>The partition index.</summary>
        public int Partition { get; set; }

        /// <summary>
        /// The largest leader epoch not above the requested one, or -1 (version 1+); the end offset belongs to it.
        /// </summary>
        public int LeaderEpoch { get; set; } = -1;

        /// <summary>The end offset of that epoch (the start offset of the next one, or the log end offset), or -1.</summary>
        public long EndOffset { get; set; } = -1;
    }
}
