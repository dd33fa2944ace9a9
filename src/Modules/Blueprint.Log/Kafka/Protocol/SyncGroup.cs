namespace Blueprint.Log.Kafka.Protocol;

/// <summary>SyncGroup request (key 14), versions 0–3: the leader sends every member's assignment, the others none.</summary>
public sealed class SyncGroupRequest : IKafkaMessage<SyncGroupRequest>
{
    /// <inheritdoc />
    public ApiKey ApiKey => ApiKey.SyncGroup;

    /// <summary>The group id.</summary>
    public string GroupId { get; set; } = "";

    /// <summary>The generation of the group.</summary>
    public int GenerationId { get; set; }

    /// <summary>The member id assigned by the coordinator.</summary>
    public string MemberId { get; set; } = "";

    /// <summary>The static member's instance id, or null (version 3+).</summary>
    public string? GroupInstanceId { get; set; }

    /// <summary>Each member's assignment (from the leader only).</summary>
    public List<SyncGroupRequestAssignment> Assignments { get; set; } = [];

    /// <inheritdoc />
    public static SyncGroupRequest Read(ref KafkaReader reader, short version)
    {
        bool flexible = ApiVersionTable.CheckRead(ApiKey.SyncGroup, version);
        var message = new SyncGroupRequest
        {
            GroupId = reader.ReadString(flexible),
            GenerationId = reader.ReadInt32(),
            MemberId = reader.ReadString(flexible),
        };
        if (version >= 3)
        {
            message.GroupInstanceId = reader.ReadNullableString(flexible);
        }

        int count = reader.ReadNonNullArrayLength(flexible);
        message.Assignments = new List<SyncGroupRequestAssignment>(count);
        for (int i = 0; i < count; i++)
        {
            message.Assignments.Add(new SyncGroupRequestAssignment
            {
                MemberId = reader.ReadString(flexible),
                Assignment = reader.ReadBytes(flexible),
            });
            KafkaArrays.EndStruct(ref reader, flexible);
        }

        KafkaArrays.EndStruct(ref reader, flexible);
        return message;
    }

    /// <inheritdoc />
    public void Write(ref KafkaWriter writer, short version)
    {
        bool flexible = ApiVersionTable.CheckWrite(ApiKey.SyncGroup, version);
        writer.WriteString(GroupId, flexible);
        writer.WriteInt32(GenerationId);
        writer.WriteString(MemberId, flexible);
        if (version >= 3)
        {
            writer.WriteNullableString(GroupInstanceId, flexible);
        }

        writer.WriteArrayLength(Assignments.Count, flexible);
        foreach (SyncGroupRequestAssignment assignment in Assignments)
        {
            writer.WriteString(assignment.MemberId, flexible);
            writer.WriteBytes(assignment.Assignment.Span, flexible);
            KafkaArrays.EndStruct(ref writer, flexible);
        }

        KafkaArrays.EndStruct(ref writer, flexible);
    }

    /// <summary>One member's assignment.</summary>
    public sealed class SyncGroupRequestAssignment
    {
        /// <summary>The member id.</summary>
        public string MemberId { get; set; } = "";

        /// <summary>The member's assignment, a slice of the request frame.</summary>
        public ReadOnlyMemory<byte> Assignment { get; set; }
    }
}

/// <summary>SyncGroup response (key 14), versions 0–3.</summary>
public sealed class SyncGroupResponse : IKafkaMessage<SyncGroupResponse>
{
    /// <inheritdoc />
    public ApiKey ApiKey => ApiKey.SyncGroup;

    /// <summary>The time in milliseconds the request was throttled for (version 1+).</summary>
    public int ThrottleTimeMs { get; set; }

    /// <summary>The error code, or <see cref="ErrorCode.None"/>.</summary>
    public ErrorCode ErrorCode { get; set; }

    /// <summary>This member's assignment.</summary>
    public ReadOnlyMemory<byte> Assignment { get; set; }

    /// <inheritdoc />
    public static SyncGroupResponse Read(ref KafkaReader reader, short version)
    {
        bool flexible = ApiVersionTable.CheckRead(ApiKey.SyncGroup, version);
        var message = new SyncGroupResponse();
        if (version >= 1)
        {
            message.ThrottleTimeMs = reader.ReadInt32();
        }

        message.ErrorCode = (ErrorCode)reader.ReadInt16();
        message.Assignment = reader.ReadBytes(flexible);
        KafkaArrays.EndStruct(ref reader, flexible);
        return message;
    }

    /// <inheritdoc />
    public void Write(ref KafkaWriter writer, short version)
    {
        bool flexible = ApiVersionTable.CheckWrite(ApiKey.SyncGroup, version);
        if (version >= 1)
        {
            writer.WriteInt32(ThrottleTimeMs);
        }

        writer.WriteInt16((short)ErrorCode);
        writer.WriteBytes(Assignment.Span, flexible);
        KafkaArrays.EndStruct(ref writer, flexible);
    }
}
