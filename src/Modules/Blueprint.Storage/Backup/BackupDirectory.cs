using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Blueprint.Storage.Backup;

/// <summary>One object of a backup, a line of <c>manifest.jsonl</c>.</summary>
internal sealed record ManifestEntry(
    string Key,
    long Size,
    [property: JsonPropertyName("etag")] string ETag,
    string Sha256,
    string? ContentType,
    Dictionary<string, string> Metadata,
    Dictionary<string, string> Headers,
    DateTimeOffset LastModified)
{
    public S3ObjectHeaders ObjectHeaders => new(ContentType, Metadata, Headers);
}

/// <summary>What <c>backup.json</c> says about the last backup into a directory.</summary>
internal sealed record BackupInfo(string Bucket, string Endpoint, string? Prefix, DateTimeOffset Time, int Objects, long Bytes);

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, WriteIndented = false)]
[JsonSerializable(typeof(ManifestEntry))]
[JsonSerializable(typeof(BackupInfo))]
internal sealed partial class BackupJson : JsonSerializerContext;

/// <summary>
/// The layout of a backup directory: <c>objects/</c> with one file per object, <c>manifest.jsonl</c> (one
/// <see cref="ManifestEntry"/> a line) and <c>backup.json</c>, both replaced atomically (written aside, then renamed).
/// </summary>
internal static class BackupDirectory
{
    public const string ObjectsFolder = "objects";
    public const string ManifestFile = "manifest.jsonl";
    public const string InfoFile = "backup.json";

    /// <summary>A file name's longest encoded segment before it is replaced by a hash (file systems allow 255 bytes).</summary>
    private const int MaxSegmentBytes = 200;

    /// <summary>
    /// The file of <paramref name="key"/> under <c>objects/</c>, relative and safe whatever the key: each '/'-separated
    /// segment is percent-encoded ('%', '\', '~', control characters and NUL escaped; an empty, "." or ".." segment
    /// escaped whole), so no segment can climb out or be absolute; the last segment ends in '~', which no encoded segment
    /// holds, so an object's file never collides with the folder of a longer key (keys "a" and "a/b" both fit). A key
    /// too long for the file system is stored under <c>%long/</c> by the SHA-256 of the key. The manifest names the key, not the file.
    /// </summary>
    public static string RelativePath(string key)
    {
        ArgumentNullException.ThrowIfNull(key);
        var segments = key.Split('/').Select(EncodeSegment).ToArray();
        segments[^1] += "~";
        if (segments.Any(s => Encoding.UTF8.GetByteCount(s) > MaxSegmentBytes) || Encoding.UTF8.GetByteCount(key) > 3000)
        {
            return Path.Combine("%long", Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(key))) + "~");
        }

        return Path.Combine(segments);
    }

    /// <summary>The absolute path of <paramref name="key"/>'s file in the backup at <paramref name="directory"/>.</summary>
    public static string ObjectPath(string directory, string key) => Path.Combine(directory, ObjectsFolder, RelativePath(key));

    private static string EncodeSegment(string segment)
    {
        if (segment.Length == 0)
        {
            return "%";
        }

        if (segment is "." or "..")
        {
            return segment.Replace(".", "%2E", StringComparison.Ordinal);
        }

        var builder = new StringBuilder(segment.Length);
        foreach (var c in segment)
        {
            if (c is '%' or '\\' or '~' || char.IsControl(c))
            {
                builder.Append('%').Append(((int)c).ToString("X2", CultureInfo.InvariantCulture));
            }
            else
            {
                builder.Append(c);
            }
        }

        return builder.ToString();
    }

    /// <summary>The entries of the manifest in <paramref name="directory"/>, by key; empty when there is none.</summary>
    public static async Task<Dictionary<string, ManifestEntry>> ReadManifestAsync(string directory, CancellationToken cancellationToken)
    {
        Dictionary<string, ManifestEntry> entries = new(StringComparer.Ordinal);
        var path = Path.Combine(directory, ManifestFile);
        if (!File.Exists(path))
        {
            return entries;
        }

        var number = 0;
        await foreach (var line in File.ReadLinesAsync(path, cancellationToken).ConfigureAwait(false))
        {
            number++;
            if (line.Length == 0)
            {
                continue;
            }

            try
            {
                var entry = JsonSerializer.Deserialize(line, BackupJson.Default.ManifestEntry);
                if (entry?.Key is not { Length: > 0 } || entry.Sha256 is null)
                {
                    throw new JsonException("no key or sha256");
                }

                entries[entry.Key] = entry;
            }
            catch (JsonException e)
            {
                throw new InvalidDataException($"{ManifestFile} line {number} is not a manifest entry ({e.Message})", e);
            }
        }

        return entries;
    }

    /// <summary>Replaces the manifest and <c>backup.json</c> atomically: each written beside it, flushed, then renamed over it.</summary>
    public static async Task WriteAsync(string directory, IEnumerable<ManifestEntry> entries, BackupInfo info, CancellationToken cancellationToken)
    {
        var manifest = Path.Combine(directory, ManifestFile);
        var temporary = manifest + ".tmp";
        var file = new FileStream(temporary, FileMode.Create, FileAccess.Write, FileShare.None, 64 * 1024, FileOptions.Asynchronous);
        await using (file.ConfigureAwait(false))
        {
            var newline = "\n"u8.ToArray();
            foreach (var entry in entries.OrderBy(e => e.Key, StringComparer.Ordinal))
            {
                await JsonSerializer.SerializeAsync(file, entry, BackupJson.Default.ManifestEntry, cancellationToken).ConfigureAwait(false);
                await file.WriteAsync(newline, cancellationToken).ConfigureAwait(false);
            }

            await file.FlushAsync(cancellationToken).ConfigureAwait(false);
            file.Flush(flushToDisk: true);
        }

        File.Move(temporary, manifest, overwrite: true);

        var infoPath = Path.Combine(directory, InfoFile);
        await File.WriteAllTextAsync(infoPath + ".tmp", JsonSerializer.Serialize(info, BackupJson.Default.BackupInfo) + "\n", cancellationToken).ConfigureAwait(false);
        File.Move(infoPath + ".tmp", infoPath, overwrite: true);
    }

    /// <summary>The SHA-256 (lowercase hex) and length of a file, streamed.</summary>
    public static async Task<(string Sha256, long Length)> HashFileAsync(string path, CancellationToken cancellationToken)
    {
        var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 128 * 1024, FileOptions.Asynchronous | FileOptions.SequentialScan);
        await using (file.ConfigureAwait(false))
        {
            var hash = await SHA256.HashDataAsync(file, cancellationToken).ConfigureAwait(false);
            return (Convert.ToHexStringLower(hash), file.Length);
        }
    }
}
