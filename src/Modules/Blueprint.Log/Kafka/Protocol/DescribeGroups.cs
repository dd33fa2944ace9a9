namespace Blueprint.Log.Kafka.Protocol;

/// <summary>DescribeGroups request (key 15), versions 0–4.</summary>
public sealed class DescribeGroupsRequest : IKafkaMessage<DescribeGroupsRequest>
{
    /// <inheritdoc />
    public ApiKey ApiKey => ApiKey.DescribeGroups;

    /// <summary>The ids of the groups to describe.</summary>
    public List<string> Groups { get; set; } = [];

    /// <summary>Whether to include the authorized operations (version 3+).</summary>
    public bool IncludeAuthorizedOperations { get; set; }

    /// <inheritdoc />
    public static DescribeGroupsRequest Read(ref KafkaReader reader, short version)
    {
        bool flexible = ApiVersionTable.CheckRead(ApiKey.DescribeGroups, version);
        var message = new DescribeGroupsRequest { Groups = KafkaArrays.ReadStringList(ref reader, flexible) };
        if (version >= 3)
        {
            message.IncludeAuthorizedOperations = reader.ReadBoolean();
        }

        KafkaArrays.EndStruct(ref reader, flexible);
        return message;
    }

    /// <inheritdoc />
    public void Write(ref KafkaWriter writer, short version)
    {
        bool flexible = ApiVersionTable.CheckWrite(ApiKey.DescribeGroups, version);
        KafkaArrays.WriteStringList(ref writer, Groups, flexible);
        if (version >= 3)
        {
            writer.WriteBoolean(IncludeAuthorizedOperations);
        }

        KafkaArrays.EndStruct(ref writer, flexible);
    }
}

/// <summary>DescribeGroups response (key 15), versions 0–4.</summary>
public sealed class DescribeGroupsResponse : IKafkaMessage<DescribeGroupsResponse>
{
    /// <inheritdoc />
    public ApiKey ApiKey => ApiKey.DescribeGroups;

    /// <summary>The time in milliseconds the request was throttled for (version 1+).</summary>
    public int ThrottleTimeMs { get; set; }

    /// <summary>Each described group.</summary>
    public List<DescribedGroup> Groups { get; set; } = [];

    /// <inheritdoc />
    public static DescribeGroupsResponse Read(ref KafkaReader reader, short version)
    {
        bool flexible = ApiVersionTable.CheckRead(ApiKey.DescribeGroups, version);
        var message = new DescribeGroupsResponse();
        if (version >= 1)
        {
            message.ThrottleTimeMs = reader.ReadInt32();
        }

        int groupCount = reader.ReadNonNullArrayLength(flexible);
        message.Groups = new List<DescribedGroup>(groupCount);
        for (int i = 0; i < groupCount; i++)
        {
            var group = new DescribedGroup
            {
                ErrorCode = (ErrorCode)reader.ReadInt16(),
                GroupId = reader.ReadString(flexible),
                GroupState = reader.ReadString(flexible),
                ProtocolType = reader.ReadString(flexible),
                ProtocolData = reader.ReadString(flexible),
            };
            int memberCount = reader.ReadNonNullArrayLength(flexible);
            group.Members = new List<DescribedGroupMember>(memberCount);
            for (int j = 0; j < memberCount; j++)
            {
                var member = new DescribedGroupMember { MemberId = reader.ReadString(flexible) };
                if (version >= 4)
                {
                    member.GroupInstanceId = reader.ReadNullableString(flexible);
                }

                member.ClientId = reader.ReadString(flexible);
                member.ClientHost = reader.ReadString(flexible);
                member.MemberMetadata = reader.ReadBytes(flexible);
                member.MemberAssignment = reader.ReadBytes(flexible);
                KafkaArrays.EndStruct(ref reader, flexible);
                group.Members.Add(member);
            }

            if (version >= 3)
            {
                group.AuthorizedOperations = reader.ReadInt32();
            }

            KafkaArrays.EndStruct(ref reader, flexible);
            message.Groups.Add(group);
        }

        KafkaArrays.EndStruct(ref reader, flexible);
        return message;
    }

    /// <inheritdoc />
    public void Write(ref KafkaWriter writer, short version)
    {
        bool flexible = ApiVersionTable.CheckWrite(ApiKey.DescribeGroups, version);
        if (version >= 1)
        {
            writer.WriteInt32(ThrottleTimeMs);
        }

        writer.WriteArrayLength(Groups.Count, flexible);
        foreach (DescribedGroup group in Groups)
        {
            writer.WriteInt16((short)group.ErrorCode);
            writer.WriteString(group.GroupId, flexible);
            writer.WriteString(group.GroupState, flexible);
            writer.WriteString(group.ProtocolType, flexible);
            writer.WriteString(group.ProtocolData, flexible);
            writer.WriteArrayLength(group.Members.Count, flexible);
            foreach (DescribedGroupMember member in group.Members)
            {
                writer.WriteString(member.MemberId, flexible);
                if (version >= 4)
                {
                    writer.WriteNullableString(member.GroupInstanceId, flexible);
                }

                writer.WriteString(member.ClientId, flexible);
                writer.WriteString(member.ClientHost, flexible);
                writer.WriteBytes(member.MemberMetadata.Span, flexible);
                writer.WriteBytes(member.MemberAssignment.Span, flexible);
                KafkaArrays.EndStruct(ref writer, flexible);
            }

            if (version >= 3)
            {
                writer.WriteInt32(group.AuthorizedOperations);
            }

            KafkaArrays.EndStruct(ref writer, flexible);
        }

        KafkaArrays.EndStruct(ref writer, flexible);
    }

    /// <summary>One described group.</summary>
    public sealed class DescribedGroup
    {
        /// <summary>The error code, or <see cref="ErrorCode.None"/>.</summary>
        public ErrorCode ErrorCode { get; set; }

        /// <summary>The group id.</summary>
        public string GroupId { get; set; } = "";

        /// <summary>The group state ("Stable", "PreparingRebalance", "CompletingRebalance", "Empty", "Dead"), or empty.</summary>
        public string GroupState { get; set; } = "";

        /// <summary>The group's protocol type, or empty.</summary>
        public string ProtocolType { get; set; } = "";

        /// <summary>The chosen protocol (assignor), or empty; filled only when the group is Stable.</summary>
        public string ProtocolData { get; set; } = "";

        /// <summary>The members; empty when the group is Dead.</summary>
        public List<DescribedGroupMember> Members { get; set; } = [];

        /// <summary>Bit field of the operations authorized on the group (version 3+).</summary>
        public int AuthorizedOperations { get; set; } = int.MinValue;
    }

    /// <summary>One member of a described group.</summary>
    public sealed class DescribedGroupMember
    {
        /// <summary>The member id.</summary>
        public string MemberId { get; set; } = "";

        /// <summary>The static member's instance id, or null (version 4+).</summary>
        public string? GroupInstanceId { get; set; }

        /// <summary>The client id of the member's latest JoinGroup.</summary>
        public string ClientId { get; set; } = "";

        /// <summary>The member's host.</summary>
        public string ClientHost { get; set; } = "";

        /// <summary>The member's metadata for the chosen protocol (Stable groups only).</summary>
        public ReadOnlyMemory<byte> MemberMetadata { get; set; }

        /// <summary>The member's assignment (Stable groups only).</summary>
        public ReadOnlyMemory<byte> MemberAssignment { get; set; }
    }
}
