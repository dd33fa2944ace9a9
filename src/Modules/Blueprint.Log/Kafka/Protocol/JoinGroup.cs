namespace Blueprint.Log.Kafka.Protocol;

/// <summary>JoinGroup request (key 11), versions 0–5 (from 4 a new member first gets MEMBER_ID_REQUIRED and rejoins, KIP-394).</summary>
public sealed class JoinGroupRequest : IKafkaMessage<JoinGroupRequest>
{
    /// <inheritdoc />
    public ApiKey ApiKey => ApiKey.JoinGroup;

    /// <summary>The group id.</summary>
    public string GroupId { get; set; } = "";

    /// <summary>The coordinator considers the member dead after this many milliseconds without a heartbeat.</summary>
    public int SessionTimeoutMs { get; set; }

    /// <summary>The longest time in milliseconds the coordinator waits for members to rejoin (version 1+; version 0 uses the session timeout).</summary>
    public int RebalanceTimeoutMs { get; set; } = -1;

    /// <summary>The member id assigned by the coordinator, or empty for a new member.</summary>
    public string MemberId { get; set; } = "";

    /// <summary>The static member's instance id, or null (version 5+, KIP-345).</summary>
    public string? GroupInstanceId { get; set; }

    /// <summary>The class of protocols, "consumer" for consumers.</summary>
    public string ProtocolType { get; set; } = "";

    /// <summary>The protocols (assignors) the member supports, in preference order.</summary>
    public List<JoinGroupRequestProtocol> Protocols { get; set; } = [];

    /// <inheritdoc />
    public static JoinGroupRequest Read(ref KafkaReader reader, short version)
    {
        bool flexible = ApiVersionTable.CheckRead(ApiKey.JoinGroup, version);
        var message = new JoinGroupRequest
        {
            GroupId = reader.ReadString(flexible),
            SessionTimeoutMs = reader.ReadInt32(),
        };
        if (version >= 1)
        {
            message.RebalanceTimeoutMs = reader.ReadInt32();
        }

        message.MemberId = reader.ReadString(flexible);
        if (version >= 5)
        {
            message.GroupInstanceId = reader.ReadNullableString(flexible);
        }

        message.ProtocolType = reader.ReadString(flexible);
        int count = reader.ReadNonNullArrayLength(flexible);
        message.Protocols = new List<JoinGroupRequestProtocol>(count);
        for (int i = 0; i < count; i++)
        {
            message.Protocols.Add(new JoinGroupRequestProtocol
            {
                Name = reader.ReadString(flexible),
                Metadata = reader.ReadBytes(flexible),
            });
            KafkaArrays.EndStruct(ref reader, flexible);
        }

        KafkaArrays.EndStruct(ref reader, flexible);
        return message;
    }

    /// <inheritdoc />
    public void Write(ref KafkaWriter writer, short version)
    {
        bool flexible = ApiVersionTable.CheckWrite(ApiKey.JoinGroup, version);
        writer.WriteString(GroupId, flexible);
        writer.WriteInt32(SessionTimeoutMs);
        if (version >= 1)
        {
            writer.WriteInt32(RebalanceTimeoutMs);
        }

        writer.WriteString(MemberId, flexible);
        if (version >= 5)
        {
            writer.WriteNullableString(GroupInstanceId, flexible);
        }

        writer.WriteString(ProtocolType, flexible);
        writer.WriteArrayLength(Protocols.Count, flexible);
        foreach (JoinGroupRequestProtocol protocol in Protocols)
        {
            writer.WriteString(protocol.Name, flexible);
            writer.WriteBytes(protocol.Metadata.Span, flexible);
            KafkaArrays.EndStruct(ref writer, flexible);
        }

        KafkaArrays.EndStruct(ref writer, flexible);
    }

    /// <summary>One protocol the member supports.</summary>
    public sealed class JoinGroupRequestProtocol
    {
        /// <summary>The protocol name (for consumers, the assignor: "range", "roundrobin", "cooperative-sticky").</summary>
        public string Name { get; set; } = "";

