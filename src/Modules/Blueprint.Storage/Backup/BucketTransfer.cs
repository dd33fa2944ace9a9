using System.Diagnostics;
using System.Globalization;

namespace Blueprint.Storage.Backup;

/// <summary>How objects move: sizes that choose a multipart upload, and how often progress is printed.</summary>
internal sealed class TransferOptions
{
    /// <summary>Objects larger than this are uploaded in parts.</summary>
    public long MultipartThreshold { get; init; } = 64L * 1024 * 1024;

    /// <summary>The size of each part of a multipart upload.</summary>
    public long PartSize { get; init; } = 16L * 1024 * 1024;

    /// <summary>A progress line every this many objects.</summary>
    public int ProgressEvery { get; init; } = 100;
}

/// <summary>What a run did: objects and bytes transferred, objects skipped as already there, and how long it took.</summary>
internal sealed record TransferSummary(int Transferred, long Bytes, int Skipped, TimeSpan Elapsed);

/// <summary>A backup whose bytes do not match its manifest: restore refuses it, naming the key.</summary>
internal sealed class BackupIntegrityException(string message) : Exception(message);

/// <summary>
/// The backup and restore engine: a bucket to a directory (incremental by ETag and size, every file's SHA-256
/// recorded), a directory to a bucket (every file checked against the manifest before anything is uploaded), and a
/// bucket to a bucket on another endpoint (through a temporary file per object).
/// </summary>
internal sealed class BucketTransfer(TransferOptions options, TextWriter output)
{
    /// <summary>Backs up <paramref name="bucket"/> (or the keys under <paramref name="prefix"/>) into <paramref name="directory"/>.</summary>
    public async Task<TransferSummary> BackupToDirectoryAsync(S3Client source, string bucket, string? prefix, string directory, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(source);
        var clock = Stopwatch.StartNew();
        Directory.CreateDirectory(Path.Combine(directory, BackupDirectory.ObjectsFolder));
        var previous = await BackupDirectory.ReadManifestAsync(directory, cancellationToken).ConfigureAwait(false);

        // Entries outside the prefix belong to other runs and stay; those inside are rebuilt from the listing.
        Dictionary<string, ManifestEntry> next = previous.Values
            .Where(e => !string.IsNullOrEmpty(prefix) && !e.Key.StartsWith(prefix, StringComparison.Ordinal))
            .ToDictionary(e => e.Key, StringComparer.Ordinal);
        var progress = new Progress("backup", options.ProgressEvery, output);
        await foreach (var listed in source.ListAsync(bucket, prefix, cancellationToken).ConfigureAwait(false))
        {
            var path = BackupDirectory.ObjectPath(directory, listed.Key);
            if (previous.TryGetValue(listed.Key, out var known) && known.ETag == listed.ETag && known.Size == listed.Size
                && new FileInfo(path) is { Exists: true } file && file.Length == listed.Size)
            {
                next[listed.Key] = known;
                await progress.SkippedAsync().ConfigureAwait(false);
                continue;
            }

            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            var temporary = path + ".tmp";
            var download = await TryDownloadAsync(source, bucket, listed.Key, temporary, cancellationToken).ConfigureAwait(false);
            if (download is null)
            {
                continue;
            }

            File.Move(temporary, path, overwrite: true);
            next[listed.Key] = new ManifestEntry(listed.Key, download.Size, download.ETag, download.Sha256, download.Headers.ContentType,
                new(download.Headers.Metadata, StringComparer.Ordinal), new(download.Headers.Headers, StringComparer.Ordinal), listed.LastModified);
            await progress.TransferredAsync(download.Size).ConfigureAwait(false);
        }

        var info = new BackupInfo(bucket, source.Endpoint.GetLeftPart(UriPartial.Authority), string.IsNullOrEmpty(prefix) ? null : prefix,
            DateTimeOffset.UtcNow, next.Count, next.Values.Sum(e => e.Size));
        await BackupDirectory.WriteAsync(directory, next.Values, info, cancellationToken).ConfigureAwait(false);

        // Files of objects deleted from the bucket since the last run go once the new manifest no longer names them.
        foreach (var gone in previous.Keys.Where(key => !next.ContainsKey(key)))
        {
            File.Delete(BackupDirectory.ObjectPath(directory, gone));
        }

        return await progress.DoneAsync(clock.Elapsed).ConfigureAwait(false);
    }

    /// <summary>
    /// Restores the backup in <paramref name="directory"/> into <paramref name="bucket"/> (created if missing). Every
    /// file is checked against the manifest's size and SHA-256 first: one that does not match stops the restore before
    /// any upload. Objects the bucket already holds with the same ETag and size are skipped.
    /// </summary>
    public async Task<TransferSummary> RestoreFromDirectoryAsync(string directory, S3Client target, string bucket, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(target);
        var clock = Stopwatch.StartNew();
        var entries = await BackupDirectory.ReadManifestAsync(directory, cancellationToken).ConfigureAwait(false);
        foreach (var entry in entries.Values.OrderBy(e => e.Key, StringComparer.Ordinal))
        {
            var path = BackupDirectory.ObjectPath(directory, entry.Key);
            if (!File.Exists(path))
            {
                throw new BackupIntegrityException($"restore refused, nothing was restored: {entry.Key}: the backup has no file for it");
            }

            var (sha256, length) = await BackupDirectory.HashFileAsync(path, cancellationToken).ConfigureAwait(false);
            if (length != entry.Size || !string.Equals(sha256, entry.Sha256, StringComparison.OrdinalIgnoreCase))
            {
                throw new BackupIntegrityException($"restore refused, nothing was restored: {entry.Key}: the file does not match the manifest (sha256 {sha256}, {length.ToString(CultureInfo.InvariantCulture)} bytes; the manifest says {entry.Sha256}, {entry.Size.ToString(CultureInfo.InvariantCulture)} bytes)");
            }
        }

        var existing = await PrepareTargetAsync(target, bucket, cancellationToken).ConfigureAwait(false);
        var progress = new Progress("restore", options.ProgressEvery, output);
        foreach (var entry in entries.Values.OrderBy(e => e.Key, StringComparer.Ordinal))
        {
            if (existing.TryGetValue(entry.Key, out var there) && there.ETag == entry.ETag && there.Size == entry.Size)
            {
                await progress.SkippedAsync().ConfigureAwait(false);
                continue;
            }

            await target.UploadAsync(bucket, entry.Key, BackupDirectory.ObjectPath(directory, entry.Key), entry.ObjectHeaders, options.MultipartThreshold, options.PartSize, cancellationToken).ConfigureAwait(false);
            await progress.TransferredAsync(entry.Size).ConfigureAwait(false);
        }

        return await progress.DoneAsync(clock.Elapsed).ConfigureAwait(false);
    }

