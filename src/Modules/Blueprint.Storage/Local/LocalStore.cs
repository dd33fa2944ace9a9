using System.Globalization;
using System.IO.Hashing;
using System.IO.Pipelines;
using System.Security.Cryptography;
using Blueprint.Storage.S3;
using Microsoft.Extensions.Logging;

namespace Blueprint.Storage.Local;

/// <summary>
/// One node's object store: <see cref="BlobFiles"/> for bytes and <see cref="MetaStore"/> for what is visible. Every write
/// makes its bytes durable first and commits its metadata row last, so an acknowledged object survives a crash and an
/// unacknowledged one is never half visible; blobs that lose their row (a replaced object, a crash between the two) are
/// deleted at once or by the orphan sweep.
/// </summary>
internal sealed partial class LocalStore : IDisposable
{
    private readonly TimeProvider _time;
    private readonly ILogger _logger;

    public LocalStore(string directory, TimeProvider time, ILogger logger)
    {
        Directory.CreateDirectory(directory);
        Blobs = new BlobFiles(Path.Combine(directory, "blobs"));
        Meta = MetaStore.Open(Path.Combine(directory, "meta.db"));
        _time = time;
        _logger = logger;
        StartedUtc = time.GetUtcNow().UtcDateTime;
    }

    public BlobFiles Blobs { get; }

    public MetaStore Meta { get; }

    /// <summary>When this store opened: blobs older than it without a row are orphans of an earlier run.</summary>
    public DateTime StartedUtc { get; }

    /// <summary>Blocks found corrupt by reads (see <c>blueprint.storage.corrupt_blocks</c>).</summary>
    public long CorruptReads => Interlocked.Read(ref _corruptReads);

    private long _corruptReads;

    public void Dispose() => Meta.Dispose();

    /// <summary>
    /// Reads an object's bytes from <paramref name="body"/> into a new inline value or blob file (durable when this
    /// returns) and gives them a version: nothing is visible yet. A wrong <paramref name="contentMd5"/> is BadDigest.
    /// The caller applies the result (<see cref="ApplyAsync"/>) or deletes its blob (<see cref="Release"/>).
    /// </summary>
    public async Task<ObjectRecord> SpoolAsync(
        string bucket, string key, Stream body, long maxBytes, IReadOnlyDictionary<string, string> headers, byte[]? contentMd5, long version, string writer, CancellationToken cancellationToken)
    {
        var written = await Blobs.WriteAsync(body, maxBytes, allowInline: true, cancellationToken).ConfigureAwait(false);
        if (contentMd5 is not null && !CryptographicOperations.FixedTimeEquals(contentMd5, written.Md5))
        {
            if (written.Blob is { } blob)
            {
                Blobs.TryDelete(blob);
            }

            throw S3Exception.BadDigest();
        }

        var segments = written.Blob is null ? [new Segment(Guid.Empty, written.Length, written.BlockHashes)] : new[] { written.ToSegment() };
        return new ObjectRecord(bucket, key, written.Length, Quote(Convert.ToHexStringLower(written.Md5)), headers, Now(), written.Inline, segments)
        {
            Version = version,
            Writer = writer,
        };
    }

    /// <summary>
    /// Reads exactly <paramref name="metadata"/>'s size from <paramref name="body"/> (a replica's copy sent by a peer)
    /// into a new inline value or blob file, returning the record with its bytes; the caller applies or releases it.
    /// </summary>
    public async Task<ObjectRecord> ReceiveAsync(ObjectRecord metadata, Stream body, CancellationToken cancellationToken)
    {
        if (metadata.Deleted)
        {
            return metadata with { Inline = null, Segments = [] };
        }

        var written = await Blobs.WriteAsync(body, metadata.Size, allowInline: true, cancellationToken).ConfigureAwait(false);
        if (written.Length != metadata.Size)
        {
            if (written.Blob is { } blob)
            {
                Blobs.TryDelete(blob);
            }

            throw S3Exception.IncompleteBody($"the replica's body held {written.Length} of {metadata.Size} bytes");
        }

        var segments = written.Blob is null ? [new Segment(Guid.Empty, written.Length, written.BlockHashes)] : new[] { written.ToSegment() };
        return metadata with { Inline = written.Inline, Segments = segments };
    }

    /// <summary>
    /// Keeps <paramref name="record"/> on this node if it is newer than the version kept (last writer wins); the
    /// replaced version's blobs are deleted. Returns whether it was applied; when it was not, its blobs are still the
    /// caller's (to <see cref="Release"/>).
    /// </summary>
    public async Task<bool> ApplyAsync(ObjectRecord record, bool requireBucket, CancellationToken cancellationToken, bool replaceEqual = false)
    {
        var (applied, unreferenced) = await Meta.ApplyObjectAsync(record, requireBucket, replaceEqual, cancellationToken).ConfigureAwait(false);
        if (applied)
        {
            DeleteBlobs(unreferenced);
        }

        return applied;
    }