        /// <summary>The protocol metadata (for consumers, the subscription), a slice of the request frame.</summary>
        public ReadOnlyMemory<byte> Metadata { get; set; }
    }
}

/// <summary>JoinGroup response (key 11), versions 0–5.</summary>
public sealed class JoinGroupResponse : IKafkaMessage<JoinGroupResponse>
{
    /// <inheritdoc />
    public ApiKey ApiKey => ApiKey.JoinGroup;

    /// <summary>The time in milliseconds the request was throttled for (version 2+).</summary>
    public int ThrottleTimeMs { get; set; }

    /// <summary>The error code, or <see cref="ErrorCode.None"/>.</summary>
    public ErrorCode ErrorCode { get; set; }

    /// <summary>The generation of the group, or -1.</summary>
    public int GenerationId { get; set; } = -1;

    /// <summary>The protocol the coordinator chose.</summary>
    public string ProtocolName { get; set; } = "";

    /// <summary>The member id of the group leader.</summary>
    public string Leader { get; set; } = "";

    /// <summary>The member id the coordinator assigned to this member.</summary>
    public string MemberId { get; set; } = "";

    /// <summary>The members and their metadata; sent to the leader only, empty for the others.</summary>
    public List<JoinGroupResponseMember> Members { get; set; } = [];

    /// <inheritdoc />
    public static JoinGroupResponse Read(ref KafkaReader reader, short version)
    {
        bool flexible = ApiVersionTable.CheckRead(ApiKey.JoinGroup, version);
        var message = new JoinGroupResponse();
        if (version >= 2)
        {
            message.ThrottleTimeMs = reader.ReadInt32();
        }

        message.ErrorCode = (ErrorCode)reader.ReadInt16();
        message.GenerationId = reader.ReadInt32();
        message.ProtocolName = reader.ReadString(flexible);
        message.Leader = reader.ReadString(flexible);
        message.MemberId = reader.ReadString(flexible);
        int count = reader.ReadNonNullArrayLength(flexible);
        message.Members = new List<JoinGroupResponseMember>(count);
        for (int i = 0; i < count; i++)
        {
            var member = new JoinGroupResponseMember { MemberId = reader.ReadString(flexible) };
            if (version >= 5)
            {
                member.GroupInstanceId = reader.ReadNullableString(flexible);
            }

            member.Metadata = reader.ReadBytes(flexible);
            KafkaArrays.EndStruct(ref reader, flexible);
            message.Members.Add(member);
        }

        KafkaArrays.EndStruct(ref reader, flexible);
        return message;
    }

    /// <inheritdoc />
    public void Write(ref KafkaWriter writer, short version)
    {
        bool flexible = ApiVersionTable.CheckWrite(ApiKey.JoinGroup, version);
        if (version >= 2)
        {
            writer.WriteInt32(ThrottleTimeMs);
        }

        writer.WriteInt16((short)ErrorCode);
        writer.WriteInt32(GenerationId);
        writer.WriteString(ProtocolName, flexible);
        writer.WriteString(Leader, flexible);
        writer.WriteString(MemberId, flexible);
        writer.WriteArrayLength(Members.Count, flexible);
        foreach (JoinGroupResponseMember member in Members)
        {
            writer.WriteString(member.MemberId, flexible);
            if (version >= 5)
            {
                writer.WriteNullableString(member.GroupInstanceId, flexible);
            }

            writer.WriteBytes(member.Metadata.Span, flexible);
            KafkaArrays.EndStruct(ref writer, flexible);
        }

        KafkaArrays.EndStruct(ref writer, flexible);
    }

    /// <summary>One member of the group, as the leader sees it.</summary>
    public sealed class JoinGroupResponseMember
    {
        /// <summary>The member id.</summary>
        public string MemberId { get; set; } = "";

        /// <summary>The static member's instance id, or null (version 5+).</summary>
        public string? GroupInstanceId { get; set; }

        /// <summary>The member's metadata for the chosen protocol.</summary>
        public ReadOnlyMemory<byte> Metadata { get; set; }
    }
}
