using System.Buffers;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Blueprint.Storage.S3;
using Microsoft.AspNetCore.Http;

namespace Blueprint.Storage.Auth;

/// <summary>
/// Decodes an <c>aws-chunked</c> body (<c>hex-size[;chunk-signature=sig]\r\n data \r\n ... 0[;chunk-signature=sig]\r\n</c>
/// then either <c>\r\n</c> or trailer lines and an empty line) as it is read. Chunk data is handed to the caller as it
/// streams through and hashed on the way; a chunk's signature is checked when its end is reached, the trailers and
/// the digests before the end of the body is reported. Memory is one buffer, whatever the chunk size.
/// </summary>
internal sealed class AwsChunkedStream : ReadOnlyStream, IVerifiedBody
{
    private const int BufferSize = 16 * 1024;
    private const int MaxTrailerLines = 32;
    private static readonly byte[] ChunkStringToSignStart = Encoding.ASCII.GetBytes("AWS4-HMAC-SHA256-PAYLOAD\n");
    private static readonly byte[] TrailerStringToSignStart = Encoding.ASCII.GetBytes("AWS4-HMAC-SHA256-TRAILER\n");
    private static readonly byte[] EmptyHashLine = Encoding.ASCII.GetBytes("\n" + SigV4.EmptySha256 + "\n");

    private readonly Stream _inner;
    private readonly bool _trailers;
    private readonly long _decodedLength;
    private readonly PayloadDigests _digests;
    private readonly byte[] _buffer;
    private readonly IncrementalHash? _chunkHash;
    private readonly IncrementalHash? _hmac;
    private readonly byte[]? _scopeLines;
    private readonly byte[] _previousSignature = new byte[64];
    private readonly byte[] _chunkSignature = new byte[32];
    private readonly List<KeyValuePair<string, string>> _trailerValues = [];
    private int _start;
    private int _end;
    private long _remaining;
    private long _decoded;
    private State _state;
    private S3Exception? _failure;
    private bool _disposed;

    /// <summary>Decodes <paramref name="inner"/>; with a <paramref name="context"/> every chunk must be signed.</summary>
    public AwsChunkedStream(Stream inner, SigV4Context? context, bool trailers, long decodedLength, PayloadDigests digests)
    {
        _inner = inner;
        _trailers = trailers;
        _decodedLength = decodedLength;
        _digests = digests;
        _buffer = ArrayPool<byte>.Shared.Rent(BufferSize);
        if (context is not null)
        {
            _chunkHash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            _hmac = IncrementalHash.CreateHMAC(HashAlgorithmName.SHA256, context.SigningKey);
            _scopeLines = Encoding.ASCII.GetBytes(context.Timestamp + "\n" + context.Scope + "\n");
            Encoding.ASCII.GetBytes(context.Signature, _previousSignature);
        }
    }

    private enum State
    {
        ChunkHeader,
        ChunkData,
        ChunkEnd,
        FinalLine,
        Trailers,
        Done,
    }

    /// <summary>The body's checksums with their declared values (trailers included), once the end was read.</summary>
    public IReadOnlyList<PayloadChecksum> Checksums => _digests.Checksums;

    /// <summary>The trailers as sent (names lowercase), once the end was read.</summary>
    public IReadOnlyList<KeyValuePair<string, string>> Trailers => _trailerValues;

    protected override long Consumed => _decoded;

    public override int Read(byte[] buffer, int offset, int count)
    {
        ValidateBufferArguments(buffer, offset, count);
        ValueTask<int> read = ReadCoreAsync(buffer.AsMemory(offset, count), useAsync: false, CancellationToken.None);
        return read.IsCompleted ? read.Result : read.AsTask().GetAwaiter().GetResult();
    }

