namespace Blueprint.Log.Kafka.Protocol;

/// <summary>ListGroups request (key 16), versions 0–2: no fields.</summary>
public sealed class ListGroupsRequest : IKafkaMessage<ListGroupsRequest>
{
    /// <inheritdoc />
    public ApiKey ApiKey => ApiKey.ListGroups;

    /// <inheritdoc />
    public static ListGroupsRequest Read(ref KafkaReader reader, short version)
    {
        bool flexible = ApiVersionTable.CheckRead(ApiKey.ListGroups, version);
        KafkaArrays.EndStruct(ref reader, flexible);
        return new ListGroupsRequest();
    }

    /// <inheritdoc />
    public void Write(ref KafkaWriter writer, short version)
    {
        bool flexible = ApiVersionTable.CheckWrite(ApiKey.ListGroups, version);
        KafkaArrays.EndStruct(ref writer, flexible);
    }
}

/// <summary>ListGroups response (key 16), versions 0–2.</summary>
public sealed class ListGroupsResponse : IKafkaMessage<ListGroupsResponse>
{
    /// <inheritdoc />
    public ApiKey ApiKey => ApiKey.ListGroups;

    /// <summary>The time in milliseconds the request was throttled for (version 1+).</summary>
    public int ThrottleTimeMs { get; set; }

    /// <summary>The error code, or <see cref="ErrorCode.None"/>.</summary>
    public ErrorCode ErrorCode { get; set; }

    /// <summary>Each group.</summary>
    public List<ListedGroup> Groups { get; set; } = [];

    /// <inheritdoc />
    public static ListGroupsResponse Read(ref KafkaReader reader, short version)
    {
        bool flexible = ApiVersionTable.CheckRead(ApiKey.ListGroups, version);
        var message = new ListGroupsResponse();
        if (version >= 1)
        {
            message.ThrottleTimeMs = reader.ReadInt32();
        }

        message.ErrorCode = (ErrorCode)reader.ReadInt16();
        int count = reader.ReadNonNullArrayLength(flexible);
        message.Groups = new List<ListedGroup>(count);
        for (int i = 0; i < count; i++)
        {
            message.Groups.Add(new ListedGroup
            {
                GroupId = reader.ReadString(flexible),
                ProtocolType = reader.ReadString(flexible),
            });
            KafkaArrays.EndStruct(ref reader, flexible);
        }

        KafkaArrays.EndStruct(ref reader, flexible);
        return message;
    }

    /// <inheritdoc />
    public void Write(ref KafkaWriter writer, short version)
    {
        bool flexible = ApiVersionTable.CheckWrite(ApiKey.ListGroups, version);
        if (version >= 1)
        {
            writer.WriteInt32(ThrottleTimeMs);
        }

        writer.WriteInt16((short)ErrorCode);
        writer.WriteArrayLength(Groups.Count, flexible);
        foreach (ListedGroup group in Groups)
        {
            writer.WriteString(group.GroupId, flexible);
            writer.WriteString(group.ProtocolType, flexible);
            KafkaArrays.EndStruct(ref writer, flexible);
        }

        KafkaArrays.EndStruct(ref writer, flexible);
    }

    /// <summary>One group.</summary>
    public sealed class ListedGroup
    {
        /// <summary>The group id.</summary>
        public string GroupId { get; set; } = "";

        /// <summary>The group's protocol type ("consumer" for consumer groups).</summary>
        public string ProtocolType { get; set; } = "";
    }
}
