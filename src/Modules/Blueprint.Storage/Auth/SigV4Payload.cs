using System.Globalization;
using Blueprint.Storage.S3;
using Microsoft.AspNetCore.Http;

namespace Blueprint.Storage.Auth;

/// <summary>A body opened by <see cref="SigV4Payload.Open"/>: the checksums it was checked against.</summary>
internal interface IVerifiedBody
{
    /// <summary>
    /// The <c>x-amz-checksum-*</c> checksums of the body (from headers or trailers), each with the value the client
    /// declared; once the stream has reported its end, every one of them held.
    /// </summary>
    IReadOnlyList<PayloadChecksum> Checksums { get; }
}

/// <summary>Opens a request's body as the client meant it, checked as it is read against what the request declares.</summary>
internal static class SigV4Payload
{
    /// <summary>The largest aws-chunked chunk accepted.</summary>
    public const int MaxChunkSize = 16 * 1024 * 1024;

    /// <summary>The longest aws-chunked chunk header (or trailer) line accepted, without its CRLF.</summary>
    public const int MaxLineLength = 4096;

    /// <summary>
    /// The request body as the client meant it, and its decoded length when known (<c>Content-Length</c>, or
    /// <c>x-amz-decoded-content-length</c> for aws-chunked). The stream throws <see cref="S3Exception"/> from its reads
    /// on a mismatch, at the latest when the end is reached (before it reports the end):
    /// <list type="bullet">
    /// <item>a hex <c>x-amz-content-sha256</c>: the whole body's SHA-256 (<c>XAmzContentSHA256Mismatch</c>);</item>
    /// <item><c>UNSIGNED-PAYLOAD</c> (and presigned requests): no payload hash;</item>
    /// <item><c>STREAMING-AWS4-HMAC-SHA256-PAYLOAD</c>: aws-chunked, each chunk's signature chained from the seed
    /// signature (<c>SignatureDoesNotMatch</c>);</item>
    /// <item><c>STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER</c>: the same, then the trailers and their
    /// <c>x-amz-trailer-signature</c>;</item>
    /// <item><c>STREAMING-UNSIGNED-PAYLOAD-TRAILER</c>: aws-chunked without chunk signatures, with trailers.</item>
    /// </list>
    /// In every mode, a <c>Content-MD5</c> header, <c>x-amz-checksum-*</c> headers (crc32, crc32c, crc64nvme, sha1,
    /// sha256) and the checksum trailers named in <c>x-amz-trailer</c> are checked against the decoded bytes
    /// (<c>BadDigest</c>); a body shorter than declared is <c>IncompleteBody</c>. The stream is an
    /// <see cref="IVerifiedBody"/>, for the checksums to be stored with the object.
    /// </summary>
    public static (Stream Body, long? Length) Open(HttpRequest request, SigV4Context? context)
    {
        ArgumentNullException.ThrowIfNull(request);
        string mode = context?.ContentSha256 ?? request.Headers["x-amz-content-sha256"].ToString();
        bool signedChunks = mode is SigV4.StreamingSigned or SigV4.StreamingSignedTrailer;
        bool trailers = mode is SigV4.StreamingSignedTrailer or SigV4.StreamingUnsignedTrailer;
        if (signedChunks && context is null)
        {
            throw S3Exception.AccessDenied("A streaming signed payload needs a signed request.");
        }

        if (signedChunks || trailers)
        {
            string decoded = request.Headers["x-amz-decoded-content-length"].ToString();
            if (decoded.Length == 0)
            {
                throw S3Exception.MissingContentLength();
            }

            if (!long.TryParse(decoded, NumberStyles.None, CultureInfo.InvariantCulture, out long decodedLength))
            {
                throw S3Exception.InvalidArgument("x-amz-decoded-content-length must be a non-negative integer.");
            }

            PayloadDigests chunkedDigests = PayloadDigests.For(request, null, trailers);
            return (new AwsChunkedStream(request.Body, signedChunks ? context : null, trailers, decodedLength, chunkedDigests), decodedLength);
        }

        string? sha256 = SigV4.IsSha256Hex(mode) ? mode : null;
        PayloadDigests digests = PayloadDigests.For(request, sha256, trailers: false);
        long? length = request.ContentLength;
        return (new VerifyingStream(request.Body, length, digests), length);
    }
}
