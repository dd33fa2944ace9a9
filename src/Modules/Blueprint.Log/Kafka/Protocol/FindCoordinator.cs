namespace Blueprint.Log.Kafka.Protocol;

/// <summary>FindCoordinator request (key 10), versions 0–2.</summary>
public sealed class FindCoordinatorRequest : IKafkaMessage<FindCoordinatorRequest>
{
    /// <summary>The <see cref="KeyType"/> of a consumer group.</summary>
    public const sbyte GroupKeyType = 0;

    /// <summary>The <see cref="KeyType"/> of a transactional id.</summary>
    public const sbyte TransactionKeyType = 1;

    /// <inheritdoc />
    public ApiKey ApiKey => ApiKey.FindCoordinator;

    /// <summary>The coordinator key: a group id or a transactional id.</summary>
    public string Key { get; set; } = "";

    /// <summary>The key type: <see cref="GroupKeyType"/> or <see cref="TransactionKeyType"/> (version 1+).</summary>
    public sbyte KeyType { get; set; }

    /// <inheritdoc />
    public static FindCoordinatorRequest Read(ref KafkaReader reader, short version)
    {
        bool flexible = ApiVersionTable.CheckRead(ApiKey.FindCoordinator, version);
        var message = new FindCoordinatorRequest { Key = reader.ReadString(flexible) };
        if (version >= 1)
        {
            message.KeyType = reader.ReadInt8();
        }

        KafkaArrays.EndStruct(ref reader, flexible);
        return message;
    }

    /// <inheritdoc />
    public void Write(ref KafkaWriter writer, short version)
    {
        bool flexible = ApiVersionTable.CheckWrite(ApiKey.FindCoordinator, version);
        writer.WriteString(Key, flexible);
        if (version >= 1)
        {
            writer.WriteInt8(KeyType);
        }

        KafkaArrays.EndStruct(ref writer, flexible);
    }
}

/// <summary>FindCoordinator response (key 10), versions 0–2.</summary>
public sealed class FindCoordinatorResponse : IKafkaMessage<FindCoordinatorResponse>
{
    /// <inheritdoc />
    public ApiKey ApiKey => ApiKey.FindCoordinator;

    /// <summary>The time in milliseconds the request was throttled for (version 1+).</summary>
    public int ThrottleTimeMs { get; set; }

    /// <summary>The error code, or <see cref="ErrorCode.None"/>.</summary>
    public ErrorCode ErrorCode { get; set; }

    /// <summary>The error message, or null (version 1+).</summary>
    public string? ErrorMessage { get; set; }

    /// <summary>The coordinator's broker id.</summary>
    public int NodeId { get; set; }

    /// <summary>The coordinator's host name.</summary>
    public string Host { get; set; } = "";

    /// <summary>The coordinator's port.</summary>
    public int Port { get; set; }

    /// <inheritdoc />
    public static FindCoordinatorResponse Read(ref KafkaReader reader, short version)
    {
        bool flexible = ApiVersionTable.CheckRead(ApiKey.FindCoordinator, version);
        var message = new FindCoordinatorResponse();
        if (version >= 1)
        {
            message.ThrottleTimeMs = reader.ReadInt32();
        }

        message.ErrorCode = (ErrorCode)reader.ReadInt16();
        if (version >= 1)
        {
            message.ErrorMessage = reader.ReadNullableString(flexible);
        }

        message.NodeId = reader.ReadInt32();
        message.Host = reader.ReadString(flexible);
        message.Port = reader.ReadInt32();
        KafkaArrays.EndStruct(ref reader, flexible);
        return message;
    }

    /// <inheritdoc />
    public void Write(ref KafkaWriter writer, short version)
    {
        bool flexible = ApiVersionTable.CheckWrite(ApiKey.FindCoordinator, version);
        if (version >= 1)
        {
            writer.WriteInt32(ThrottleTimeMs);
        }

        writer.WriteInt16((short)ErrorCode);
        if (version >= 1)
        {
            writer.WriteNullableString(ErrorMessage, flexible);
        }

        writer.WriteInt32(NodeId);
        writer.WriteString(Host, flexible);
        writer.WriteInt32(Port);
        KafkaArrays.EndStruct(ref writer, flexible);
    }
}
