using Blueprint.Log.Kafka;

namespace Blueprint.Log.Records;

/// <summary>
/// Bytes that are not a well-formed Kafka record batch (or its records): a bad length, CRC, varint or compressed
/// payload, or a payload that inflates past the allowed size. Carries the Kafka error code a produce answers with.
/// </summary>
public sealed class RecordFormatException : Exception
{
    /// <summary>Creates the exception with <see cref="ErrorCode.CorruptMessage"/>.</summary>
    public RecordFormatException()
        : this(ErrorCode.CorruptMessage, "malformed record batch")
    {
    }

    /// <summary>Creates the exception with <see cref="ErrorCode.CorruptMessage"/> and a reason.</summary>
    /// <param name="message">What is wrong with the bytes.</param>
    public RecordFormatException(string message)
        : this(ErrorCode.CorruptMessage, message)
    {
    }

    /// <summary>Creates the exception with <see cref="ErrorCode.CorruptMessage"/>, a reason and its cause.</summary>
    /// <param name="message">What is wrong with the bytes.</param>
    /// <param name="innerException">The codec's own error.</param>
    public RecordFormatException(string message, Exception innerException)
        : base(message, innerException)
    {
        Code = ErrorCode.CorruptMessage;
    }

    /// <summary>Creates the exception with a code and a reason.</summary>
    /// <param name="code">The Kafka error code for the client.</param>
    /// <param name="message">What is wrong with the bytes.</param>
    public RecordFormatException(ErrorCode code, string message)
        : base(message)
    {
        Code = code;
    }

    /// <summary>The Kafka error code for the client (<see cref="ErrorCode.CorruptMessage"/> or <see cref="ErrorCode.InvalidRecord"/>).</summary>
    public ErrorCode Code { get; }
}
