using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Xml.Linq;
using Blueprint.Storage.Auth;
using Blueprint.Storage.Cluster;
using Blueprint.Storage.Local;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Microsoft.Net.Http.Headers;
using static Blueprint.Storage.S3.S3Xml;

namespace Blueprint.Storage.S3;

/// <summary>
/// The S3 REST API (path-style addressing) on the storage port: every request on that port is S3's, authenticated by
/// SigV4 (header or presigned URL), answered with S3's headers and XML, and refused with S3's error codes.
/// </summary>
internal sealed partial class S3Api
{
    private const int MaxXmlBody = 4 * 1024 * 1024;
    private const int MaxUserMetadataBytes = 2048;
    private const int MaxPartNumber = 10_000;

    /// <summary>Stored with an object and returned on GET and HEAD, besides <c>x-amz-meta-*</c>.</summary>
    private static readonly string[] StoredHeaders =
        ["content-type", "content-encoding", "content-disposition", "content-language", "cache-control", "expires"];

    private readonly ObjectService _objects;
    private readonly LocalStore _store;
    private readonly ReplicaApi _replicas;
    private readonly StorageKeys _keys;
    private readonly StorageOptions _options;

    public S3Api(ObjectService objects, ReplicaApi replicas, StorageKeys keys, IOptions<StorageOptions> options)
    {
        _objects = objects;
        _store = objects.Store;
        _replicas = replicas;
        _keys = keys;
        _options = options.Value;
    }

