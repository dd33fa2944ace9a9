namespace Blueprint.Log.Kafka.Protocol;

/// <summary>DeleteTopics request (key 20), versions 0–3.</summary>
public sealed class DeleteTopicsRequest : IKafkaMessage<DeleteTopicsRequest>
{
    /// <inheritdoc />
    public ApiKey ApiKey => ApiKey.DeleteTopics;

    /// <summary>The names of the topics to delete.</summary>
    public List<string> TopicNames { get; set; } = [];

    /// <summary>How long to wait in milliseconds for the deletions to complete.</summary>
    public int TimeoutMs { get; set; }

    /// <inheritdoc />
    public static DeleteTopicsRequest Read(ref KafkaReader reader, short version)
    {
        bool flexible = ApiVersionTable.CheckRead(ApiKey.DeleteTopics, version);
        var message = new DeleteTopicsRequest
        {
            TopicNames = KafkaArrays.ReadStringList(ref reader, flexible),
            TimeoutMs = reader.ReadInt32(),
        };
        KafkaArrays.EndStruct(ref reader, flexible);
        return message;
    }

    /// <inheritdoc />
    public void Write(ref KafkaWriter writer, short version)
    {
        bool flexible = ApiVersionTable.CheckWrite(ApiKey.DeleteTopics, version);
        KafkaArrays.WriteStringList(ref writer, TopicNames, flexible);
        writer.WriteInt32(TimeoutMs);
        KafkaArrays.EndStruct(ref writer, flexible);
    }
}

/// <summary>DeleteTopics response (key 20), versions 0–3.</summary>
public sealed class DeleteTopicsResponse : IKafkaMessage<DeleteTopicsResponse>
{
    /// <inheritdoc />
    public ApiKey ApiKey => ApiKey.DeleteTopics;

    /// <summary>The time in milliseconds the request was throttled for (version 1+).</summary>
    public int ThrottleTimeMs { get; set; }

    /// <summary>The result for each topic.</summary>
    public List<DeletableTopicResult> Responses { get; set; } = [];

    /// <inheritdoc />
    public static DeleteTopicsResponse Read(ref KafkaReader reader, short version)
    {
        bool flexible = ApiVersionTable.CheckRead(ApiKey.DeleteTopics, version);
        var message = new DeleteTopicsResponse();
        if (version >= 1)
        {
            message.ThrottleTimeMs = reader.ReadInt32();
        }

        int count = reader.ReadNonNullArrayLength(flexible);
        message.Responses = new List<DeletableTopicResult>(count);
        for (int i = 0; i < count; i++)
        {
            message.Responses.Add(new DeletableTopicResult
            {
                Name = reader.ReadString(flexible),
                ErrorCode = (ErrorCode)reader.ReadInt16(),
            });
            KafkaArrays.EndStruct(ref reader, flexible);
        }

        KafkaArrays.EndStruct(ref reader, flexible);
        return message;
    }

    /// <inheritdoc />
    public void Write(ref KafkaWriter writer, short version)
    {
        bool flexible = ApiVersionTable.CheckWrite(ApiKey.DeleteTopics, version);
        if (version >= 1)
        {
            writer.WriteInt32(ThrottleTimeMs);
        }

        writer.WriteArrayLength(Responses.Count, flexible);
        foreach (DeletableTopicResult result in Responses)
        {
            writer.WriteString(result.Name, flexible);
            writer.WriteInt16((short)result.ErrorCode);
            KafkaArrays.EndStruct(ref writer, flexible);
        }

        KafkaArrays.EndStruct(ref writer, flexible);
    }

    /// <summary>The result for one topic.</summary>
    public sealed class DeletableTopicResult
    {
        /// <summary>The topic name.</summary>
        public string Name { get; set; } = "";

        /// <summary>The error code, or <see cref="ErrorCode.None"/>.</summary>
        public ErrorCode ErrorCode { get; set; }
    }
}
