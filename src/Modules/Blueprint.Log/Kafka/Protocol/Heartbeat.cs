namespace Blueprint.Log.Kafka.Protocol;

/// <summary>Heartbeat request (key 12), versions 0–3.</summary>
public sealed class HeartbeatRequest : IKafkaMessage<HeartbeatRequest>
{
    /// <inheritdoc />
    public ApiKey ApiKey => ApiKey.Heartbeat;

    /// <summary>The group id.</summary>
    public string GroupId { get; set; } = "";

    /// <summary>The generation of the group.</summary>
    public int GenerationId { get; set; }

    /// <summary>The member id.</summary>
    public string MemberId { get; set; } = "";

    /// <summary>The static member's instance id, or null (version 3+).</summary>
    public string? GroupInstanceId { get; set; }

    /// <inheritdoc />
    public static HeartbeatRequest Read(ref KafkaReader reader, short version)
    {
        bool flexible = ApiVersionTable.CheckRead(ApiKey.Heartbeat, version);
        var message = new HeartbeatRequest
        {
            GroupId = reader.ReadString(flexible),
            GenerationId = reader.ReadInt32(),
            MemberId = reader.ReadString(flexible),
        };
        if (version >= 3)
        {
            message.GroupInstanceId = reader.ReadNullableString(flexible);
        }

        KafkaArrays.EndStruct(ref reader, flexible);
        return message;
    }

    /// <inheritdoc />
    public void Write(ref KafkaWriter writer, short version)
    {
        bool flexible = ApiVersionTable.CheckWrite(ApiKey.Heartbeat, version);
        writer.WriteString(GroupId, flexible);
        writer.WriteInt32(GenerationId);
        writer.WriteString(MemberId, flexible);
        if (version >= 3)
        {
            writer.WriteNullableString(GroupInstanceId, flexible);
        }

        KafkaArrays.EndStruct(ref writer, flexible);
    }
}

/// <summary>Heartbeat response (key 12), versions 0–3.</summary>
public sealed class HeartbeatResponse : IKafkaMessage<HeartbeatResponse>
{
    /// <inheritdoc />
    public ApiKey ApiKey => ApiKey.Heartbeat;

    /// <summary>The time in milliseconds the request was throttled for (version 1+).</summary>
    public int ThrottleTimeMs { get; set; }

    /// <summary>The error code, or <see cref="ErrorCode.None"/>; <see cref="ErrorCode.RebalanceInProgress"/> tells the member to rejoin.</summary>
    public ErrorCode ErrorCode { get; set; }

    /// <inheritdoc />
    public static HeartbeatResponse Read(ref KafkaReader reader, short version)
    {
        bool flexible = ApiVersionTable.CheckRead(ApiKey.Heartbeat, version);
        var message = new HeartbeatResponse();
        if (version >= 1)
        {
            message.ThrottleTimeMs = reader.ReadInt32();
        }

        message.ErrorCode = (ErrorCode)reader.ReadInt16();
        KafkaArrays.EndStruct(ref reader, flexible);
        return message;
    }

    /// <inheritdoc />
    public void Write(ref KafkaWriter writer, short version)
    {
        bool flexible = ApiVersionTable.CheckWrite(ApiKey.Heartbeat, version);
        if (version >= 1)
        {
            writer.WriteInt32(ThrottleTimeMs);
        }

        writer.WriteInt16((short)ErrorCode);
        KafkaArrays.EndStruct(ref writer, flexible);
    }
}