    public override int Read(Span<byte> buffer)
    {
        int count = Math.Min(buffer.Length, BufferSize);
        byte[] rented = ArrayPool<byte>.Shared.Rent(count);
        try
        {
            int n = Read(rented, 0, count);
            rented.AsSpan(0, n).CopyTo(buffer);
            return n;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(rented);
        }
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadCoreAsync(buffer.AsMemory(offset, count), useAsync: true, cancellationToken).AsTask();

    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
        ReadCoreAsync(buffer, useAsync: true, cancellationToken);

    protected override void Dispose(bool disposing)
    {
        if (disposing && !_disposed)
        {
            _disposed = true;
            ArrayPool<byte>.Shared.Return(_buffer);
            _chunkHash?.Dispose();
            _hmac?.Dispose();
            _digests.Dispose();
        }

        base.Dispose(disposing);
    }

    private async ValueTask<int> ReadCoreAsync(Memory<byte> destination, bool useAsync, CancellationToken cancellationToken)
    {
        if (_failure is not null)
        {
            throw _failure;
        }

        ObjectDisposedException.ThrowIf(_disposed, this);
        if (destination.IsEmpty || _state == State.Done)
        {
            return 0;
        }

        try
        {
            while (true)
            {
                switch (_state)
                {
                    case State.ChunkHeader:
                        {
                            int length = await ReadLineAsync(useAsync, allowEnd: false, cancellationToken).ConfigureAwait(false);
                            ParseChunkHeader(_buffer.AsSpan(_start - length - 2, length));
                            break;
                        }

                    case State.ChunkData:
                        {
                            if (_start == _end && await FillAsync(useAsync, cancellationToken).ConfigureAwait(false) == 0)
                            {
                                throw S3Exception.IncompleteBody("The body ended inside an aws-chunked chunk.");
                            }

                            int n = (int)Math.Min(Math.Min(destination.Length, _end - _start), _remaining);
                            ReadOnlySpan<byte> data = _buffer.AsSpan(_start, n);
                            data.CopyTo(destination.Span);
                            _chunkHash?.AppendData(data);
                            _digests.Append(data);
                            _start += n;
                            _remaining -= n;
                            _decoded += n;
                            if (_remaining == 0)
                            {
                                _state = State.ChunkEnd;
                            }

                            return n;
                        }

                    case State.ChunkEnd:
                        {
                            int length = await ReadLineAsync(useAsync, allowEnd: false, cancellationToken).ConfigureAwait(false);
                            if (length != 0)
                            {
                                throw S3Exception.InvalidRequest("Malformed aws-chunked body: a chunk's data is not followed by CRLF.");
                            }

                            VerifyChunk();
                            _state = State.ChunkHeader;
                            break;
                        }

                    case State.FinalLine:
                        {
                            int length = await ReadLineAsync(useAsync, allowEnd: false, cancellationToken).ConfigureAwait(false);
                            if (length != 0)
                            {
                                throw S3Exception.InvalidRequest("Malformed aws-chunked body: the final chunk is not followed by CRLF.");
                            }

                            Finish();
                            return 0;
                        }

                    case State.Trailers:
                        await ReadTrailersAsync(useAsync, cancellationToken).ConfigureAwait(false);
                        Finish();
                        return 0;

                    default:
                        return 0;
                }
            }
        }
        catch (S3Exception e)
        {
            _failure = e;
            throw;
        }
    }

    private void ParseChunkHeader(ReadOnlySpan<byte> line)
    {
        int semicolon = line.IndexOf((byte)';');
        ReadOnlySpan<byte> sizeText = (semicolon < 0 ? line : line[..semicolon]).Trim((byte)' ');
        if (sizeText.IsEmpty || sizeText.Length > 8 || !long.TryParse(Encoding.ASCII.GetString(sizeText), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out long size))
        {
            throw S3Exception.InvalidRequest("Malformed aws-chunked body: a chunk size is not hexadecimal.");
        }

        if (size > SigV4Payload.MaxChunkSize)
        {
            throw S3Exception.InvalidRequest($"An aws-chunked chunk may be at most {SigV4Payload.MaxChunkSize} bytes.");
        }

        if (_decoded + size > _decodedLength)
        {
            throw S3Exception.InvalidRequest("The aws-chunked body is longer than x-amz-decoded-content-length.");
        }

        if (_hmac is not null)
        {
            ReadOnlySpan<byte> prefix = "chunk-signature="u8;
            bool found = false;
            ReadOnlySpan<byte> extensions = semicolon < 0 ? [] : line[(semicolon + 1)..];
            foreach (Range range in extensions.Split((byte)';'))
            {
                ReadOnlySpan<byte> extension = extensions[range].Trim((byte)' ');
                if (extension.StartsWith(prefix))
                {
                    found = SigV4.TryParseSha256Hex(extension[prefix.Length..], _chunkSignature);
                    break;
                }
            }

            if (!found)
            {
                throw S3Exception.InvalidRequest("Malformed aws-chunked body: a chunk has no valid chunk-signature.");
            }
        }

        if (size > 0)
        {
            _remaining = size;
            _state = State.ChunkData;
            return;
        }

        VerifyChunk();
        _state = _trailers ? State.Trailers : State.FinalLine;
    }

    /// <summary>Checks the signature of the chunk just read (its data hashed in <see cref="_chunkHash"/>) and chains it.</summary>
    private void VerifyChunk()
    {
        if (_hmac is null)
        {
            return;
        }

        Span<byte> hash = stackalloc byte[32];
        _chunkHash!.GetHashAndReset(hash);
        Span<byte> hex = stackalloc byte[64];
        SigV4.WriteLowerHex(hash, hex);
        _hmac.AppendData(ChunkStringToSignStart);
        _hmac.AppendData(_scopeLines!);
        _hmac.AppendData(_previousSignature);
        _hmac.AppendData(EmptyHashLine);
        _hmac.AppendData(hex);
        CheckSignature();
    }

    private void CheckSignature()
    {
        Span<byte> expected = stackalloc byte[32];
        _hmac!.GetHashAndReset(expected);
        if (!CryptographicOperations.FixedTimeEquals(expected, _chunkSignature))
        {
            throw S3Exception.SignatureDoesNotMatch("The chunk signature we calculated does not match the signature you provided.");
        }

        SigV4.WriteLowerHex(_chunkSignature, _previousSignature);
    }

    private async ValueTask ReadTrailersAsync(bool useAsync, CancellationToken cancellationToken)
    {
        bool signatureSeen = false;
        bool first = true;
        while (true)
        {
            int length = await ReadLineAsync(useAsync, allowEnd: _trailerValues.Count == 0 && !signatureSeen, cancellationToken).ConfigureAwait(false);
            if (length < 0)
            {
                break;
            }

            if (length == 0)
            {
                if (first && _digests.Checksums.Count > 0)
                {
                    // Tolerates a CRLF between the final chunk and the trailers.
                    first = false;
                    continue;
                }

                break;
            }

            first = false;
            if (_trailerValues.Count >= MaxTrailerLines)
            {
                throw S3Exception.InvalidRequest("Too many trailers.");
            }

            ReadOnlySpan<byte> line = _buffer.AsSpan(_start - length - 2, length);
            int colon = line.IndexOf((byte)':');
            if (colon <= 0)
            {
                throw S3Exception.InvalidRequest("Malformed aws-chunked body: a trailer is not of the form name:value.");
            }

            string name = Encoding.ASCII.GetString(line[..colon].Trim((byte)' ')).ToLowerInvariant();
            ReadOnlySpan<byte> value = line[(colon + 1)..].Trim((byte)' ');
            if (name == "x-amz-trailer-signature")
            {
                if (_hmac is not null && !SigV4.TryParseSha256Hex(value, _chunkSignature))
                {
                    throw S3Exception.InvalidRequest("Malformed aws-chunked body: x-amz-trailer-signature is not 64 hex digits.");
                }

                signatureSeen = true;
                continue;
            }

            _trailerValues.Add(new(name, Encoding.UTF8.GetString(value)));
        }

        if (_hmac is not null)
        {
            if (!signatureSeen)
            {
                throw S3Exception.SignatureDoesNotMatch("The trailers carry no x-amz-trailer-signature.");
            }

            VerifyTrailerSignature();
        }

        foreach (KeyValuePair<string, string> trailer in _trailerValues)
        {
            _digests.SetTrailer(trailer.Key, trailer.Value);
        }
    }

    private void VerifyTrailerSignature()
    {
        // The trailers as canonical headers (sorted "name:value\n"), hashed; then chained like a chunk.
        var sorted = new List<KeyValuePair<string, string>>(_trailerValues);
        sorted.Sort(static (a, b) => string.CompareOrdinal(a.Key, b.Key));
        var canonical = new StringBuilder();
        foreach (KeyValuePair<string, string> trailer in sorted)
        {
            canonical.Append(trailer.Key).Append(':');
            SigV4.AppendTrimmed(canonical, trailer.Value);
            canonical.Append('\n');
        }

        Span<byte> hash = stackalloc byte[32];
        SigV4.Sha256Utf8(canonical, hash);
        Span<byte> hex = stackalloc byte[64];
        SigV4.WriteLowerHex(hash, hex);
        _hmac!.AppendData(TrailerStringToSignStart);
        _hmac.AppendData(_scopeLines!);
        _hmac.AppendData(_previousSignature);
        _hmac.AppendData("\n"u8);
        _hmac.AppendData(hex);
        CheckSignature();
    }

    private void Finish()
    {
        if (_decoded != _decodedLength)
        {
            throw S3Exception.IncompleteBody("The aws-chunked body is shorter than x-amz-decoded-content-length.");
        }

        _digests.Verify();
        _state = State.Done;
    }

    /// <summary>
    /// Reads up to the next CRLF; returns the line's length (the line ends 2 bytes before <see cref="_start"/>), or
    /// -1 when the body ends right here and <paramref name="allowEnd"/>. A longer line than allowed, or an end
    /// inside a line, throws.
    /// </summary>
    private async ValueTask<int> ReadLineAsync(bool useAsync, bool allowEnd, CancellationToken cancellationToken)
    {
        int searched = 0;
        while (true)
        {
            int index = _buffer.AsSpan(_start + searched, _end - _start - searched).IndexOf("\r\n"u8);
            if (index >= 0)
            {
                int length = searched + index;
                if (length > SigV4Payload.MaxLineLength)
                {
                    break;
                }

                _start += length + 2;
                return length;
            }

            searched = Math.Max(0, _end - _start - 1);
            if (searched > SigV4Payload.MaxLineLength + 1)
            {
                break;
            }

            if (await FillAsync(useAsync, cancellationToken).ConfigureAwait(false) == 0)
            {
                if (allowEnd && _start == _end)
                {
                    return -1;
                }

                throw S3Exception.IncompleteBody("The aws-chunked body ended inside a chunk header or trailer.");
            }
        }

        throw S3Exception.InvalidRequest($"Malformed aws-chunked body: a chunk header or trailer line is longer than {SigV4Payload.MaxLineLength} bytes.");
    }

    /// <summary>Moves what is unread to the front and reads more after it; returns how many bytes came (0 at the end).</summary>
    private async ValueTask<int> FillAsync(bool useAsync, CancellationToken cancellationToken)
    {
        if (_start > 0)
        {
            _buffer.AsSpan(_start, _end - _start).CopyTo(_buffer);
            _end -= _start;
            _start = 0;
        }

        if (_end == _buffer.Length)
        {
            return 0;
        }

        int n;
        try
        {
            n = useAsync
                ? await _inner.ReadAsync(_buffer.AsMemory(_end), cancellationToken).ConfigureAwait(false)
                : _inner.Read(_buffer, _end, _buffer.Length - _end);
        }
        catch (BadHttpRequestException e) when (e.StatusCode == StatusCodes.Status400BadRequest)
        {
            throw S3Exception.IncompleteBody();
        }

        _end += n;
        return n;
    }
}
