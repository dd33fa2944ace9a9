namespace Blueprint.Log.Kafka.Protocol;

/// <summary>
/// Produce request (key 0), versions 3–8 (record batch format v2 only). Record sets are slices of the request frame,
/// never copied. With <see cref="Acks"/> 0 the client expects no response at all.
/// </summary>
public sealed class ProduceRequest : IKafkaMessage<ProduceRequest>
{
    /// <inheritdoc />
    public ApiKey ApiKey => ApiKey.Produce;

    /// <summary>The transactional id, or null if the producer is not transactional (version 3+).</summary>
    public string? TransactionalId { get; set; }

    /// <summary>Acknowledgments required: 0 none, 1 the leader, -1 the full ISR.</summary>
    public short Acks { get; set; }

    /// <summary>The time to await a response in milliseconds.</summary>
    public int TimeoutMs { get; set; }

    /// <summary>Each topic to produce to.</summary>
    public List<TopicProduceData> Topics { get; set; } = [];

    /// <inheritdoc />
    public static ProduceRequest Read(ref KafkaReader reader, short version)
    {
        bool flexible = ApiVersionTable.CheckRead(ApiKey.Produce, version);
        var message = new ProduceRequest
        {
            TransactionalId = reader.ReadNullableString(flexible),
            Acks = reader.ReadInt16(),
            TimeoutMs = reader.ReadInt32(),
        };
        int topicCount = reader.ReadNonNullArrayLength(flexible);
        message.Topics = new List<TopicProduceData>(topicCount);
        for (int i = 0; i < topicCount; i++)
        {
            var topic = new TopicProduceData { Name = reader.ReadString(flexible) };
            int partitionCount = reader.ReadNonNullArrayLength(flexible);
            topic.Partitions = new List<PartitionProduceData>(partitionCount);
            for (int j = 0; j < partitionCount; j++)
            {
                var partition = new PartitionProduceData
                {
                    PartitionIndex = reader.ReadInt32(),
                    Records = reader.ReadNullableBytes(flexible),
                };
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
        bool flexible = ApiVersionTable.CheckWrite(ApiKey.Produce, version);
        writer.WriteNullableString(TransactionalId, flexible);
        writer.WriteInt16(Acks);
        writer.WriteInt32(TimeoutMs);
        writer.WriteArrayLength(Topics.Count, flexible);
        foreach (TopicProduceData topic in Topics)
        {
            writer.WriteString(topic.Name, flexible);
            writer.WriteArrayLength(topic.Partitions.Count, flexible);
            foreach (PartitionProduceData partition in topic.Partitions)
            {
                writer.WriteInt32(partition.PartitionIndex);
                writer.WriteNullableBytes(partition.Records, flexible);
                KafkaArrays.EndStruct(ref writer, flexible);
            }

            KafkaArrays.EndStruct(ref writer, flexible);
        }

        KafkaArrays.EndStruct(ref writer, flexible);
    }

    /// <summary>One topic to produce to.</summary>
    public sealed class TopicProduceData
    {
        /// <summary>The topic name.</summary>
        public string Name { get; set; } = "";

        /// <summary>Each partition to produce to.</summary>
        public List<PartitionProduceData> Partitions { get; set; } = [];
    }

    /// <summary>One partition to produce to.</summary>
    public sealed class PartitionProduceData
    {
        /// <summary>The partition index.</summary>
        public int PartitionIndex { get; set; }

        /// <summary>The record batches to append (a slice of the request frame), or null.</summary>
        public ReadOnlyMemory<byte>? Records { get; set; }
    }
}

/// <summary>Produce response (key 0), versions 3–8.</summary>
/// <remarks>librdkafka sends one partition per request and rejects a response that does not hold exactly one topic with one partition.</remarks>
public sealed class ProduceResponse : IKafkaMessage<ProduceResponse>
{
    /// <inheritdoc />
    public ApiKey ApiKey => ApiKey.Produce;

    /// <summary>Each produce response.</summary>
    public List<TopicProduceResponse> Responses { get; set; } = [];

    /// <summary>The time in milliseconds the request was throttled for.</summary>
    public int ThrottleTimeMs { get; set; }

    /// <inheritdoc />
    public static ProduceResponse Read(ref KafkaReader reader, short version)
    {
        bool flexible = ApiVersionTable.CheckRead(ApiKey.Produce, version);
        var message = new ProduceResponse();
        int topicCount = reader.ReadNonNullArrayLength(flexible);
        message.Responses = new List<TopicProduceResponse>(topicCount);
        for (int i = 0; i < topicCount; i++)
        {
            var topic = new TopicProduceResponse { Name = reader.ReadString(flexible) };
            int partitionCount = reader.ReadNonNullArrayLength(flexible);
            topic.Partitions = new List<PartitionProduceResponse>(partitionCount);
            for (int j = 0; j < partitionCount; j++)
            {
                var partition = new PartitionProduceResponse
                {
                    PartitionIndex = reader.ReadInt32(),
                    ErrorCode = (ErrorCode)reader.ReadInt16(),
                    BaseOffset = reader.ReadInt64(),
                    LogAppendTimeMs = reader.ReadInt64(),
                };
                if (version >= 5)
                {
                    partition.LogStartOffset = reader.ReadInt64();
                }

                if (version >= 8)
                {
                    int errorCount = reader.ReadNonNullArrayLength(flexible);
                    partition.RecordErrors = new List<BatchIndexAndErrorMessage>(errorCount);
                    for (int k = 0; k < errorCount; k++)
                    {
                        partition.RecordErrors.Add(new BatchIndexAndErrorMessage
                        {
                            BatchIndex = reader.ReadInt32(),
                            BatchIndexErrorMessage = reader.ReadNullableString(flexible),
                        });
                        KafkaArrays.EndStruct(ref reader, flexible);
                    }

                    partition.ErrorMessage = reader.ReadNullableString(flexible);
                }

                KafkaArrays.EndStruct(ref reader, flexible);
                topic.Partitions.Add(partition);
            }

            KafkaArrays.EndStruct(ref reader, flexible);
            message.Responses.Add(topic);
        }

        message.ThrottleTimeMs = reader.ReadInt32();
        KafkaArrays.EndStruct(ref reader, flexible);
        return message;
    }

    /// <inheritdoc />
    public void Write(ref KafkaWriter writer, short version)
    {
        bool flexible = ApiVersionTable.CheckWrite(ApiKey.Produce, version);
        writer.WriteArrayLength(Responses.Count, flexible);
        foreach (TopicProduceResponse topic in Responses)
        {
            writer.WriteString(topic.Name, flexible);
            writer.WriteArrayLength(topic.Partitions.Count, flexible);
            foreach (PartitionProduceResponse partition in topic.Partitions)
            {
                writer.WriteInt32(partition.PartitionIndex);
                writer.WriteInt16((short)partition.ErrorCode);
                writer.WriteInt64(partition.BaseOffset);
                writer.WriteInt64(partition.LogAppendTimeMs);
                if (version >= 5)
                {
                    writer.WriteInt64(partition.LogStartOffset);
                }

                if (version >= 8)
                {
                    writer.WriteArrayLength(partition.RecordErrors.Count, flexible);
                    foreach (BatchIndexAndErrorMessage error in partition.RecordErrors)
                    {
                        writer.WriteInt32(error.BatchIndex);
                        writer.WriteNullableString(error.BatchIndexErrorMessage, flexible);
                        KafkaArrays.EndStruct(ref writer, flexible);
                    }

                    writer.WriteNullableString(partition.ErrorMessage, flexible);
                }

                KafkaArrays.EndStruct(ref writer, flexible);
            }

            KafkaArrays.EndStruct(ref writer, flexible);
        }

        writer.WriteInt32(ThrottleTimeMs);
        KafkaArrays.EndStruct(ref writer, flexible);
    }

    /// <summary>The results for one topic.</summary>
    public sealed class TopicProduceResponse
    {
        /// <summary>The topic name.</summary>
        public string Name { get; set; } = "";

        /// <summary>Each partition produced to within the topic.</summary>
        public List<PartitionProduceResponse> Partitions { get; set; } = [];
    }

    /// <summary>The result for one partition.</summary>
    public sealed class PartitionProduceResponse
    {
        /// <summary>The partition index.</summary>
        public int PartitionIndex { get; set; }

        /// <summary>The error code, or <see cref="ErrorCode.None"/>.</summary>
        public ErrorCode ErrorCode { get; set; }

        /// <summary>The offset given to the first record.</summary>
        public long BaseOffset { get; set; }

        /// <summary>The broker's append time when the topic uses LogAppendTime, else -1.</summary>
        public long LogAppendTimeMs { get; set; } = -1;

        /// <summary>The log start offset (version 5+).</summary>
        public long LogStartOffset { get; set; } = -1;

        /// <summary>The batch indices of records that caused the batch to be dropped (version 8+).</summary>
        public List<BatchIndexAndErrorMessage> RecordErrors { get; set; } = [];

        /// <summary>The message summarizing why the batch was dropped, or null (version 8+).</summary>
        public string? ErrorMessage { get; set; }
    }

    /// <summary>A record that caused its batch to be dropped.</summary>
    public sealed class BatchIndexAndErrorMessage
    {
        /// <summary>The index of the record within its batch.</summary>
        public int BatchIndex { get; set; }

        /// <summary>Why the record was rejected, or null.</summary>
        public string? BatchIndexErrorMessage { get; set; }
    }
}
