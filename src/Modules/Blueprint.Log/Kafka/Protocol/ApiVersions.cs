namespace Blueprint.Log.Kafka.Protocol;

/// <summary>ApiVersions request (key 18), versions 0–3; version 3 is flexible and names the client software (KIP-511).</summary>
public sealed class ApiVersionsRequest : IKafkaMessage<ApiVersionsRequest>
{
    /// <inheritdoc />
    public ApiKey ApiKey => ApiKey.ApiVersions;

    /// <summary>The name of the client (version 3+).</summary>
    public string ClientSoftwareName { get; set; } = "";

    /// <summary>The version of the client (version 3+).</summary>
    public string ClientSoftwareVersion { get; set; } = "";

    /// <inheritdoc />
    public static ApiVersionsRequest Read(ref KafkaReader reader, short version)
    {
        bool flexible = ApiVersionTable.CheckRead(ApiKey.ApiVersions, version);
        var message = new ApiVersionsRequest();
        if (version >= 3)
        {
            message.ClientSoftwareName = reader.ReadCompactString();
            message.ClientSoftwareVersion = reader.ReadCompactString();
        }

        if (flexible)
        {
            reader.SkipTaggedFields();
        }

        return message;
    }

    /// <inheritdoc />
    public void Write(ref KafkaWriter writer, short version)
    {
        bool flexible = ApiVersionTable.CheckWrite(ApiKey.ApiVersions, version);
        if (version >= 3)
        {
            writer.WriteCompactString(ClientSoftwareName);
            writer.WriteCompactString(ClientSoftwareVersion);
        }

        if (flexible)
        {
            writer.WriteEmptyTaggedFields();
        }
    }
}

/// <summary>
/// ApiVersions response (key 18), versions 0–3. Always sent with response header version 0. In version 3 the feature
/// fields are tagged fields of the body (tags 0–3), written only when they differ from their defaults.
/// </summary>
public sealed class ApiVersionsResponse : IKafkaMessage<ApiVersionsResponse>
{
    /// <inheritdoc />
    public ApiKey ApiKey => ApiKey.ApiVersions;

    /// <summary>The top-level error code.</summary>
    public ErrorCode ErrorCode { get; set; }

    /// <summary>The APIs supported by the broker.</summary>
    public List<ApiVersion> ApiKeys { get; set; } = [];

    /// <summary>The time in milliseconds the request was throttled for (version 1+).</summary>
    public int ThrottleTimeMs { get; set; }

    /// <summary>Features supported by the broker (version 3+, tag 0).</summary>
    public List<SupportedFeatureKey> SupportedFeatures { get; set; } = [];

    /// <summary>The epoch of the finalized features, -1 when unknown (version 3+, tag 1).</summary>
    public long FinalizedFeaturesEpoch { get; set; } = -1;

    /// <summary>Cluster-wide finalized features (version 3+, tag 2).</summary>
    public List<FinalizedFeatureKey> FinalizedFeatures { get; set; } = [];

    /// <summary>Set by a KRaft controller ready for ZooKeeper migration (version 3+, tag 3).</summary>
    public bool ZkMigrationReady { get; set; }

    /// <summary>A successful response listing <see cref="ApiVersionTable.Supported"/>.</summary>
    public static ApiVersionsResponse CreateSupported() => new() { ApiKeys = SupportedList() };

    /// <summary>
    /// The answer to an ApiVersions request of an unsupported version: <see cref="ErrorCode.UnsupportedVersion"/> with
    /// the supported list. Write it at version 0 with response header version 0
    /// (<see cref="KafkaFrame.WriteApiVersionsUnsupported"/> does).
    /// </summary>
    public static ApiVersionsResponse CreateUnsupportedVersion() =>
        new() { ErrorCode = ErrorCode.UnsupportedVersion, ApiKeys = SupportedList() };

    /// <inheritdoc />
    public static ApiVersionsResponse Read(ref KafkaReader reader, short version)
    {
        bool flexible = ApiVersionTable.CheckRead(ApiKey.ApiVersions, version);
        var message = new ApiVersionsResponse { ErrorCode = (ErrorCode)reader.ReadInt16() };
        int count = reader.ReadNonNullArrayLength(flexible);
        message.ApiKeys = new List<ApiVersion>(count);
        for (int i = 0; i < count; i++)
        {
            var item = new ApiVersion
            {
                ApiKey = (ApiKey)reader.ReadInt16(),
                MinVersion = reader.ReadInt16(),
                MaxVersion = reader.ReadInt16(),
            };
            if (flexible)
            {
                reader.SkipTaggedFields();
            }

            message.ApiKeys.Add(item);
        }

        if (version >= 1)
        {
            message.ThrottleTimeMs = reader.ReadInt32();
        }

        if (flexible)
        {
            int tagged = reader.ReadTaggedFieldCount();
            for (int i = 0; i < tagged; i++)
            {
                var field = new KafkaReader(reader.ReadTaggedField(out uint tag));
                switch (tag)
                {
                    case 0:
                        message.SupportedFeatures = ReadSupportedFeatures(ref field);
                        break;
                    case 1:
                        message.FinalizedFeaturesEpoch = field.ReadInt64();
                        break;
                    case 2:
                        message.FinalizedFeatures = ReadFinalizedFeatures(ref field);
                        break;
                    case 3:
                        message.ZkMigrationReady = field.ReadBoolean();
                        break;
                    default:
                        break;
                }
            }
        }

        return message;
    }

