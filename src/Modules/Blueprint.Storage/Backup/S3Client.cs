using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Xml;
using System.Xml.Linq;

namespace Blueprint.Storage.Backup;

/// <summary>An object as a listing shows it.</summary>
internal sealed record S3Listing(string Key, long Size, string ETag, DateTimeOffset LastModified);

/// <summary>What is stored with an object besides its bytes: the content type, user metadata (names without <c>x-amz-meta-</c>) and the other standard headers S3 keeps.</summary>
internal sealed record S3ObjectHeaders(string? ContentType, IReadOnlyDictionary<string, string> Metadata, IReadOnlyDictionary<string, string> Headers);

/// <summary>An object fetched to a file: its headers as the GET answered and the digests of the bytes written.</summary>
internal sealed record S3Download(long Size, string ETag, S3ObjectHeaders Headers, string Sha256);

/// <summary>An S3 error response: its code (<c>NoSuchBucket</c>...), status and message.</summary>
internal sealed class S3ClientException(string code, int status, string message) : Exception($"{code}: {message}")
{
    public string Code { get; } = code;

    public int Status { get; } = status;
}

/// <summary>Bytes that did not arrive as announced (short, or not matching the ETag's MD5): retried like a broken connection.</summary>
internal sealed class TransferCheckException(string message) : IOException(message);

/// <summary>An endpoint that could not be reached, or kept failing, after the retries.</summary>
internal sealed class S3UnreachableException(string message, Exception? inner) : Exception(message, inner);

/// <summary>
/// A small path-style S3 client for backup and restore: ListObjectsV2 paging, GET streamed to a file, PUT streamed from
/// a file (multipart above a threshold). Every call has an inactivity timeout (re-armed as bytes move) and is retried
/// with exponential backoff on connection errors, timeouts and 5xx answers.
/// </summary>
internal sealed class S3Client : IDisposable
{
    /// <summary>The standard headers S3 stores with an object and returns on GET, besides <c>Content-Type</c> and <c>x-amz-meta-*</c>.</summary>
    private static readonly string[] KeptHeaders = ["content-encoding", "content-disposition", "content-language", "cache-control", "expires"];

    private static readonly UriCreationOptions AsIs = new() { DangerousDisablePathAndQueryCanonicalization = true };

    private readonly HttpClient _http;
    private readonly S3Signer _signer;
    private readonly TimeSpan _timeout;
    private readonly int _attempts;

