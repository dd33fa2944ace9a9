namespace Blueprint.Log.Kafka.Protocol;

/// <summary>A Kafka request or response body that can write itself at any version its API supports.</summary>
public interface IKafkaMessage
{
    /// <summary>The API this message belongs to.</summary>
    ApiKey ApiKey { get; }

    /// <summary>Writes the message body (no header, no size) at <paramref name="version"/>.</summary>
    /// <param name="writer">Where to write.</param>
    /// <param name="version">The API version; fields absent from it are not written.</param>
    /// <exception cref="ArgumentOutOfRangeException">The broker does not speak <paramref name="version"/>.</exception>
    /// <exception cref="ArgumentException">A value the version cannot carry (a null where it has none, an oversized string).</exception>
    void Write(ref KafkaWriter writer, short version);
}

/// <summary>A Kafka message that can also be read at any version its API supports.</summary>
/// <typeparam name="TSelf">The message type.</typeparam>
public interface IKafkaMessage<TSelf> : IKafkaMessage
    where TSelf : IKafkaMessage<TSelf>
{
    /// <summary>Reads the message body (after the header) at <paramref name="version"/>.</summary>
    /// <param name="reader">Positioned at the body.</param>
    /// <param name="version">The API version from the request header.</param>
    /// <exception cref="KafkaProtocolException">Truncated or malformed input, or a version the broker does not speak.</exception>
    static abstract TSelf Read(ref KafkaReader reader, short version);
}