    /// <summary>
    /// Copies the objects of <paramref name="sourceBucket"/> (under <paramref name="prefix"/>) into
    /// <paramref name="targetBucket"/> on another endpoint (created if missing), each through a temporary file that is
    /// verified as it downloads. Objects the target holds with the same ETag and size are skipped.
    /// </summary>
    public async Task<TransferSummary> CopyBucketAsync(string verb, S3Client source, string sourceBucket, string? prefix, S3Client target, string targetBucket, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(source);
        var clock = Stopwatch.StartNew();

        // The source first: a missing source bucket must not leave an empty target bucket behind.
        if (!await source.BucketExistsAsync(sourceBucket, cancellationToken).ConfigureAwait(false))
        {
            throw new S3ClientException("NoSuchBucket", 404, $"The specified bucket does not exist: {sourceBucket}");
        }

        var existing = await PrepareTargetAsync(target, targetBucket, cancellationToken).ConfigureAwait(false);
        var progress = new Progress(verb, options.ProgressEvery, output);
        var spool = Path.Combine(Path.GetTempPath(), $"blueprint-copy-{Guid.NewGuid():N}");
        Directory.CreateDirectory(spool);
        try
        {
            var file = Path.Combine(spool, "object");
            await foreach (var listed in source.ListAsync(sourceBucket, prefix, cancellationToken).ConfigureAwait(false))
            {
                if (existing.TryGetValue(listed.Key, out var there) && there.ETag == listed.ETag && there.Size == listed.Size)
                {
                    await progress.SkippedAsync().ConfigureAwait(false);
                    continue;
                }

                var download = await TryDownloadAsync(source, sourceBucket, listed.Key, file, cancellationToken).ConfigureAwait(false);
                if (download is null)
                {
                    continue;
                }

                await target.UploadAsync(targetBucket, listed.Key, file, download.Headers, options.MultipartThreshold, options.PartSize, cancellationToken).ConfigureAwait(false);
                await progress.TransferredAsync(download.Size).ConfigureAwait(false);
            }
        }
        finally
        {
            Directory.Delete(spool, recursive: true);
        }

        return await progress.DoneAsync(clock.Elapsed).ConfigureAwait(false);
    }

    /// <summary>Downloads an object; null (and a line saying so) when it was deleted between the listing and the GET.</summary>
    private async Task<S3Download?> TryDownloadAsync(S3Client source, string bucket, string key, string path, CancellationToken cancellationToken)
    {
        try
        {
            return await source.DownloadAsync(bucket, key, path, cancellationToken).ConfigureAwait(false);
        }
        catch (S3ClientException e) when (e.Code == "NoSuchKey")
        {
            File.Delete(path);
            await output.WriteLineAsync($"{key}: deleted while the run went on, left out").ConfigureAwait(false);
            return null;
        }
    }

    /// <summary>Creates the target bucket if it is missing; returns what it already holds, by key.</summary>
    private async Task<Dictionary<string, S3Listing>> PrepareTargetAsync(S3Client target, string bucket, CancellationToken cancellationToken)
    {
        Dictionary<string, S3Listing> existing = new(StringComparer.Ordinal);
        if (!await target.BucketExistsAsync(bucket, cancellationToken).ConfigureAwait(false))
        {
            await target.CreateBucketAsync(bucket, cancellationToken).ConfigureAwait(false);
            await output.WriteLineAsync($"created bucket {bucket}").ConfigureAwait(false);
            return existing;
        }

        await foreach (var listed in target.ListAsync(bucket, null, cancellationToken).ConfigureAwait(false))
        {
            existing[listed.Key] = listed;
        }

        return existing;
    }

    /// <summary>Counts what a run did and prints a line every so many objects and a summary at the end.</summary>
    private sealed class Progress(string verb, int every, TextWriter output)
    {
        private int _transferred;
        private int _skipped;
        private long _bytes;

        public Task TransferredAsync(long bytes)
        {
            _transferred++;
            _bytes += bytes;
            return MaybePrintAsync();
        }

        public Task SkippedAsync()
        {
            _skipped++;
            return MaybePrintAsync();
        }

        public async Task<TransferSummary> DoneAsync(TimeSpan elapsed)
        {
            await output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                $"{verb} done: {_transferred} objects, {_bytes} bytes, {_skipped} skipped, {elapsed.TotalSeconds:F1} s")).ConfigureAwait(false);
            return new TransferSummary(_transferred, _bytes, _skipped, elapsed);
        }

        private Task MaybePrintAsync() => every > 0 && (_transferred + _skipped) % every == 0
            ? output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"{verb}: {_transferred + _skipped} objects so far ({_transferred} transferred, {_bytes} bytes; {_skipped} skipped)"))
            : Task.CompletedTask;
    }
}