    public S3Client(Uri endpoint, string accessKey, string secretKey, string region, TimeSpan timeout, int attempts = 5, HttpMessageHandler? handler = null)
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        Endpoint = endpoint;
        _signer = new S3Signer(accessKey, secretKey, region, TimeProvider.System);
        _timeout = timeout;
        _attempts = Math.Max(1, attempts);
        _http = new HttpClient(handler ?? Handler(timeout)) { Timeout = Timeout.InfiniteTimeSpan };
    }

    /// <summary>The handler of a client: connections time out with the calls (at most 10 s), bodies are taken as they are.</summary>
    public static SocketsHttpHandler Handler(TimeSpan timeout) => new()
    {
        ConnectTimeout = timeout < TimeSpan.FromSeconds(10) ? timeout : TimeSpan.FromSeconds(10),
        AutomaticDecompression = DecompressionMethods.None,
        PooledConnectionIdleTimeout = TimeSpan.FromMinutes(1),
    };

    public Uri Endpoint { get; }

    public void Dispose() => _http.Dispose();

    /// <summary>Every object under <paramref name="prefix"/>, page by page (continuation tokens), in key order.</summary>
    public async IAsyncEnumerable<S3Listing> ListAsync(string bucket, string? prefix, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        string? token = null;
        do
        {
            List<(string, string?)> query = [("list-type", "2"), ("encoding-type", "url"), ("max-keys", "1000")];
            if (!string.IsNullOrEmpty(prefix))
            {
                query.Add(("prefix", prefix));
            }

            if (token is not null)
            {
                query.Add(("continuation-token", token));
            }

            var page = await SendAsync(() => Request(HttpMethod.Get, bucket, null, query), async (response, _, ct) => await ReadXmlAsync(response, ct).ConfigureAwait(false), cancellationToken).ConfigureAwait(false);
            foreach (var contents in page.Elements().Where(e => e.Name.LocalName == "Contents"))
            {
                yield return new S3Listing(
                    DecodeKey(Child(contents, "Key") ?? ""),
                    long.Parse(Child(contents, "Size") ?? "0", NumberStyles.None, CultureInfo.InvariantCulture),
                    Child(contents, "ETag") ?? "",
                    DateTimeOffset.Parse(Child(contents, "LastModified") ?? "1970-01-01T00:00:00Z", CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal));
            }

            token = Child(page, "IsTruncated") == "true" ? Child(page, "NextContinuationToken") : null;
        }
        while (token is not null);
    }

    /// <summary>Whether the bucket exists (HEAD bucket answers 200; 404 is false; anything else throws).</summary>
    public Task<bool> BucketExistsAsync(string bucket, CancellationToken cancellationToken) =>
        SendAsync(() => Request(HttpMethod.Head, bucket, null, []), (_, _, _) => Task.FromResult(true), cancellationToken, notFound: () => false);

    /// <summary>Creates the bucket (one the caller already owns is fine).</summary>
    public Task CreateBucketAsync(string bucket, CancellationToken cancellationToken) =>
        SendAsync(() => Request(HttpMethod.Put, bucket, null, []), (_, _, _) => Task.FromResult(true), cancellationToken, alreadyOwned: true);

    /// <summary>
    /// GETs an object into <paramref name="path"/> (created or replaced), hashing while it streams: the SHA-256 is
    /// returned, and when the ETag is a plain MD5 (a single-part upload) the MD5 must match it, as must the length.
    /// </summary>
    public Task<S3Download> DownloadAsync(string bucket, string key, string path, CancellationToken cancellationToken) =>
        SendAsync(() => Request(HttpMethod.Get, bucket, key, []), async (response, guard, ct) =>
        {
            var etag = response.Headers.ETag?.ToString() ?? "";
            var expected = response.Content.Headers.ContentLength;
            using var sha256 = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            using var md5 = IncrementalHash.CreateHash(HashAlgorithmName.MD5);
            long written = 0;
            var body = await response.Content.ReadAsStreamAsync(ct).ConfigureAwait(false);
            await using (body.ConfigureAwait(false))
            {
                var file = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None, 1, FileOptions.Asynchronous);
                await using (file.ConfigureAwait(false))
                {
                    var buffer = new byte[128 * 1024];
                    int n;
                    while ((n = await body.ReadAsync(buffer, ct).ConfigureAwait(false)) > 0)
                    {
                        guard.Touch();
                        sha256.AppendData(buffer, 0, n);
                        md5.AppendData(buffer, 0, n);
                        await file.WriteAsync(buffer.AsMemory(0, n), ct).ConfigureAwait(false);
                        written += n;
                    }

                    await file.FlushAsync(ct).ConfigureAwait(false);
                }
            }

            if (expected is { } length && length != written)
            {
                throw new TransferCheckException($"{key}: the GET ended after {written} of {length} bytes");
            }

            var plain = etag.Trim('"');
            if (plain.Length == 32 && !plain.Contains('-', StringComparison.Ordinal)
                && !string.Equals(Convert.ToHexStringLower(md5.GetHashAndReset()), plain, StringComparison.OrdinalIgnoreCase))
            {
                throw new TransferCheckException($"{key}: the bytes received do not match the ETag's MD5 {etag}");
            }

            return new S3Download(written, etag, ReadHeaders(response), Convert.ToHexStringLower(sha256.GetHashAndReset()));
        }, cancellationToken);

    /// <summary>
    /// PUTs <paramref name="path"/> as an object with <paramref name="headers"/>: one request up to
    /// <paramref name="multipartThreshold"/> bytes, a multipart upload of <paramref name="partSize"/> parts above it
    /// (aborted if it fails). Returns the new ETag.
    /// </summary>
    public async Task<string> UploadAsync(string bucket, string key, string path, S3ObjectHeaders headers, long multipartThreshold, long partSize, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(headers);
        var length = new FileInfo(path).Length;
        if (length <= multipartThreshold)
        {
            return await SendAsync(() => WithHeaders(Request(HttpMethod.Put, bucket, key, [], FileContent(path, 0, length)), headers),
                (response, _, _) => Task.FromResult(response.Headers.ETag?.ToString() ?? ""), cancellationToken).ConfigureAwait(false);
        }

        var create = await SendAsync(() => WithHeaders(Request(HttpMethod.Post, bucket, key, [("uploads", null)], new ByteArrayContent([])), headers),
            async (response, _, ct) => await ReadXmlAsync(response, ct).ConfigureAwait(false), cancellationToken).ConfigureAwait(false);
        var uploadId = Child(create, "UploadId") ?? throw new S3ClientException("InvalidResponse", 200, "CreateMultipartUpload returned no UploadId");
        try
        {
            var parts = new XElement("CompleteMultipartUpload");
            var number = 1;
            for (long offset = 0; offset < length; offset += partSize, number++)
            {
                var size = Math.Min(partSize, length - offset);
                var (part, start) = (number, offset);
                var etag = await SendAsync(
                    () => Request(HttpMethod.Put, bucket, key, [("partNumber", part.ToString(CultureInfo.InvariantCulture)), ("uploadId", uploadId)], FileContent(path, start, size)),
                    (response, _, _) => Task.FromResult(response.Headers.ETag?.ToString() ?? ""), cancellationToken).ConfigureAwait(false);
                parts.Add(new XElement("Part", new XElement("PartNumber", part), new XElement("ETag", etag)));
            }

            var body = parts.ToString(SaveOptions.DisableFormatting);
            var done = await SendAsync(() => Request(HttpMethod.Post, bucket, key, [("uploadId", uploadId)], new StringContent(body, MediaTypeHeaderValue.Parse("application/xml"))),
                async (response, _, ct) => await ReadXmlAsync(response, ct).ConfigureAwait(false), cancellationToken).ConfigureAwait(false);
            if (done.Name.LocalName == "Error")
            {
                throw new S3ClientException(Child(done, "Code") ?? "InternalError", 200, Child(done, "Message") ?? "CompleteMultipartUpload failed");
            }

            return Child(done, "ETag") ?? "";
        }
        catch
        {
            try
            {
                await SendAsync(() => Request(HttpMethod.Delete, bucket, key, [("uploadId", uploadId)]), (_, _, _) => Task.FromResult(true), CancellationToken.None).ConfigureAwait(false);
            }
            catch (Exception e) when (e is S3ClientException or S3UnreachableException)
            {
                // The failed upload is the error to report; an upload left behind is what S3's lifecycle rules clean.
            }

            throw;
        }
    }

    private HttpRequestMessage Request(HttpMethod method, string bucket, string? key, IEnumerable<(string Name, string? Value)> query, HttpContent? content = null)
    {
        var target = S3Signer.EncodePath(bucket, key);
        var encodedQuery = S3Signer.EncodeQuery(query);
        var uri = new Uri(Endpoint.GetLeftPart(UriPartial.Authority) + target + (encodedQuery.Length > 0 ? "?" + encodedQuery : ""), in AsIs);
        return new HttpRequestMessage(method, uri) { Content = content };
    }

    private static HttpRequestMessage WithHeaders(HttpRequestMessage request, S3ObjectHeaders headers)
    {
        var content = request.Content!;
        if (headers.ContentType is { Length: > 0 } type)
        {
            content.Headers.TryAddWithoutValidation("Content-Type", type);
        }

        foreach (var (name, value) in headers.Metadata)
        {
            request.Headers.TryAddWithoutValidation("x-amz-meta-" + name, value);
        }

        foreach (var (name, value) in headers.Headers)
        {
            if (!content.Headers.TryAddWithoutValidation(name, value))
            {
                request.Headers.TryAddWithoutValidation(name, value);
            }
        }

        return request;
    }

    private static FileSliceContent FileContent(string path, long offset, long length)
    {
        return new FileSliceContent(path, offset, length);
    }

    private static S3ObjectHeaders ReadHeaders(HttpResponseMessage response)
    {
        Dictionary<string, string> metadata = new(StringComparer.Ordinal);
        Dictionary<string, string> kept = new(StringComparer.Ordinal);
        string? contentType = null;
        foreach (var (name, values) in response.Headers.NonValidated.Concat(response.Content.Headers.NonValidated))
        {
            var lower = name.ToLowerInvariant();
            if (lower.StartsWith("x-amz-meta-", StringComparison.Ordinal))
            {
                metadata[lower["x-amz-meta-".Length..]] = values.ToString();
            }
            else if (lower == "content-type")
            {
                contentType = values.ToString();
            }
            else if (Array.IndexOf(KeptHeaders, lower) >= 0)
            {
                kept[lower] = values.ToString();
            }
        }

        return new S3ObjectHeaders(contentType, metadata, kept);
    }

    /// <summary>
    /// Sends the request <paramref name="build"/> makes and hands a success to <paramref name="handle"/>, both under an
    /// inactivity timeout; retries connection errors, timeouts, short bodies and 5xx with backoff. An S3 error answer
    /// throws <see cref="S3ClientException"/> (404 is <paramref name="notFound"/>'s value when given); running out of
    /// attempts throws <see cref="S3UnreachableException"/>.
    /// </summary>
    private async Task<T> SendAsync<T>(Func<HttpRequestMessage> build, Func<HttpResponseMessage, TimeoutGuard, CancellationToken, Task<T>> handle, CancellationToken cancellationToken, Func<T>? notFound = null, bool alreadyOwned = false)
    {
        for (var attempt = 1; ; attempt++)
        {
            using (var guard = new TimeoutGuard(_timeout, cancellationToken))
            {
                try
                {
                    using var request = build();
                    _signer.Sign(request);
                    if (request.Content is FileSliceContent file)
                    {
                        file.Progress = guard.Touch;
                    }

                    using var response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, guard.Token).ConfigureAwait(false);
                    if (response.IsSuccessStatusCode)
                    {
                        return await handle(response, guard, guard.Token).ConfigureAwait(false);
                    }

                    if (response.StatusCode == HttpStatusCode.NotFound && notFound is not null)
                    {
                        return notFound();
                    }

                    var error = await ReadErrorAsync(response, guard.Token).ConfigureAwait(false);
                    if (alreadyOwned && error.Code == "BucketAlreadyOwnedByYou")
                    {
                        return default!;
                    }

                    if (error.Status < 500 || attempt >= _attempts)
                    {
                        throw error;
                    }
                }
                catch (Exception e) when (e is HttpRequestException or IOException || (e is OperationCanceledException && !cancellationToken.IsCancellationRequested))
                {
                    var failure = e is OperationCanceledException ? new TimeoutException($"no progress in {_timeout.TotalSeconds.ToString(CultureInfo.InvariantCulture)} s") : e;
                    if (attempt >= _attempts && e is TransferCheckException)
                    {
                        throw new BackupIntegrityException($"{e.Message} ({attempt.ToString(CultureInfo.InvariantCulture)} attempts)");
                    }

                    if (attempt >= _attempts)
                    {
                        throw new S3UnreachableException($"{Endpoint.GetLeftPart(UriPartial.Authority)}: {failure.Message}", failure);
                    }
                }
            }

            var delay = TimeSpan.FromMilliseconds((200 << Math.Min(attempt - 1, 6)) + Random.Shared.Next(100));
            await Task.Delay(delay, cancellationToken).ConfigureAwait(false);
        }
    }

    private static async Task<S3ClientException> ReadErrorAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        var status = (int)response.StatusCode;
        try
        {
            var error = await ReadXmlAsync(response, cancellationToken).ConfigureAwait(false);
            return new S3ClientException(Child(error, "Code") ?? $"Http{status}", status, Child(error, "Message") ?? response.ReasonPhrase ?? "");
        }
        catch (XmlException)
        {
            var code = response.StatusCode switch
            {
                HttpStatusCode.NotFound => "NotFound",
                HttpStatusCode.Forbidden => "AccessDenied",
                _ => $"Http{status}",
            };
            return new S3ClientException(code, status, response.ReasonPhrase ?? "");
        }
    }

    private static async Task<XElement> ReadXmlAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        var stream = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
        await using (stream.ConfigureAwait(false))
        {
            using var reader = XmlReader.Create(stream, new XmlReaderSettings
            {
                DtdProcessing = DtdProcessing.Prohibit,
                XmlResolver = null,
                MaxCharactersInDocument = 64 * 1024 * 1024,
                Async = true,
            });
            return (await XDocument.LoadAsync(reader, LoadOptions.None, cancellationToken).ConfigureAwait(false)).Root ?? throw new XmlException("empty document");
        }
    }

    private static string? Child(XElement parent, string name) => parent.Elements().FirstOrDefault(e => e.Name.LocalName == name)?.Value;

    /// <summary>Keys of a listing with <c>encoding-type=url</c>: S3 writes a space as '+' (and '+' as <c>%2B</c>), others <c>%20</c>; both decode.</summary>
    private static string DecodeKey(string encoded) => Uri.UnescapeDataString(encoded.Replace('+', ' '));

    /// <summary>A deadline for one call that moves on whenever bytes move (<see cref="Touch"/>).</summary>
    private sealed class TimeoutGuard : IDisposable
    {
        private readonly CancellationTokenSource _source;
        private readonly TimeSpan _timeout;

        public TimeoutGuard(TimeSpan timeout, CancellationToken outer)
        {
            _timeout = timeout;
            _source = CancellationTokenSource.CreateLinkedTokenSource(outer);
            _source.CancelAfter(timeout);
        }

        public CancellationToken Token => _source.Token;

        public void Touch() => _source.CancelAfter(_timeout);

        public void Dispose() => _source.Dispose();
    }

    /// <summary>A byte range of a file as a request body, read from disk as it is sent (never held in memory).</summary>
    private sealed class FileSliceContent(string path, long offset, long count) : HttpContent
    {
        /// <summary>Called as each chunk goes out: re-arms the call's inactivity timeout.</summary>
        public Action? Progress { get; set; }

        protected override Task SerializeToStreamAsync(Stream stream, TransportContext? context) =>
            SerializeToStreamAsync(stream, context, CancellationToken.None);

        protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context, CancellationToken cancellationToken)
        {
            var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1, FileOptions.Asynchronous);
            await using (file.ConfigureAwait(false))
            {
                file.Position = offset;
                var buffer = new byte[128 * 1024];
                var left = count;
                while (left > 0)
                {
                    var n = await file.ReadAsync(buffer.AsMemory(0, (int)Math.Min(buffer.Length, left)), cancellationToken).ConfigureAwait(false);
                    if (n == 0)
                    {
                        throw new IOException($"{path} ended {left} bytes early");
                    }

                    await stream.WriteAsync(buffer.AsMemory(0, n), cancellationToken).ConfigureAwait(false);
                    left -= n;
                    Progress?.Invoke();
                }
            }
        }

        protected override bool TryComputeLength(out long length)
        {
            length = count;
            return true;
        }
    }
}
