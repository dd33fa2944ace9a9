namespace Blueprint.Log.Kafka.Protocol;

/// <summary>LeaveGroup request (key 13), versions 0–3: one member up to version 2, a batch of members from 3 (KIP-345).</summary>
public sealed class LeaveGroupRequest : IKafkaMessage<LeaveGroupRequest>
{
    /// <inheritdoc />
    public ApiKey ApiKey => ApiKey.LeaveGroup;

    /// <summary>The group id.</summary>
    public string GroupId { get; set; } = "";

    /// <summary>The member leaving the group (versions 0–2).</summary>
    public string MemberId { get; set; } = "";

    /// <summary>The members leaving the group (version 3+).</summary>
    public List<MemberIdentity> Members { get; set; } = [];

    /// <inheritdoc />
    public static LeaveGroupRequest Read(ref KafkaReader reader, short version)
    {
        bool flexible = ApiVersionTable.CheckRead(ApiKey.LeaveGroup, version);
        var message = new LeaveGroupRequest { GroupId = reader.ReadString(flexible) };
        if (version <= 2)
        {
            message.MemberId = reader.ReadString(flexible);
        }
        else
        {
            int count = reader.ReadNonNullArrayLength(flexible);
            message.Members = new List<MemberIdentity>(count);
            for (int i = 0; i < count; i++)
            {
                message.Members.Add(new MemberIdentity
                {
                    MemberId = reader.ReadString(flexible),
                    GroupInstanceId = reader.ReadNullableString(flexible),
                });
                KafkaArrays.EndStruct(ref reader, flexible);
            }
        }

        KafkaArrays.EndStruct(ref reader, flexible);
        return message;
    }

    /// <inheritdoc />
    public void Write(ref KafkaWriter writer, short version)
    {
        bool flexible = ApiVersionTable.CheckWrite(ApiKey.LeaveGroup, version);
        writer.WriteString(GroupId, flexible);
        if (version <= 2)
        {
            writer.WriteString(MemberId, flexible);
        }
        else
        {
            writer.WriteArrayLength(Members.Count, flexible);
            foreach (MemberIdentity member in Members)
            {
                writer.WriteString(member.MemberId, flexible);
                writer.WriteNullableString(member.GroupInstanceId, flexible);
                KafkaArrays.EndStruct(ref writer, flexible);
            }
        }

        KafkaArrays.EndStruct(ref writer, flexible);
    }

    /// <summary>One leaving member.</summary>
    public sealed class MemberIdentity
    {
        /// <summary>The member id.</summary>
        public string MemberId { get; set; } = "";

        /// <summary>The static member's instance id, or null.</summary>
        public string? GroupInstanceId { get; set; }
    }
}

/// <summary>LeaveGroup response (key 13), versions 0–3.</summary>
public sealed class LeaveGroupResponse : IKafkaMessage<LeaveGroupResponse>
{
    /// <inheritdoc />
    public ApiKey ApiKey => ApiKey.LeaveGroup;

    /// <summary>The time in milliseconds the request was throttled for (version 1+).</summary>
    public int ThrottleTimeMs { get; set; }

    /// <summary>The error code, or <see cref="ErrorCode.None"/>.</summary>
    public ErrorCode ErrorCode { get; set; }

    /// <summary>The result for each leaving member (version 3+).</summary>
    public List<MemberResponse> Members { get; set; } = [];

    /// <inheritdoc />
    public static LeaveGroupResponse Read(ref KafkaReader reader, short version)
    {
        bool flexible = ApiVersionTable.CheckRead(ApiKey.LeaveGroup, version);
        var message = new LeaveGroupResponse();
        if (version >= 1)
        {
            message.ThrottleTimeMs = reader.ReadInt32();
        }

        message.ErrorCode = (ErrorCode)reader.ReadInt16();
        if (version >= 3)
        {
            int count = reader.ReadNonNullArrayLength(flexible);
            message.Members = new List<MemberResponse>(count);
            for (int i = 0; i < count; i++)
            {
                message.Members.Add(new MemberResponse
                {
                    MemberId = reader.ReadString(flexible),
                    GroupInstanceId = reader.ReadNullableString(flexible),
                    ErrorCode = (ErrorCode)reader.ReadInt16(),
                });
                KafkaArrays.EndStruct(ref reader, flexible);
            }
        }

        KafkaArrays.EndStruct(ref reader, flexible);
        return message;
    }

    /// <inheritdoc />
    public void Write(ref KafkaWriter writer, short version)
    {
        bool flexible = ApiVersionTable.CheckWrite(ApiKey.LeaveGroup, version);
        if (version >= 1)
        {
            writer.WriteInt32(ThrottleTimeMs);
        }

        writer.WriteInt16((short)ErrorCode);
        if (version >= 3)
        {
            writer.WriteArrayLength(Members.Count, flexible);
            foreach (MemberResponse member in Members)
            {
                writer.WriteString(member.MemberId, flexible);
                writer.WriteNullableString(member.GroupInstanceId, flexible);
                writer.WriteInt16((short)member.ErrorCode);
                KafkaArrays.EndStruct(ref writer, flexible);
            }
        }

        KafkaArrays.EndStruct(ref writer, flexible);
    }

    /// <summary>The result for one leaving member.</summary>
    public sealed class MemberResponse
    {
        /// <summary>The member id.</summary>
        public string MemberId { get; set; } = "";

        /// <summary>The static member's instance id, or null.</summary>
        public string? GroupInstanceId { get; set; }

        /// <summary>The error code, or <see cref="ErrorCode.None"/>.</summary>
        public ErrorCode ErrorCode { get; set; }
    }
}
