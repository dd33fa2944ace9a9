namespace Blueprint.Log.Kafka.Protocol;

/// <summary>Fetch request (key 1), versions 4–11 (record batch format v2 only; incremental fetch sessions from 7, KIP-227).</summary>
public sealed class FetchRequest : IKafkaMessage<FetchRequest>
{
    /// <inheritdoc />
    public ApiKey ApiKey => ApiKey.Fetch;

    /// <summary>The broker id of a follower, or -1 for a consumer.</summary>
    public int ReplicaId { get; set; } = -1;

    /// <summary>The longest time in milliseconds to wait for <see cref="MinBytes"/>.</summary>
    public int MaxWaitMs { get; set; }

    /// <summary>The minimum bytes to accumulate in the response.</summary>
    public int MinBytes { get; set; }

    /// <summary>The maximum bytes to return (KIP-74: the first batch is returned even if larger).</summary>
    public int MaxBytes { get; set; } = int.MaxValue;

    /// <summary>0 read uncommitted, 1 read committed.</summary>
    public sbyte IsolationLevel { get; set; }

    /// <summary>The fetch session id (version 7+).</summary>
    public int SessionId { get; set; }

    /// <summary>The fetch session epoch (version 7+): -1 for a full fetch without a session.</summary>
    public int SessionEpoch { get; set; } = -1;

    /// <summary>The topics to fetch.</summary>
    public List<FetchTopic> Topics { get; set; } = [];

    /// <summary>In an incremental fetch, the partitions to remove from the session (version 7+).</summary>
    public List<ForgottenTopic> ForgottenTopicsData { get; set; } = [];

    /// <summary>The rack of the consumer (version 11+).</summary>
    public string RackId { get; set; } = "";

    /// <inheritdoc />
    public static FetchRequest Read(ref KafkaReader reader, short version)
    {
        bool flexible = ApiVersionTable.CheckRead(ApiKey.Fetch, version);
        var message = new FetchRequest
        {
            ReplicaId = reader.ReadInt32(),
            MaxWaitMs = reader.ReadInt32(),
            MinBytes = reader.ReadInt32(),
            MaxBytes = reader.ReadInt32(),
            IsolationLevel = reader.ReadInt8(),
        };
        if (version >= 7)
        {
            message.SessionId = reader.ReadInt32();
            message.SessionEpoch = reader.ReadInt32();
        }

        int topicCount = reader.ReadNonNullArrayLength(flexible);
        message.Topics = new List<FetchTopic>(topicCount);
        for (int i = 0; i < topicCount; i++)
        {
            var topic = new FetchTopic { Topic = reader.ReadString(flexible) };
            int partitionCount = reader.ReadNonNullArrayLength(flexible);
            topic.Partitions = new List<FetchPartition>(partitionCount);
            for (int j = 0; j < partitionCount; j++)
            {
                var partition = new FetchPartition { Partition = reader.ReadInt32() };
                if (version >= 9)
                {
                    partition.CurrentLeaderEpoch = reader.ReadInt32();
                }

                partition.FetchOffset = reader.ReadInt64();
                if (version >= 5)
                {
                    partition.LogStartOffset = reader.ReadInt64();
                }

                partition.PartitionMaxBytes = reader.ReadInt32();
                KafkaArrays.EndStruct(ref reader, flexible);
                topic.Partitions.Add(partition);
            }

            KafkaArrays.EndStruct(ref reader, flexible);
            message.Topics.Add(topic);
        }

        if (version >= 7)
        {
            int forgottenCount = reader.ReadNonNullArrayLength(flexible);
            message.ForgottenTopicsData = new List<ForgottenTopic>(forgottenCount);
            for (int i = 0; i < forgottenCount; i++)
            {
                message.ForgottenTopicsData.Add(new ForgottenTopic
                {
                    Topic = reader.ReadString(flexible),
                    Partitions = KafkaArrays.ReadInt32List(ref reader, flexible),
                });
                KafkaArrays.EndStruct(ref reader, flexible);
            }
        }

        if (version >= 11)
        {
            message.RackId = reader.ReadString(flexible);
        }

        KafkaArrays.EndStruct(ref reader, flexible);
        return message;
    }