    /// <summary>Keeps <paramref name="record"/> as a hint for <paramref name="target"/>; its blobs become the hint's.</summary>
    public async Task AddHintAsync(string target, ObjectRecord record, CancellationToken cancellationToken)
    {
        var unreferenced = await Meta.AddHintAsync(target, record, cancellationToken).ConfigureAwait(false);
        // Either the older hint's blobs or, when this one lost, its own.
        DeleteBlobs(unreferenced);
    }

    /// <summary>Deletes the blobs of a record that was not kept.</summary>
    public void Release(ObjectRecord record) => DeleteBlobs(record.Segments);

    /// <summary>
    /// Writes bytes <paramref name="offset"/> to <paramref name="offset"/> + <paramref name="count"/> of an object to
    /// <paramref name="destination"/>, every block verified first. A corrupt block throws <see cref="CorruptBlobException"/>.
    /// </summary>
    public async Task CopyToAsync(ObjectRecord record, long offset, long count, Func<ReadOnlyMemory<byte>, CancellationToken, ValueTask> destination, CancellationToken cancellationToken)
    {
        try
        {
            if (record.Inline is { } inline)
            {
                if (XxHash3.HashToUInt64(inline) != record.Segments[0].BlockHashes[0])
                {
                    throw new CorruptBlobException(Guid.Empty, $"the inline bytes of {record.Bucket}/{record.Key} do not match their checksum");
                }

                await destination(inline.AsMemory((int)offset, (int)count), cancellationToken).ConfigureAwait(false);
                return;
            }

            var segmentStart = 0L;
            foreach (var segment in record.Segments)
            {
                var segmentEnd = segmentStart + segment.Length;
                if (count > 0 && offset < segmentEnd && offset + count > segmentStart)
                {
                    var from = Math.Max(offset, segmentStart) - segmentStart;
                    var to = Math.Min(offset + count, segmentEnd) - segmentStart;
                    await Blobs.CopyRangeAsync(segment, from, to - from, destination, cancellationToken).ConfigureAwait(false);
                }

                segmentStart = segmentEnd;
            }
        }
        catch (CorruptBlobException e)
        {
            Interlocked.Increment(ref _corruptReads);
            Corrupt(_logger, record.Bucket, record.Key, e.Message);
            throw;
        }
    }

    /// <summary>A stream of an object's bytes (verified as they are read), for copies.</summary>
    public Stream OpenRead(ObjectRecord record, long offset, long count, CancellationToken cancellationToken) =>
        StreamOf((destination, token) => CopyToAsync(record, offset, count, destination, token), cancellationToken);

    /// <summary>
    /// A stream of what <paramref name="copy"/> writes, run in the background through a pipe that holds at most a few
    /// blocks (the copy waits for the reader); a failure of the copy is thrown by the stream's reads.
    /// </summary>
    public static Stream StreamOf(Func<Func<ReadOnlyMemory<byte>, CancellationToken, ValueTask>, CancellationToken, Task> copy, CancellationToken cancellationToken)
    {
        var pipe = new Pipe(new PipeOptions(pauseWriterThreshold: 4 * BlobFiles.BlockSize, resumeWriterThreshold: 2 * BlobFiles.BlockSize));
        _ = Task.Run(async () =>
        {
            try
            {
                await copy(async (bytes, token) => await pipe.Writer.WriteAsync(bytes, token).ConfigureAwait(false), cancellationToken).ConfigureAwait(false);
                await pipe.Writer.CompleteAsync().ConfigureAwait(false);
            }
            catch (Exception e)
            {
                await pipe.Writer.CompleteAsync(e).ConfigureAwait(false);
            }
        }, cancellationToken);
        return pipe.Reader.AsStream();
    }

    // ---- multipart

