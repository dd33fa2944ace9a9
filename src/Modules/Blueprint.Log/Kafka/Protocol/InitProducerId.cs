namespace Blueprint.Log.Kafka.Protocol;

/// <summary>InitProducerId request (key 22), versions 0–1.</summary>
public sealed class InitProducerIdRequest : IKafkaMessage<InitProducerIdRequest>
{
    /// <inheritdoc />
    public ApiKey ApiKey => ApiKey.InitProducerId;

    /// <summary>The transactional id, or null for an idempotent producer that is not transactional.</summary>
    public string? TransactionalId { get; set; }

    /// <summary>How long in milliseconds an idle transaction may stay open (transactional producers only).</summary>
    public int TransactionTimeoutMs { get; set; }

    /// <inheritdoc />
    public static InitProducerIdRequest Read(ref KafkaReader reader, short version)
    {
        bool flexible = ApiVersionTable.CheckRead(ApiKey.InitProducerId, version);
        var message = new InitProducerIdRequest
        {
            TransactionalId = reader.ReadNullableString(flexible),
            TransactionTimeoutMs = reader.ReadInt32(),
        };
        KafkaArrays.EndStruct(ref reader, flexible);
        return message;
    }

    /// <inheritdoc />
    public void Write(ref KafkaWriter writer, short version)
    {
        bool flexible = ApiVersionTable.CheckWrite(ApiKey.InitProducerId, version);
        writer.WriteNullableString(TransactionalId, flexible);
        writer.WriteInt32(TransactionTimeoutMs);
        KafkaArrays.EndStruct(ref writer, flexible);
    }
}

/// <summary>InitProducerId response (key 22), versions 0–1.</summary>
public sealed class InitProducerIdResponse : IKafkaMessage<InitProducerIdResponse>
{
    /// <inheritdoc />
    public ApiKey ApiKey => ApiKey.InitProducerId;

    /// <summary>The time in milliseconds the request was throttled for.</summary>
    public int ThrottleTimeMs { get; set; }

    /// <summary>The error code, or <see cref="ErrorCode.None"/>.</summary>
    public ErrorCode ErrorCode { get; set; }

    /// <summary>The producer id, or -1.</summary>
    public long ProducerId { get; set; } = -1;

    /// <summary>The epoch of the producer id.</summary>
    public short ProducerEpoch { get; set; }

    /// <inheritdoc />
    public static InitProducerIdResponse Read(ref KafkaReader reader, short version)
    {
        bool flexible = ApiVersionTable.CheckRead(ApiKey.InitProducerId, version);
        var message = new InitProducerIdResponse
        {
            ThrottleTimeMs = reader.ReadInt32(),
            ErrorCode = (ErrorCode)reader.ReadInt16(),
            ProducerId = reader.ReadInt64(),
            ProducerEpoch = reader.ReadInt16(),
        };
        KafkaArrays.EndStruct(ref reader, flexible);
        return message;
    }

    /// <inheritdoc />
    public void Write(ref KafkaWriter writer, short version)
    {
        bool flexible = ApiVersionTable.CheckWrite(ApiKey.InitProducerId, version);
        writer.WriteInt32(ThrottleTimeMs);
        writer.WriteInt16((short)ErrorCode);
        writer.WriteInt64(ProducerId);
        writer.WriteInt16(ProducerEpoch);
        KafkaArrays.EndStruct(ref writer, flexible);
    }
}