    public async Task HandleAsync(HttpContext context)
    {
        // S3's own limits bound bodies here (MaxPutBytes, part sizes; a replica's size from its record), not the node's
        // general request limit, which would cut every object above it.
        if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } limit)
        {
            limit.MaxRequestBodySize = null;
        }

        if (context.Request.Path.StartsWithSegments("/_blueprint", out var operation))
        {
            await _replicas.HandleAsync(context, operation.Value?.Trim('/') ?? "").ConfigureAwait(false);
            return;
        }

        var requestId = Convert.ToHexString(RandomNumberGenerator.GetBytes(8));
        var response = context.Response;
        response.Headers["x-amz-request-id"] = requestId;
        response.Headers.Server = "Blueprint";
        try
        {
            var auth = _keys.Verifier.Verify(context.Request) ?? throw S3Exception.AccessDenied("Anonymous access is not allowed: sign the request (create a key with blueprint storage create-key).");
            await DispatchAsync(context, auth, context.RequestAborted).ConfigureAwait(false);
        }
        catch (S3Exception error) when (!response.HasStarted)
        {
            response.Clear();
            response.Headers["x-amz-request-id"] = requestId;
            await WriteErrorAsync(context, error, requestId).ConfigureAwait(false);
        }
        catch (CorruptBlobException) when (!response.HasStarted)
        {
            response.Clear();
            await WriteErrorAsync(context, new S3Exception("InternalError", 500, "The object's stored bytes failed their checksum on this node; it was not served."), requestId).ConfigureAwait(false);
        }
        catch (Exception e) when (e is S3Exception or CorruptBlobException or IOException && response.HasStarted)
        {
            // The status line is gone: cut the body short so the client sees a failed transfer, never wrong bytes.
            context.Abort();
        }
        catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
        {
        }
    }

    private Task DispatchAsync(HttpContext context, SigV4Context auth, CancellationToken cancellationToken)
    {
        var request = context.Request;
        var rawTarget = context.Features.Get<IHttpRequestFeature>()?.RawTarget ?? request.Path.Value ?? "/";
        var query = rawTarget.IndexOf('?', StringComparison.Ordinal);
        var (bucket, key) = S3Names.Split(query < 0 ? rawTarget : rawTarget[..query]);
        var q = request.Query;
        var method = request.Method;

        if (bucket.Length == 0)
        {
            return HttpMethods.IsGet(method) ? ListBucketsAsync(context, cancellationToken) : throw S3Exception.MethodNotAllowed();
        }

        S3Names.CheckBucket(bucket);
        if (key.Length == 0)
        {
            foreach (var unsupported in (string[])["acl", "policy", "lifecycle", "cors", "tagging", "encryption", "website", "replication", "object-lock", "notification", "logging", "ownershipControls", "publicAccessBlock", "accelerate", "requestPayment", "analytics", "metrics", "inventory", "intelligent-tiering", "versions"])
            {
                if (q.ContainsKey(unsupported))
                {
                    throw S3Exception.NotImplemented($"the bucket subresource ?{unsupported}");
                }
            }

            return method switch
            {
                _ when HttpMethods.IsPut(method) => CreateBucketAsync(context, auth, bucket, cancellationToken),
                _ when HttpMethods.IsDelete(method) => DeleteBucketAsync(context, bucket, cancellationToken),
                _ when HttpMethods.IsHead(method) => HeadBucketAsync(context, bucket, cancellationToken),
                _ when HttpMethods.IsGet(method) && q.ContainsKey("location") => GetLocationAsync(context, bucket, cancellationToken),
                _ when HttpMethods.IsGet(method) && q.ContainsKey("versioning") => GetVersioningAsync(context, bucket, cancellationToken),
                _ when HttpMethods.IsGet(method) && q.ContainsKey("uploads") => ListUploadsAsync(context, bucket, cancellationToken),
                _ when HttpMethods.IsGet(method) => ListObjectsAsync(context, bucket, q["list-type"] == "2", cancellationToken),
                _ when HttpMethods.IsPost(method) && q.ContainsKey("delete") => DeleteObjectsAsync(context, auth, bucket, cancellationToken),
                _ => throw S3Exception.MethodNotAllowed(),
            };
        }

        S3Names.CheckKey(key);
        foreach (var unsupported in (string[])["acl", "tagging", "retention", "legal-hold", "torrent", "restore", "select", "attributes"])
        {
            if (q.ContainsKey(unsupported))
            {
                throw S3Exception.NotImplemented($"the object subresource ?{unsupported}");
            }
        }

        if (q.ContainsKey("versionId") && q["versionId"] != "null")
        {
            throw S3Exception.NotImplemented("object versions (versioning is not enabled on any bucket)");
        }

        return method switch
        {
            _ when HttpMethods.IsPut(method) && q.ContainsKey("uploadId") => UploadPartAsync(context, auth, bucket, key, cancellationToken),
            _ when HttpMethods.IsPut(method) && request.Headers.ContainsKey("x-amz-copy-source") => CopyObjectAsync(context, bucket, key, cancellationToken),
            _ when HttpMethods.IsPut(method) => PutObjectAsync(context, auth, bucket, key, cancellationToken),
            _ when HttpMethods.IsGet(method) && q.ContainsKey("uploadId") => ListPartsAsync(context, bucket, key, cancellationToken),
            _ when HttpMethods.IsGet(method) || HttpMethods.IsHead(method) => GetObjectAsync(context, bucket, key, cancellationToken),
            _ when HttpMethods.IsDelete(method) && q.ContainsKey("uploadId") => AbortUploadAsync(context, key, cancellationToken),
            _ when HttpMethods.IsDelete(method) => DeleteObjectAsync(context, bucket, key, cancellationToken),
            _ when HttpMethods.IsPost(method) && q.ContainsKey("uploads") => CreateUploadAsync(context, bucket, key, cancellationToken),
            _ when HttpMethods.IsPost(method) && q.ContainsKey("uploadId") => CompleteUploadAsync(context, auth, bucket, key, cancellationToken),
            _ => throw S3Exception.MethodNotAllowed(),
        };
    }

    // ---- buckets

    private async Task ListBucketsAsync(HttpContext context, CancellationToken cancellationToken)
    {
        var buckets = await _store.Meta.ListBucketsAsync(cancellationToken).ConfigureAwait(false);
        await WriteAsync(context.Response, E("ListAllMyBucketsResult",
            Owner(),
            E("Buckets", buckets.Select(bucket => E("Bucket", E("Name", bucket.Name), E("CreationDate", Time(bucket.Created))))))).ConfigureAwait(false);
    }

    private async Task CreateBucketAsync(HttpContext context, SigV4Context auth, string bucket, CancellationToken cancellationToken)
    {
        // The body, when present, is a CreateBucketConfiguration; its location must be this node's region.
        var (body, length) = SigV4Payload.Open(context.Request, auth);
        if (length is not 0)
        {
            var configuration = await ReadAsync(body, MaxXmlBody, cancellationToken).ConfigureAwait(false);
            if (Child(configuration, "LocationConstraint") is { Length: > 0 } location && location != _options.Region)
            {
                throw new S3Exception("IllegalLocationConstraintException", 400, $"The {location} location constraint is incompatible with the region this node serves ({_options.Region}).");
            }
        }

        await _objects.CreateBucketAsync(bucket, cancellationToken).ConfigureAwait(false);

        context.Response.Headers.Location = "/" + bucket;
        context.Response.ContentLength = 0;
    }

    private async Task DeleteBucketAsync(HttpContext context, string bucket, CancellationToken cancellationToken)
    {
        await _objects.DeleteBucketAsync(bucket, cancellationToken).ConfigureAwait(false);

        context.Response.StatusCode = StatusCodes.Status204NoContent;
    }

    private async Task HeadBucketAsync(HttpContext context, string bucket, CancellationToken cancellationToken)
    {
        await RequireBucketAsync(bucket, cancellationToken).ConfigureAwait(false);
        context.Response.Headers["x-amz-bucket-region"] = _options.Region;
        context.Response.ContentLength = 0;
    }

    private async Task GetLocationAsync(HttpContext context, string bucket, CancellationToken cancellationToken)
    {
        await RequireBucketAsync(bucket, cancellationToken).ConfigureAwait(false);
        // us-east-1 is written as an empty constraint, as S3 does.
        await WriteAsync(context.Response, E("LocationConstraint", _options.Region == "us-east-1" ? null : _options.Region)).ConfigureAwait(false);
    }

    private async Task GetVersioningAsync(HttpContext context, string bucket, CancellationToken cancellationToken)
    {
        await RequireBucketAsync(bucket, cancellationToken).ConfigureAwait(false);
        await WriteAsync(context.Response, E("VersioningConfiguration")).ConfigureAwait(false);
    }

    private async Task ListObjectsAsync(HttpContext context, string bucket, bool v2, CancellationToken cancellationToken)
    {
        await RequireBucketAsync(bucket, cancellationToken).ConfigureAwait(false);
        var q = context.Request.Query;
        var prefix = q["prefix"].ToString();
        var delimiter = q["delimiter"].ToString();
        var urlEncoded = q["encoding-type"] == "url";
        if (q.ContainsKey("encoding-type") && !urlEncoded)
        {
            throw S3Exception.InvalidArgument("Invalid Encoding Method specified in Request");
        }

        var maxKeys = 1000;
        if (q.TryGetValue("max-keys", out var maxKeysText) && (!int.TryParse(maxKeysText, NumberStyles.None, CultureInfo.InvariantCulture, out maxKeys) || maxKeys < 0))
        {
            throw S3Exception.InvalidArgument("max-keys must be a whole number from 0.");
        }

        maxKeys = Math.Min(maxKeys, 1000);
        string after;
        string? token = null;
        if (v2)
        {
            token = q["continuation-token"];
            after = token is { Length: > 0 } ? DecodeToken(token) : q["start-after"].ToString();
            if (token is null && string.CompareOrdinal(after, q["start-after"].ToString()) < 0)
            {
                after = q["start-after"].ToString();
            }
        }
        else
        {
            after = q["marker"].ToString();
        }

        var (contents, prefixes, truncated, next) = await _objects.ListAsync(bucket, prefix, delimiter, after, maxKeys, cancellationToken).ConfigureAwait(false);
        string Name(string text) => urlEncoded ? S3Names.UrlEncode(text) : text;
        var entries = contents.Select(record => E("Contents",
            E("Key", Name(record.Key)),
            E("LastModified", Time(record.Modified)),
            E("ETag", record.ETag),
            E("Size", record.Size),
            E("StorageClass", "STANDARD"),
            v2 && q["fetch-owner"] != "true" ? null : Owner()));
        var common = prefixes.Select(common => E("CommonPrefixes", E("Prefix", Name(common))));
        XElement root;
        if (v2)
        {
            root = E("ListBucketResult",
                E("Name", bucket), E("Prefix", Name(prefix)),
                string.IsNullOrEmpty(q["start-after"]) ? null : E("StartAfter", Name(q["start-after"].ToString())),
                token is null ? null : E("ContinuationToken", token),
                truncated ? E("NextContinuationToken", EncodeToken(next)) : null,
                E("KeyCount", contents.Count + prefixes.Count), E("MaxKeys", maxKeys),
                delimiter.Length == 0 ? null : E("Delimiter", Name(delimiter)),
                E("IsTruncated", truncated ? "true" : "false"),
                urlEncoded ? E("EncodingType", "url") : null,
                entries, common);
        }
        else
        {
            root = E("ListBucketResult",
                E("Name", bucket), E("Prefix", Name(prefix)), E("Marker", Name(after)),
                truncated ? E("NextMarker", Name(next)) : null,
                E("MaxKeys", maxKeys),
                delimiter.Length == 0 ? null : E("Delimiter", Name(delimiter)),
                E("IsTruncated", truncated ? "true" : "false"),
                urlEncoded ? E("EncodingType", "url") : null,
                entries, common);
        }

        await WriteAsync(context.Response, root).ConfigureAwait(false);
    }

    private async Task DeleteObjectsAsync(HttpContext context, SigV4Context auth, string bucket, CancellationToken cancellationToken)
    {
        await RequireBucketAsync(bucket, cancellationToken).ConfigureAwait(false);
        var (body, _) = SigV4Payload.Open(context.Request, auth);
        var document = await ReadAsync(body, MaxXmlBody, cancellationToken).ConfigureAwait(false);
        var objects = Children(document, "Object").ToList();
        if (objects.Count is 0 or > 1000)
        {
            throw S3Exception.MalformedXml();
        }

        var quiet = string.Equals(Child(document, "Quiet"), "true", StringComparison.OrdinalIgnoreCase);
        List<XElement> results = [];
        foreach (var entry in objects)
        {
            var key = Child(entry, "Key") ?? throw S3Exception.MalformedXml();
            try
            {
                S3Names.CheckKey(key);
                await _objects.DeleteAsync(bucket, key, WriteQuorum(context.Request), cancellationToken).ConfigureAwait(false);
                if (!quiet)
                {
                    results.Add(E("Deleted", E("Key", key)));
                }
            }
            catch (S3Exception error)
            {
                results.Add(E("Error", E("Key", key), E("Code", error.Code), E("Message", error.Message)));
            }
        }

        await WriteAsync(context.Response, E("DeleteResult", results)).ConfigureAwait(false);
    }

    // ---- objects

    private async Task PutObjectAsync(HttpContext context, SigV4Context auth, string bucket, string key, CancellationToken cancellationToken)
    {
        var request = context.Request;
        var headers = ObjectHeaders(request);
        var (body, length) = SigV4Payload.Open(request, auth);
        if (length is null)
        {
            throw S3Exception.MissingContentLength();
        }

        if (length > _options.MaxPutBytes)
        {
            throw S3Exception.EntityTooLarge(_options.MaxPutBytes);
        }

        if (request.Headers.IfNoneMatch == "*" && await _objects.ResolveAsync(bucket, key, ReadQuorum(request), cancellationToken).ConfigureAwait(false) is not null)
        {
            throw S3Exception.PreconditionFailed();
        }

        var record = await _objects.PutAsync(bucket, key, new ExactLengthStream(body, length.Value), _options.MaxPutBytes, headers, ContentMd5(request), WriteQuorum(request), cancellationToken).ConfigureAwait(false);
        context.Response.Headers.ETag = record.ETag;
        context.Response.ContentLength = 0;
    }

    private async Task GetObjectAsync(HttpContext context, string bucket, string key, CancellationToken cancellationToken)
    {
        var request = context.Request;
        var response = context.Response;
        var resolved = await _objects.ResolveAsync(bucket, key, ReadQuorum(request), cancellationToken).ConfigureAwait(false);
        if (resolved is null)
        {
            // Only a miss asks whether the bucket exists (NoSuchBucket or NoSuchKey): a hit costs one lookup.
            await RequireBucketAsync(bucket, cancellationToken).ConfigureAwait(false);
            throw S3Exception.NoSuchKey(key);
        }

        var record = resolved.Record;

        var precondition = Preconditions.Evaluate(request.Headers, record.ETag, record.Modified);
        if (precondition == StatusCodes.Status412PreconditionFailed)
        {
            throw S3Exception.PreconditionFailed();
        }

        WriteObjectHeaders(response, record, request.Query);
        if (precondition == StatusCodes.Status304NotModified)
        {
            response.StatusCode = StatusCodes.Status304NotModified;
            response.Headers.ContentType = default;
            return;
        }

        var (offset, count) = (0L, record.Size);
        if (request.Headers.Range.ToString() is { Length: > 0 } range && Ranges.TryParse(range, record.Size, out var start, out var end, out var satisfiable))
        {
            if (!satisfiable)
            {
                response.Headers.ContentRange = $"bytes */{record.Size.ToString(CultureInfo.InvariantCulture)}";
                throw S3Exception.InvalidRange();
            }

            (offset, count) = (start, end - start + 1);
            response.StatusCode = StatusCodes.Status206PartialContent;
            response.Headers.ContentRange = string.Create(CultureInfo.InvariantCulture, $"bytes {start}-{end}/{record.Size}");
        }

        response.ContentLength = count;
        if (HttpMethods.IsHead(request.Method))
        {
            return;
        }

        var body = response.Body;
        await _objects.CopyToAsync(resolved, offset, count, (bytes, token) => body.WriteAsync(bytes, token), cancellationToken).ConfigureAwait(false);
    }

    private async Task DeleteObjectAsync(HttpContext context, string bucket, string key, CancellationToken cancellationToken)
    {
        await RequireBucketAsync(bucket, cancellationToken).ConfigureAwait(false);
        await _objects.DeleteAsync(bucket, key, WriteQuorum(context.Request), cancellationToken).ConfigureAwait(false);
        context.Response.StatusCode = StatusCodes.Status204NoContent;
    }

    private async Task CopyObjectAsync(HttpContext context, string bucket, string key, CancellationToken cancellationToken)
    {
        var request = context.Request;
        var source = await CopySourceAsync(request, cancellationToken).ConfigureAwait(false);
        var directive = request.Headers["x-amz-metadata-directive"].ToString();
        if (directive is not ("" or "COPY" or "REPLACE"))
        {
            throw S3Exception.InvalidArgument("Unknown metadata directive.");
        }

        var replace = directive == "REPLACE";
        if (!replace && source.Record.Bucket == bucket && source.Record.Key == key)
        {
            throw S3Exception.InvalidRequest("This copy request is illegal because it is trying to copy an object to itself without changing the object's metadata, storage class, website redirect location or encryption attributes.");
        }

        var headers = replace ? ObjectHeaders(request) : source.Record.Headers;
        await using var stream = _objects.OpenRead(source, 0, source.Record.Size, cancellationToken);
        var record = await _objects.PutAsync(bucket, key, stream, _options.MaxPutBytes, headers, null, WriteQuorum(request), cancellationToken).ConfigureAwait(false);
        await WriteAsync(context.Response, E("CopyObjectResult", E("LastModified", Time(record.Modified)), E("ETag", record.ETag))).ConfigureAwait(false);
    }

    // ---- multipart

    private async Task CreateUploadAsync(HttpContext context, string bucket, string key, CancellationToken cancellationToken)
    {
        var uploadId = await _store.CreateUploadAsync(bucket, key, ObjectHeaders(context.Request), cancellationToken).ConfigureAwait(false);
        await WriteAsync(context.Response, E("InitiateMultipartUploadResult", E("Bucket", bucket), E("Key", key), E("UploadId", uploadId))).ConfigureAwait(false);
    }

    private async Task UploadPartAsync(HttpContext context, SigV4Context auth, string bucket, string key, CancellationToken cancellationToken)
    {
        var request = context.Request;
        var uploadId = request.Query["uploadId"].ToString();
        var partNumber = PartNumber(request.Query);
        var upload = await _store.Meta.GetUploadAsync(uploadId, cancellationToken).ConfigureAwait(false);
        if (upload is null || upload.Bucket != bucket || upload.Key != key)
        {
            throw S3Exception.NoSuchUpload(uploadId);
        }

        if (request.Headers.ContainsKey("x-amz-copy-source"))
        {
            var source = await CopySourceAsync(request, cancellationToken).ConfigureAwait(false);
            var (offset, count) = (0L, source.Record.Size);
            if (request.Headers["x-amz-copy-source-range"].ToString() is { Length: > 0 } range)
            {
                if (!Ranges.TryParse(range, source.Record.Size, out var start, out var end, out var satisfiable) || !satisfiable || range.Contains("=-", StringComparison.Ordinal))
                {
                    throw S3Exception.InvalidArgument("The x-amz-copy-source-range value must be of the form bytes=first-last where first and last are the zero-based offsets of the first and last bytes to copy");
                }

                (offset, count) = (start, end - start + 1);
            }

            await using var stream = _objects.OpenRead(source, offset, count, cancellationToken);
            var copied = await _store.PutPartAsync(uploadId, partNumber, stream, _options.MaxPutBytes, null, cancellationToken).ConfigureAwait(false);
            await WriteAsync(context.Response, E("CopyPartResult", E("LastModified", Time(copied.Modified)), E("ETag", copied.ETag))).ConfigureAwait(false);
            return;
        }

        var (body, length) = SigV4Payload.Open(request, auth);
        if (length is null)
        {
            throw S3Exception.MissingContentLength();
        }

        if (length > _options.MaxPutBytes)
        {
            throw S3Exception.EntityTooLarge(_options.MaxPutBytes);
        }

        var part = await _store.PutPartAsync(uploadId, partNumber, new ExactLengthStream(body, length.Value), _options.MaxPutBytes, ContentMd5(request), cancellationToken).ConfigureAwait(false);
        context.Response.Headers.ETag = part.ETag;
        context.Response.ContentLength = 0;
    }

    private async Task CompleteUploadAsync(HttpContext context, SigV4Context auth, string bucket, string key, CancellationToken cancellationToken)
    {
        var request = context.Request;
        var uploadId = request.Query["uploadId"].ToString();
        var upload = await _store.Meta.GetUploadAsync(uploadId, cancellationToken).ConfigureAwait(false);
        if (upload is null || upload.Bucket != bucket || upload.Key != key)
        {
            throw S3Exception.NoSuchUpload(uploadId);
        }

        var (body, _) = SigV4Payload.Open(request, auth);
        var document = await ReadAsync(body, MaxXmlBody, cancellationToken).ConfigureAwait(false);
        List<(int, string)> parts = [];
        foreach (var part in Children(document, "Part"))
        {
            if (!int.TryParse(Child(part, "PartNumber"), NumberStyles.None, CultureInfo.InvariantCulture, out var number) || Child(part, "ETag") is not { } etag)
            {
                throw S3Exception.MalformedXml();
            }

            parts.Add((number, etag));
        }

        var record = await _objects.CompleteUploadAsync(uploadId, parts, _options.MinPartBytes, WriteQuorum(request), cancellationToken).ConfigureAwait(false);
        await WriteAsync(context.Response, E("CompleteMultipartUploadResult",
            E("Location", $"/{bucket}/{S3Names.UrlEncode(key)}"), E("Bucket", bucket), E("Key", key), E("ETag", record.ETag))).ConfigureAwait(false);
    }

    private async Task AbortUploadAsync(HttpContext context, string key, CancellationToken cancellationToken)
    {
        var uploadId = context.Request.Query["uploadId"].ToString();
        var upload = await _store.Meta.GetUploadAsync(uploadId, cancellationToken).ConfigureAwait(false);
        if (upload is null || upload.Key != key || !await _store.AbortUploadAsync(uploadId, cancellationToken).ConfigureAwait(false))
        {
            throw S3Exception.NoSuchUpload(uploadId);
        }

        context.Response.StatusCode = StatusCodes.Status204NoContent;
    }

    private async Task ListPartsAsync(HttpContext context, string bucket, string key, CancellationToken cancellationToken)
    {
        var q = context.Request.Query;
        var uploadId = q["uploadId"].ToString();
        var upload = await _store.Meta.GetUploadAsync(uploadId, cancellationToken).ConfigureAwait(false);
        if (upload is null || upload.Bucket != bucket || upload.Key != key)
        {
            throw S3Exception.NoSuchUpload(uploadId);
        }

        var maxParts = q.TryGetValue("max-parts", out var text) && int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var m) ? Math.Clamp(m, 0, 1000) : 1000;
        var marker = q.TryGetValue("part-number-marker", out var markerText) && int.TryParse(markerText, NumberStyles.None, CultureInfo.InvariantCulture, out var p) ? p : 0;
        var parts = await _store.Meta.ListPartsAsync(uploadId, marker, maxParts + 1, cancellationToken).ConfigureAwait(false);
        var truncated = parts.Count > maxParts;
        var page = parts.Take(maxParts).ToList();
        await WriteAsync(context.Response, E("ListPartsResult",
            E("Bucket", bucket), E("Key", key), E("UploadId", uploadId),
            E("PartNumberMarker", marker), E("NextPartNumberMarker", page.Count > 0 ? page[^1].Number : marker),
            E("MaxParts", maxParts), E("IsTruncated", truncated ? "true" : "false"),
            E("StorageClass", "STANDARD"), Owner("Initiator"), Owner(),
            page.Select(part => E("Part", E("PartNumber", part.Number), E("LastModified", Time(part.Modified)), E("ETag", part.ETag), E("Size", part.Size))))).ConfigureAwait(false);
    }

    private async Task ListUploadsAsync(HttpContext context, string bucket, CancellationToken cancellationToken)
    {
        await RequireBucketAsync(bucket, cancellationToken).ConfigureAwait(false);
        var prefix = context.Request.Query["prefix"].ToString();
        var uploads = await _store.Meta.ListUploadsAsync(bucket, prefix, 1001, cancellationToken).ConfigureAwait(false);
        await WriteAsync(context.Response, E("ListMultipartUploadsResult",
            E("Bucket", bucket), E("KeyMarker"), E("UploadIdMarker"), E("Prefix", prefix), E("MaxUploads", 1000),
            E("IsTruncated", uploads.Count > 1000 ? "true" : "false"),
            uploads.Take(1000).Select(upload => E("Upload", E("Key", upload.Key), E("UploadId", upload.UploadId), Owner("Initiator"), Owner(), E("StorageClass", "STANDARD"), E("Initiated", Time(upload.Initiated)))))).ConfigureAwait(false);
    }

    // ---- helpers

    private Task RequireBucketAsync(string bucket, CancellationToken cancellationToken) => _objects.RequireBucketAsync(bucket, cancellationToken);

    private async Task<ResolvedObject> CopySourceAsync(HttpRequest request, CancellationToken cancellationToken)
    {
        var text = request.Headers["x-amz-copy-source"].ToString();
        var query = text.IndexOf('?', StringComparison.Ordinal);
        if (query >= 0)
        {
            if (text[(query + 1)..] != "versionId=null")
            {
                throw S3Exception.NotImplemented("copying an object version");
            }

            text = text[..query];
        }

        // The header is URL-encoded as a whole ("bucket/key", '/' sometimes as %2F): decode, then split at the first '/'.
        var decoded = S3Names.Decode(text).TrimStart('/');
        var slash = decoded.IndexOf('/', StringComparison.Ordinal);
        var (bucket, key) = slash < 0 ? (decoded, "") : (decoded[..slash], decoded[(slash + 1)..]);
        if (bucket.Length == 0 || key.Length == 0)
        {
            throw S3Exception.InvalidArgument("Copy Source must mention the source bucket and key: sourcebucket/sourcekey");
        }

        await RequireBucketAsync(bucket, cancellationToken).ConfigureAwait(false);
        var source = await _objects.ResolveAsync(bucket, key, ReadQuorum(request), cancellationToken).ConfigureAwait(false) ?? throw S3Exception.NoSuchKey(key);
        var condition = Preconditions.EvaluateCopySource(request.Headers, source.Record.ETag, source.Record.Modified);
        if (condition != StatusCodes.Status200OK)
        {
            throw S3Exception.PreconditionFailed();
        }

        return source;
    }

    /// <summary>R for this request: <c>x-blueprint-read-quorum</c>, else the node's default.</summary>
    private static int? ReadQuorum(HttpRequest request) => Quorum(request, "x-blueprint-read-quorum");

    /// <summary>W for this request: <c>x-blueprint-write-quorum</c>, else the node's default.</summary>
    private static int? WriteQuorum(HttpRequest request) => Quorum(request, "x-blueprint-write-quorum");

    private static int? Quorum(HttpRequest request, string header)
    {
        if (!request.Headers.TryGetValue(header, out var text))
        {
            return null;
        }

        return int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var value) && value is >= 1 and <= 7
            ? value
            : throw S3Exception.InvalidArgument($"{header} must be a whole number from 1 to 7.");
    }

    private static int PartNumber(IQueryCollection query)
    {
        if (!int.TryParse(query["partNumber"], NumberStyles.None, CultureInfo.InvariantCulture, out var number) || number is < 1 or > MaxPartNumber)
        {
            throw S3Exception.InvalidArgument("Part number must be an integer between 1 and 10000, inclusive");
        }

        return number;
    }

    /// <summary>The headers stored with an object: <see cref="StoredHeaders"/> and <c>x-amz-meta-*</c> (at most 2 KB of user metadata).</summary>
    private static Dictionary<string, string> ObjectHeaders(HttpRequest request)
    {
        Dictionary<string, string> headers = new(StringComparer.Ordinal);
        var userBytes = 0;
        foreach (var (name, values) in request.Headers)
        {
            var lower = name.ToLowerInvariant();
            if (lower.StartsWith("x-amz-meta-", StringComparison.Ordinal))
            {
                var value = values.ToString();
                userBytes += Encoding.UTF8.GetByteCount(lower) - "x-amz-meta-".Length + Encoding.UTF8.GetByteCount(value);
                headers[lower] = value;
            }
            else if (Array.IndexOf(StoredHeaders, lower) >= 0)
            {
                var value = values.ToString();
                if (lower == "content-encoding")
                {
                    // aws-chunked is the transfer's framing, not the object's encoding.
                    value = string.Join(',', value.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries).Where(v => v != "aws-chunked"));
                    if (value.Length == 0)
                    {
                        continue;
                    }
                }

                headers[lower] = value;
            }
        }

        if (userBytes > MaxUserMetadataBytes)
        {
            throw S3Exception.MetadataTooLarge();
        }

        headers.TryAdd("content-type", "binary/octet-stream");
        return headers;
    }

    private static void WriteObjectHeaders(HttpResponse response, ObjectRecord record, IQueryCollection query)
    {
        var headers = response.Headers;
        foreach (var (name, value) in record.Headers)
        {
            headers[name] = value;
        }

        headers.ETag = record.ETag;
        headers.LastModified = record.Modified.ToString("R", CultureInfo.InvariantCulture);
        headers.AcceptRanges = "bytes";
        foreach (var (parameter, header) in (ReadOnlySpan<(string, string)>)[
            ("response-content-type", HeaderNames.ContentType), ("response-content-language", HeaderNames.ContentLanguage),
            ("response-expires", HeaderNames.Expires), ("response-cache-control", HeaderNames.CacheControl),
            ("response-content-disposition", HeaderNames.ContentDisposition), ("response-content-encoding", HeaderNames.ContentEncoding)])
        {
            if (query.TryGetValue(parameter, out var value))
            {
                headers[header] = value;
            }
        }
    }

    private static byte[]? ContentMd5(HttpRequest request)
    {
        if (!request.Headers.TryGetValue("Content-MD5", out var value))
        {
            return null;
        }

        var bytes = new byte[16];
        return Convert.TryFromBase64String(value.ToString(), bytes, out var written) && written == 16 ? bytes : throw S3Exception.InvalidDigest();
    }

    private static XElement Owner(string name = "Owner") => E(name, E("ID", "blueprint"), E("DisplayName", "blueprint"));

    private static string EncodeToken(string after) => Convert.ToBase64String(Encoding.UTF8.GetBytes(after));

    private static string DecodeToken(string token)
    {
        try
        {
            return Encoding.UTF8.GetString(Convert.FromBase64String(token));
        }
        catch (FormatException)
        {
            throw S3Exception.InvalidArgument("The continuation token provided is incorrect");
        }
    }

}