    public async Task<string> CreateUploadAsync(string bucket, string key, IReadOnlyDictionary<string, string> headers, CancellationToken cancellationToken)
    {
        var uploadId = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(24));
        await Meta.CreateUploadAsync(uploadId, bucket, key, headers, Now(), cancellationToken).ConfigureAwait(false);
        return uploadId;
    }

    public async Task<PartRecord> PutPartAsync(string uploadId, int partNumber, Stream body, long maxBytes, byte[]? contentMd5, CancellationToken cancellationToken)
    {
        _ = await Meta.GetUploadAsync(uploadId, cancellationToken).ConfigureAwait(false) ?? throw S3Exception.NoSuchUpload(uploadId);
        var written = await Blobs.WriteAsync(body, maxBytes, allowInline: false, cancellationToken).ConfigureAwait(false);
        try
        {
            if (contentMd5 is not null && !CryptographicOperations.FixedTimeEquals(contentMd5, written.Md5))
            {
                throw S3Exception.BadDigest();
            }

            var part = new PartRecord(partNumber, written.Length, Quote(Convert.ToHexStringLower(written.Md5)), Now(), [written.ToSegment()]);
            DeleteBlobs(await Meta.PutPartAsync(uploadId, part, cancellationToken).ConfigureAwait(false));
            return part;
        }
        catch
        {
            Blobs.TryDelete(written.Blob!.Value);
            throw;
        }
    }

    /// <summary>
    /// Completes an upload from the parts the client lists (ascending part numbers, ETags matching, every part but the
    /// last at least <paramref name="minPartBytes"/>). The ETag is S3's: the MD5 of the parts' MD5s, a dash and the count.
    /// </summary>
    /// <remarks>The upload is gone when this returns and the record is not yet applied: its blobs (the parts') are the caller's to apply or release.</remarks>
    public async Task<ObjectRecord> CompleteUploadAsync(string uploadId, IReadOnlyList<(int Number, string ETag)> requested, long minPartBytes, long version, string writer, CancellationToken cancellationToken)
    {
        var upload = await Meta.GetUploadAsync(uploadId, cancellationToken).ConfigureAwait(false) ?? throw S3Exception.NoSuchUpload(uploadId);
        if (requested.Count == 0)
        {
            throw S3Exception.MalformedXml();
        }

        for (var i = 1; i < requested.Count; i++)
        {
            if (requested[i].Number <= requested[i - 1].Number)
            {
                throw S3Exception.InvalidPartOrder();
            }
        }

        var parts = (await Meta.ListPartsAsync(uploadId, 0, 10_001, cancellationToken).ConfigureAwait(false)).ToDictionary(part => part.Number);
        using var md5 = IncrementalHash.CreateHash(HashAlgorithmName.MD5);
        List<Segment> segments = [];
        var size = 0L;
        var previous = 0;
        for (var i = 0; i < requested.Count; i++)
        {
            var (number, etag) = requested[i];
            if (number <= previous)
            {
                throw S3Exception.InvalidPartOrder();
            }

            previous = number;
            if (!parts.TryGetValue(number, out var part) || !string.Equals(Unquote(part.ETag), Unquote(etag), StringComparison.OrdinalIgnoreCase))
            {
                throw S3Exception.InvalidPart($"One or more of the specified parts could not be found (part {number.ToString(CultureInfo.InvariantCulture)}), or its entity tag did not match.");
            }

            if (i < requested.Count - 1 && part.Size < minPartBytes)
            {
                throw S3Exception.EntityTooSmall();
            }

            md5.AppendData(Convert.FromHexString(Unquote(part.ETag)));
            segments.AddRange(part.Segments);
            size += part.Size;
        }

        var etagOfAll = Quote($"{Convert.ToHexStringLower(md5.GetHashAndReset())}-{requested.Count.ToString(CultureInfo.InvariantCulture)}");
        var record = new ObjectRecord(upload.Bucket, upload.Key, size, etagOfAll, upload.Headers, Now(), null, segments) { Version = version, Writer = writer };
        DeleteBlobs(await Meta.CompleteUploadAsync(uploadId, requested.Select(part => part.Number).ToHashSet(), cancellationToken).ConfigureAwait(false));
        return record;
    }

    public async Task<bool> AbortUploadAsync(string uploadId, CancellationToken cancellationToken)
    {
        var segments = await Meta.AbortUploadAsync(uploadId, cancellationToken).ConfigureAwait(false);
        if (segments is null)
        {
            return false;
        }

        DeleteBlobs(segments);
        return true;
    }

    /// <summary>
    /// Aborts uploads older than <paramref name="maxAge"/> and deletes blob files no row refers to that are older than this
    /// store's start (left by a crash between a blob's write and its row's commit). Returns what it removed.
    /// </summary>
    public async Task<(int Uploads, int Blobs)> SweepAsync(TimeSpan maxAge, TimeSpan tombstoneAge, CancellationToken cancellationToken)
    {
        await Meta.PurgeTombstonesAsync(Now() - tombstoneAge, cancellationToken).ConfigureAwait(false);
        var uploads = 0;
        foreach (var uploadId in await Meta.UploadsInitiatedBeforeAsync(Now() - maxAge, cancellationToken).ConfigureAwait(false))
        {
            uploads += await AbortUploadAsync(uploadId, cancellationToken).ConfigureAwait(false) ? 1 : 0;
        }

        var referenced = await Meta.ReferencedBlobsAsync(cancellationToken).ConfigureAwait(false);
        var blobs = 0;
        foreach (var (blob, written) in Blobs.Enumerate().ToList())
        {
            if (written < StartedUtc && !referenced.Contains(blob))
            {
                Blobs.TryDelete(blob);
                blobs++;
            }
        }

        return (uploads, blobs);
    }

    public static string Quote(string etag) => $"\"{etag}\"";

    public static string Unquote(string etag) => etag.Trim().Trim('"');

    public DateTimeOffset Now()
    {
        // Whole milliseconds, as the rows keep them, so what a PUT returns equals what a later GET reads.
        var now = _time.GetUtcNow();
        return DateTimeOffset.FromUnixTimeMilliseconds(now.ToUnixTimeMilliseconds());
    }

    private void DeleteBlobs(IEnumerable<Segment> segments)
    {
        foreach (var segment in segments)
        {
            if (segment.Blob != Guid.Empty)
            {
                Blobs.TryDelete(segment.Blob);
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "storage: {Bucket}/{Key} is corrupt on this node ({Reason}); it was not served")]
    private static partial void Corrupt(ILogger logger, string bucket, string key, string reason);
}
