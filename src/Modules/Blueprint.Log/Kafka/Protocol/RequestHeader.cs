namespace Blueprint.Log.Kafka.Protocol;

/// <summary>
/// A request header (Kafka's RequestHeader, versions 1 and 2): API key, API version, correlation id, client id, and in
/// version 2 (flexible requests) a tag buffer.
/// </summary>
/// <param name="ApiKey">The API; may be one this broker does not implement.</param>
/// <param name="ApiVersion">The API version; may be one this broker does not speak.</param>
/// <param name="CorrelationId">Echoed in the response header.</param>
/// <param name="ClientId">The client's id, or null.</param>
public sealed record RequestHeader(ApiKey ApiKey, short ApiVersion, int CorrelationId, string? ClientId)
{
    /// <summary>Whether the broker speaks this (API, version): only then can the body be read.</summary>
    public bool IsSupported => ApiVersionTable.IsSupported(ApiKey, ApiVersion);

    /// <summary>The header version this request used: 2 for a supported flexible version, else 1.</summary>
    public short HeaderVersion => IsSupported ? ApiVersionTable.RequestHeaderVersion(ApiKey, ApiVersion) : (short)1;

    /// <summary>
    /// Reads a request header. For an API or version the broker does not speak it reads the api key, version,
    /// correlation id and client id and stops — those four fields have the same layout in every header version — so
    /// that the broker can still answer with the correlation id.
    /// </summary>
    /// <param name="reader">Positioned at the start of a request frame's payload; left at the body.</param>
    /// <exception cref="KafkaProtocolException">The header is truncated or malformed.</exception>
    public static RequestHeader Read(ref KafkaReader reader)
    {
        var apiKey = (ApiKey)reader.ReadInt16();
        short apiVersion = reader.ReadInt16();
        int correlationId = reader.ReadInt32();

        // The client id keeps the int16 length even in header version 2, so that any broker can read the header of
        // any ApiVersions request.
        string? clientId = reader.ReadNullableString();
        if (ApiVersionTable.IsSupported(apiKey, apiVersion) && ApiVersionTable.IsFlexible(apiKey, apiVersion))
        {
            reader.SkipTaggedFields();
        }

        return new RequestHeader(apiKey, apiVersion, correlationId, clientId);
    }

    /// <summary>Writes the header in the version its (API, version) calls for (used by clients and tests).</summary>
    /// <param name="writer">Where to write.</param>
    public void Write(ref KafkaWriter writer)
    {
        writer.WriteInt16((short)ApiKey);
        writer.WriteInt16(ApiVersion);
        writer.WriteInt32(CorrelationId);
        writer.WriteNullableString(ClientId);
        if (ApiVersionTable.RequestHeaderVersion(ApiKey, ApiVersion) >= 2)
        {
            writer.WriteEmptyTaggedFields();
        }
    }
}

/// <summary>A response header (Kafka's ResponseHeader): the correlation id, and in version 1 a tag buffer.</summary>
/// <param name="CorrelationId">The correlation id of the request this answers.</param>
public readonly record struct ResponseHeader(int CorrelationId)
{
    /// <summary>Reads a response header of <paramref name="headerVersion"/> (0 or 1), skipping any tagged fields.</summary>
    /// <param name="reader">Positioned at the start of a response frame's payload; left at the body.</param>
    /// <param name="headerVersion">From <see cref="ApiVersionTable.ResponseHeaderVersion"/>.</param>
    /// <exception cref="KafkaProtocolException">The header is truncated or malformed.</exception>
    public static ResponseHeader Read(ref KafkaReader reader, short headerVersion)
    {
        int correlationId = reader.ReadInt32();
        if (headerVersion >= 1)
        {
            reader.SkipTaggedFields();
        }

        return new ResponseHeader(correlationId);
    }

    /// <summary>Writes the header in <paramref name="headerVersion"/> (0 or 1).</summary>
    /// <param name="writer">Where to write.</param>
    /// <param name="headerVersion">From <see cref="ApiVersionTable.ResponseHeaderVersion"/>.</param>
    public void Write(ref KafkaWriter writer, short headerVersion)
    {
        writer.WriteInt32(CorrelationId);
        if (headerVersion >= 1)
        {
            writer.WriteEmptyTaggedFields();
        }
    }
}
