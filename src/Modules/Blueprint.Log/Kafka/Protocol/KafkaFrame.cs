using System.Buffers;
using System.Buffers.Binary;

namespace Blueprint.Log.Kafka.Protocol;

/// <summary>
/// Kafka's framing: every request and response is an int32 big-endian size followed by that many bytes (header and
/// body).
/// </summary>
public static class KafkaFrame
{
    /// <summary>The size prefix's length in bytes.</summary>
    public const int SizePrefixBytes = 4;

    /// <summary>Kafka's default largest request (socket.request.max.bytes, 100 MiB); a frame announcing more is rejected.</summary>
    public const int DefaultMaxFrameBytes = 100 * 1024 * 1024;

    /// <summary>
    /// Takes one complete frame off the front of <paramref name="buffer"/>, if it holds one. The size is checked as soon
    /// as its four bytes are there, before any of the payload is awaited or buffered.
    /// </summary>
    /// <param name="buffer">Received bytes; on success, advanced past the frame.</param>
    /// <param name="maxFrameBytes">The largest payload accepted.</param>
    /// <param name="frame">The payload (without the size prefix), a slice of <paramref name="buffer"/>.</param>
    /// <returns>Whether a complete frame was there; false means read more.</returns>
    /// <exception cref="KafkaProtocolException">The size is negative or above <paramref name="maxFrameBytes"/>.</exception>
    public static bool TryReadFrame(ref ReadOnlySequence<byte> buffer, int maxFrameBytes, out ReadOnlySequence<byte> frame)
    {
        frame = default;
        if (buffer.Length < SizePrefixBytes)
        {
            return false;
        }

        Span<byte> prefix = stackalloc byte[SizePrefixBytes];
        buffer.Slice(0, SizePrefixBytes).CopyTo(prefix);
        int size = BinaryPrimitives.ReadInt32BigEndian(prefix);
        if (size < 0)
        {
            throw new KafkaProtocolException($"A frame announces a negative size ({size}).");
        }

        if (size > maxFrameBytes)
        {
            throw new KafkaProtocolException($"A frame announces {size} bytes, above the limit of {maxFrameBytes}.");
        }

        if (buffer.Length - SizePrefixBytes < size)
        {
            return false;
        }

        frame = buffer.Slice(SizePrefixBytes, size);
        buffer = buffer.Slice(frame.End);
        return true;
    }

    /// <summary>
    /// The frame's payload as one contiguous block: the frame's own memory when it is a single segment (no copy),
    /// else a copy.
    /// </summary>
    /// <param name="frame">A frame from <see cref="TryReadFrame"/>.</param>
    public static ReadOnlyMemory<byte> ToContiguous(in ReadOnlySequence<byte> frame) =>
        frame.IsSingleSegment ? frame.First : frame.ToArray();

    /// <summary>
    /// Writes a response frame answering <paramref name="request"/>: size, response header (in the version the
    /// request's API and version call for), and <paramref name="body"/> at the request's version.
    /// </summary>
    /// <param name="output">Where the frame goes.</param>
    /// <param name="request">The request being answered.</param>
    /// <param name="body">The response body.</param>
    public static void WriteResponse(IBufferWriter<byte> output, RequestHeader request, IKafkaMessage body)
    {
        ArgumentNullException.ThrowIfNull(request);
        WriteResponse(output, request.CorrelationId, ApiVersionTable.ResponseHeaderVersion(request.ApiKey, request.ApiVersion), body, request.ApiVersion);
    }

    /// <summary>
    /// Writes a response frame: size, response header (correlation id, plus an empty tag buffer in header version 1)
    /// and <paramref name="body"/> at <paramref name="version"/>. The body is measured first and then written once, so
    /// large record sets are not staged in a second buffer.
    /// </summary>
    /// <param name="output">Where the frame goes.</param>
    /// <param name="correlationId">The request's correlation id.</param>
    /// <param name="headerVersion">The response header version (0 or 1).</param>
    /// <param name="body">The response body.</param>
    /// <param name="version">The version to write the body at.</param>
    public static void WriteResponse(IBufferWriter<byte> output, int correlationId, short headerVersion, IKafkaMessage body, short version)
    {
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(body);
        var header = new ResponseHeader(correlationId);

        var measure = KafkaWriter.CreateMeasuring();
        header.Write(ref measure, headerVersion);
        body.Write(ref measure, version);
        int size = CheckedSize(measure.BytesWritten);

        var writer = new KafkaWriter(output);
        writer.WriteInt32(size);
        header.Write(ref writer, headerVersion);
        body.Write(ref writer, version);
        CheckWritten(writer.BytesWritten, size, body);
    }

    /// <summary>
    /// Writes an ApiVersions version 0 response carrying <see cref="ErrorCode.UnsupportedVersion"/> and the supported
    /// versions: Kafka's answer to an ApiVersions request of a version the broker does not speak (KIP-511), from which
    /// the client retries with the highest version listed for ApiVersions.
    /// </summary>
    /// <param name="output">Where the frame goes.</param>
    /// <param name="correlationId">The request's correlation id.</param>
    public static void WriteApiVersionsUnsupported(IBufferWriter<byte> output, int correlationId) =>
        WriteResponse(output, correlationId, 0, ApiVersionsResponse.CreateUnsupportedVersion(), 0);

    /// <summary>Writes a request frame: size, request header and body at the header's version (for clients and tests).</summary>
    /// <param name="output">Where the frame goes.</param>
    /// <param name="header">The request header.</param>
    /// <param name="body">The request body.</param>
    public static void WriteRequest(IBufferWriter<byte> output, RequestHeader header, IKafkaMessage body)
    {
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(header);
        ArgumentNullException.ThrowIfNull(body);

        var measure = KafkaWriter.CreateMeasuring();
        header.Write(ref measure);
        body.Write(ref measure, header.ApiVersion);
        int size = CheckedSize(measure.BytesWritten);

        var writer = new KafkaWriter(output);
        writer.WriteInt32(size);
        header.Write(ref writer);
        body.Write(ref writer, header.ApiVersion);
        CheckWritten(writer.BytesWritten, size, body);
    }

    private static int CheckedSize(long bytes) =>
        bytes <= int.MaxValue ? (int)bytes : throw new ArgumentException($"A message of {bytes} bytes does not fit one frame.");

    // The size prefix is already out when the body is written; a body that writes a different length the second time
    // (a list changed by another thread) would corrupt the stream, so it is a programmer error that must not pass.
    private static void CheckWritten(long written, int size, IKafkaMessage body)
    {
        if (written != (long)size + SizePrefixBytes)
        {
            throw new InvalidOperationException($"{body.GetType().Name} wrote {written - SizePrefixBytes} bytes after measuring {size}; was it changed while being written?");
        }
    }
}