    /// <inheritdoc />
    public void Write(ref KafkaWriter writer, short version)
    {
        bool flexible = ApiVersionTable.CheckWrite(ApiKey.ApiVersions, version);
        writer.WriteInt16((short)ErrorCode);
        writer.WriteArrayLength(ApiKeys.Count, flexible);
        foreach (ApiVersion item in ApiKeys)
        {
            writer.WriteInt16((short)item.ApiKey);
            writer.WriteInt16(item.MinVersion);
            writer.WriteInt16(item.MaxVersion);
            if (flexible)
            {
                writer.WriteEmptyTaggedFields();
            }
        }

        if (version >= 1)
        {
            writer.WriteInt32(ThrottleTimeMs);
        }

        if (flexible)
        {
            WriteTaggedFields(ref writer);
        }
    }

    private void WriteTaggedFields(ref KafkaWriter writer)
    {
        bool hasSupported = SupportedFeatures.Count > 0;
        bool hasEpoch = FinalizedFeaturesEpoch != -1;
        bool hasFinalized = FinalizedFeatures.Count > 0;
        int count = (hasSupported ? 1 : 0) + (hasEpoch ? 1 : 0) + (hasFinalized ? 1 : 0) + (ZkMigrationReady ? 1 : 0);
        writer.WriteUnsignedVarInt((uint)count);
        if (hasSupported)
        {
            var measure = KafkaWriter.CreateMeasuring();
            WriteSupportedFeatures(ref measure);
            writer.WriteTaggedFieldHeader(0, (int)measure.BytesWritten);
            WriteSupportedFeatures(ref writer);
        }

        if (hasEpoch)
        {
            writer.WriteTaggedFieldHeader(1, 8);
            writer.WriteInt64(FinalizedFeaturesEpoch);
        }

        if (hasFinalized)
        {
            var measure = KafkaWriter.CreateMeasuring();
            WriteFinalizedFeatures(ref measure);
            writer.WriteTaggedFieldHeader(2, (int)measure.BytesWritten);
            WriteFinalizedFeatures(ref writer);
        }

        if (ZkMigrationReady)
        {
            writer.WriteTaggedFieldHeader(3, 1);
            writer.WriteBoolean(true);
        }
    }

    private static List<SupportedFeatureKey> ReadSupportedFeatures(ref KafkaReader reader)
    {
        int count = reader.ReadNonNullArrayLength(compact: true);
        var list = new List<SupportedFeatureKey>(count);
        for (int i = 0; i < count; i++)
        {
            list.Add(new SupportedFeatureKey
            {
                Name = reader.ReadCompactString(),
                MinVersion = reader.ReadInt16(),
                MaxVersion = reader.ReadInt16(),
            });
            reader.SkipTaggedFields();
        }

        return list;
    }

    private void WriteSupportedFeatures(ref KafkaWriter writer)
    {
        writer.WriteCompactArrayLength(SupportedFeatures.Count);
        foreach (SupportedFeatureKey item in SupportedFeatures)
        {
            writer.WriteCompactString(item.Name);
            writer.WriteInt16(item.MinVersion);
            writer.WriteInt16(item.MaxVersion);
            writer.WriteEmptyTaggedFields();
        }
    }

    private static List<FinalizedFeatureKey> ReadFinalizedFeatures(ref KafkaReader reader)
    {
        int count = reader.ReadNonNullArrayLength(compact: true);
        var list = new List<FinalizedFeatureKey>(count);
        for (int i = 0; i < count; i++)
        {
            list.Add(new FinalizedFeatureKey
            {
                Name = reader.ReadCompactString(),
                MaxVersionLevel = reader.ReadInt16(),
                MinVersionLevel = reader.ReadInt16(),
            });
            reader.SkipTaggedFields();
        }

        return list;
    }

    private void WriteFinalizedFeatures(ref KafkaWriter writer)
    {
        writer.WriteCompactArrayLength(FinalizedFeatures.Count);
        foreach (FinalizedFeatureKey item in FinalizedFeatures)
        {
            writer.WriteCompactString(item.Name);
            writer.WriteInt16(item.MaxVersionLevel);
            writer.WriteInt16(item.MinVersionLevel);
            writer.WriteEmptyTaggedFields();
        }
    }

    private static List<ApiVersion> SupportedList() =>
        [.. ApiVersionTable.Supported.Select(range => new ApiVersion { ApiKey = range.ApiKey, MinVersion = range.MinVersion, MaxVersion = range.MaxVersion })];

    /// <summary>One API the broker supports.</summary>
    public sealed class ApiVersion
    {
        /// <summary>The API index.</summary>
        public ApiKey ApiKey { get; set; }

        /// <summary>The minimum supported version, inclusive.</summary>
        public short MinVersion { get; set; }

        /// <summary>The maximum supported version, inclusive.</summary>
        public short MaxVersion { get; set; }
    }

    /// <summary>A feature the broker supports.</summary>
    public sealed class SupportedFeatureKey
    {
        /// <summary>The name of the feature.</summary>
        public string Name { get; set; } = "";

        /// <summary>The minimum supported version for the feature.</summary>
        public short MinVersion { get; set; }

        /// <summary>The maximum supported version for the feature.</summary>
        public short MaxVersion { get; set; }
    }

    /// <summary>A cluster-wide finalized feature.</summary>
    public sealed class FinalizedFeatureKey
    {
        /// <summary>The name of the feature.</summary>
        public string Name { get; set; } = "";

        /// <summary>The cluster-wide finalized max version level for the feature.</summary>
        public short MaxVersionLevel { get; set; }

        /// <summary>The cluster-wide finalized min version level for the feature.</summary>
        public short MinVersionLevel { get; set; }
    }
}