    /// <inheritdoc />
    public void Write(ref KafkaWriter writer, short version)
    {
        bool flexible = ApiVersionTable.CheckWrite(ApiKey.Fetch, version);
        writer.WriteInt32(ReplicaId);
        writer.WriteInt32(MaxWaitMs);
        writer.WriteInt32(MinBytes);
        writer.WriteInt32(MaxBytes);
        writer.WriteInt8(IsolationLevel);
        if (version >= 7)
        {
            writer.WriteInt32(SessionId);
            writer.WriteInt32(SessionEpoch);
        }

        writer.WriteArrayLength(Topics.Count, flexible);
        foreach (FetchTopic topic in Topics)
        {
            writer.WriteString(topic.Topic, flexible);
            writer.WriteArrayLength(topic.Partitions.Count, flexible);
            foreach (FetchPartition partition in topic.Partitions)
            {
                writer.WriteInt32(partition.Partition);
                if (version >= 9)
                {
                    writer.WriteInt32(partition.CurrentLeaderEpoch);
                }

                writer.WriteInt64(partition.FetchOffset);
                if (version >= 5)
                {
                    writer.WriteInt64(partition.LogStartOffset);
                }

                writer.WriteInt32(partition.PartitionMaxBytes);
                KafkaArrays.EndStruct(ref writer, flexible);
            }

            KafkaArrays.EndStruct(ref writer, flexible);
        }

        if (version >= 7)
        {
            writer.WriteArrayLength(ForgottenTopicsData.Count, flexible);
            foreach (ForgottenTopic forgotten in ForgottenTopicsData)
            {
                writer.WriteString(forgotten.Topic, flexible);
                KafkaArrays.WriteInt32List(ref writer, forgotten.Partitions, flexible);
                KafkaArrays.EndStruct(ref writer, flexible);
            }
        }

        if (version >= 11)
        {
            writer.WriteString(RackId, flexible);
        }

        KafkaArrays.EndStruct(ref writer, flexible);
    }

    /// <summary>One topic to fetch.</summary>
    public sealed class FetchTopic
    {
        /// <summary>The topic name.</summary>
        public string Topic { get; set; } = "";

        /// <summary>The partitions to fetch.</summary>
        public List<FetchPartition> Partitions { get; set; } = [];
    }

    /// <summary>One partition to fetch.</summary>
    public sealed class FetchPartition
    {
        /// <summary>The partition index.</summary>
        public int Partition { get; set; }

        /// <summary>The current leader epoch known to the client, or -1 (version 9+).</summary>
        public int CurrentLeaderEpoch { get; set; } = -1;

        /// <summary>The offset to fetch from.</summary>
        public long FetchOffset { get; set; }

        /// <summary>The follower's log start offset; -1 from consumers (version 5+).</summary>
        public long LogStartOffset { get; set; } = -1;

        /// <summary>The maximum bytes to return for this partition.</summary>
        public int PartitionMaxBytes { get; set; }
    }

    /// <summary>A topic's partitions to remove from an incremental fetch session.</summary>
    public sealed class ForgottenTopic
    {
        /// <summary>The topic name.</summary>
        public string Topic { get; set; } = "";

        /// <summary>The partition indexes to forget.</summary>
        public List<int> Partitions { get; set; } = [];
    }
}

/// <summary>Fetch response (key 1), versions 4–11. Record sets are written as given, with no copy into a staging buffer.</summary>
public sealed class FetchResponse : IKafkaMessage<FetchResponse>
{
    /// <inheritdoc />
    public ApiKey ApiKey => ApiKey.Fetch;

    /// <summary>The time in milliseconds the request was throttled for.</summary>
    public int ThrottleTimeMs { get; set; }

    /// <summary>The top-level error code (version 7+).</summary>
    public ErrorCode ErrorCode { get; set; }

    /// <summary>The fetch session id, or 0 outside a session (version 7+).</summary>
    public int SessionId { get; set; }

    /// <summary>The response topics.</summary>
    public List<FetchableTopicResponse> Responses { get; set; } = [];

    /// <inheritdoc />
    public static FetchResponse Read(ref KafkaReader reader, short version)
    {
        bool flexible = ApiVersionTable.CheckRead(ApiKey.Fetch, version);
        var message = new FetchResponse { ThrottleTimeMs = reader.ReadInt32() };
        if (version >= 7)
        {
            message.ErrorCode = (ErrorCode)reader.ReadInt16();
            message.SessionId = reader.ReadInt32();
        }

        int topicCount = reader.ReadNonNullArrayLength(flexible);
        message.Responses = new List<FetchableTopicResponse>(topicCount);
        for (int i = 0; i < topicCount; i++)
        {
            var topic = new FetchableTopicResponse { Topic = reader.ReadString(flexible) };
            int partitionCount = reader.ReadNonNullArrayLength(flexible);
            topic.Partitions = new List<PartitionData>(partitionCount);
            for (int j = 0; j < partitionCount; j++)
            {
                var partition = new PartitionData
                {
                    PartitionIndex = reader.ReadInt32(),
                    ErrorCode = (ErrorCode)reader.ReadInt16(),
                    HighWatermark = reader.ReadInt64(),
                    LastStableOffset = reader.ReadInt64(),
                };
                if (version >= 5)
                {
                    partition.LogStartOffset = reader.ReadInt64();
                }

                int abortedCount = reader.ReadArrayLength(flexible);
                if (abortedCount < 0)
                {
                    partition.AbortedTransactions = null;
                }
                else
                {
                    partition.AbortedTransactions = new List<AbortedTransaction>(abortedCount);
                    for (int k = 0; k < abortedCount; k++)
                    {
                        partition.AbortedTransactions.Add(new AbortedTransaction
                        {
                            ProducerId = reader.ReadInt64(),
                            FirstOffset = reader.ReadInt64(),
                        });
                        KafkaArrays.EndStruct(ref reader, flexible);
                    }
                }

                if (version >= 11)
                {
                    partition.PreferredReadReplica = reader.ReadInt32();
                }

                partition.Records = reader.ReadNullableBytes(flexible);
                KafkaArrays.EndStruct(ref reader, flexible);
                topic.Partitions.Add(partition);
            }

            KafkaArrays.EndStruct(ref reader, flexible);
            message.Responses.Add(topic);
        }

        KafkaArrays.EndStruct(ref reader, flexible);
        return message;
    }

