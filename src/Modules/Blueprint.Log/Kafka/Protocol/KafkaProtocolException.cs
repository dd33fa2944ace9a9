namespace Blueprint.Log.Kafka.Protocol;

/// <summary>
/// Bytes from the wire do not form a valid Kafka message: truncated, a negative or absurd length, a null where the
/// protocol forbids one, or a version this broker does not speak. An operating error: the broker answers with the
/// protocol's error where it can and otherwise closes the connection.
/// </summary>
public sealed class KafkaProtocolException : Exception
{
    /// <summary>Creates the exception.</summary>
    public KafkaProtocolException()
    {
    }

    /// <summary>Creates the exception with what was wrong with the input.</summary>
    /// <param name="message">What was wrong, with the offending value.</param>
    public KafkaProtocolException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with what was wrong with the input and its cause.</summary>
    /// <param name="message">What was wrong, with the offending value.</param>
    /// <param name="innerException">The cause.</param>
    public KafkaProtocolException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