    /// <inheritdoc />
    public void Write(ref KafkaWriter writer, short version)
    {
        bool flexible = ApiVersionTable.CheckWrite(ApiKey.Fetch, version);
        writer.WriteInt32(ThrottleTimeMs);
        if (version >= 7)
        {
            writer.WriteInt16((short)ErrorCode);
            writer.WriteInt32(SessionId);
        }

        writer.WriteArrayLength(Responses.Count, flexible);
        foreach (FetchableTopicResponse topic in Responses)
        {
            writer.WriteString(topic.Topic, flexible);
            writer.WriteArrayLength(topic.Partitions.Count, flexible);
            foreach (PartitionData partition in topic.Partitions)
            {
                writer.WriteInt32(partition.PartitionIndex);
                writer.WriteInt16((short)partition.ErrorCode);
                writer.WriteInt64(partition.HighWatermark);
                writer.WriteInt64(partition.LastStableOffset);
                if (version >= 5)
                {
                    writer.WriteInt64(partition.LogStartOffset);
                }

                if (partition.AbortedTransactions is null)
                {
                    writer.WriteArrayLength(-1, flexible);
                }
                else
                {
                    writer.WriteArrayLength(partition.AbortedTransactions.Count, flexible);
                    foreach (AbortedTransaction aborted in partition.AbortedTransactions)
                    {
                        writer.WriteInt64(aborted.ProducerId);
                        writer.WriteInt64(aborted.FirstOffset);
                        KafkaArrays.EndStruct(ref writer, flexible);
                    }
                }

                if (version >= 11)
                {
                    writer.WriteInt32(partition.PreferredReadReplica);
                }

                writer.WriteNullableBytes(partition.Records, flexible);
                KafkaArrays.EndStruct(ref writer, flexible);
            }

            KafkaArrays.EndStruct(ref writer, flexible);
        }

        KafkaArrays.EndStruct(ref writer, flexible);
    }

    /// <summary>The data of one topic.</summary>
    public sealed class FetchableTopicResponse
    {
        /// <summary>The topic name.</summary>
        public string Topic { get; set; } = "";

        /// <summary>The topic's partitions.</summary>
        public List<PartitionData> Partitions { get; set; } = [];
    }

    /// <summary>The data of one partition.</summary>
    public sealed class PartitionData
    {
        /// <summary>The partition index.</summary>
        public int PartitionIndex { get; set; }

        /// <summary>The error code, or <see cref="ErrorCode.None"/>.</summary>
        public ErrorCode ErrorCode { get; set; }

        /// <summary>The current high watermark.</summary>
        public long HighWatermark { get; set; }

        /// <summary>The last stable offset: every transaction below it is decided.</summary>
        public long LastStableOffset { get; set; } = -1;

        /// <summary>The current log start offset (version 5+).</summary>
        public long LogStartOffset { get; set; } = -1;

        /// <summary>The aborted transactions in the returned range (read committed), or null.</summary>
        public List<AbortedTransaction>? AbortedTransactions { get; set; } = [];

        /// <summary>The replica the consumer should read from next, or -1 (version 11+).</summary>
        public int PreferredReadReplica { get; set; } = -1;

        /// <summary>The record batches, or null.</summary>
        public ReadOnlyMemory<byte>? Records { get; set; }
    }

    /// <summary>An aborted transaction in the returned range.</summary>
    public sealed class AbortedTransaction
    {
        /// <summary>The producer id of the aborted transaction.</summary>
        public long ProducerId { get; set; }

        /// <summary>The first offset of the aborted transaction.</summary>
        public long FirstOffset { get; set; }
    }
}
