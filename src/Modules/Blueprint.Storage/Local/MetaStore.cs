using System.Buffers.Binary;
using System.Text.Json;
using System.Threading.Channels;
using Microsoft.Data.Sqlite;

namespace Blueprint.Storage.Local;

/// <summary>
/// The metadata of one node's store in SQLite (WAL, <c>synchronous = FULL</c>, so a committed row survives a crash):
/// buckets, objects (with small objects' bytes inline and larger ones' segment manifests), multipart uploads and their
/// parts, and access keys. A row is the moment an object becomes visible; its blob files are durable before it.
/// Keys are compared as SQLite's BINARY text, which is UTF-8 byte order: S3's listing order.
/// </summary>
internal sealed class MetaStore : IDisposable
{
    /// <summary>The most writes one commit takes.</summary>
    private const int MaxGroup = 256;

    private readonly string _connectionString;
    /// <summary>Writes that may wait for the writer; callers beyond it wait to queue (back-pressure, nothing dropped).</summary>
    private const int MaxQueuedWrites = 4096;

    private readonly Channel<PendingWrite> _writes = Channel.CreateBounded<PendingWrite>(new BoundedChannelOptions(MaxQueuedWrites) { SingleReader = true });
    private Task _writer = Task.CompletedTask;

    private MetaStore(string connectionString) => _connectionString = connectionString;

    public static MetaStore Open(string path)
    {
        var connectionString = new SqliteConnectionStringBuilder { DataSource = path, Pooling = true, DefaultTimeout = 30 }.ToString();
        var store = new MetaStore(connectionString);
        using var connection = store.Connect();
        Execute(connection, """
            PRAGMA journal_mode = WAL;
            CREATE TABLE IF NOT EXISTS buckets (name TEXT PRIMARY KEY, created INTEGER NOT NULL) WITHOUT ROWID;
            CREATE TABLE IF NOT EXISTS objects (
                bucket TEXT NOT NULL, key TEXT NOT NULL, size INTEGER NOT NULL, etag TEXT NOT NULL,
                headers TEXT NOT NULL, modified INTEGER NOT NULL, inline BLOB, segments BLOB NOT NULL,
                version INTEGER NOT NULL, writer TEXT NOT NULL, deleted INTEGER NOT NULL,
                PRIMARY KEY (bucket, key)) WITHOUT ROWID;
            CREATE TABLE IF NOT EXISTS hinted (
                target TEXT NOT NULL, bucket TEXT NOT NULL, key TEXT NOT NULL, size INTEGER NOT NULL, etag TEXT NOT NULL,
                headers TEXT NOT NULL, modified INTEGER NOT NULL, inline BLOB, segments BLOB NOT NULL,
                version INTEGER NOT NULL, writer TEXT NOT NULL, deleted INTEGER NOT NULL,
                PRIMARY KEY (target, bucket, key)) WITHOUT ROWID;
            CREATE TABLE IF NOT EXISTS uploads (
                upload_id TEXT PRIMARY KEY, bucket TEXT NOT NULL, key TEXT NOT NULL, headers TEXT NOT NULL, initiated INTEGER NOT NULL) WITHOUT ROWID;
            CREATE INDEX IF NOT EXISTS uploads_by_key ON uploads (bucket, key, initiated);
            CREATE TABLE IF NOT EXISTS parts (
                upload_id TEXT NOT NULL, part_number INTEGER NOT NULL, size INTEGER NOT NULL, etag TEXT NOT NULL,
                modified INTEGER NOT NULL, segments BLOB NOT NULL, PRIMARY KEY (upload_id, part_number)) WITHOUT ROWID;
            CREATE TABLE IF NOT EXISTS access_keys (access_key TEXT PRIMARY KEY, secret TEXT NOT NULL, created INTEGER NOT NULL) WITHOUT ROWID;
            """);
        store._writer = Task.Run(store.WriteLoopAsync);
        return store;
    }

    /// <summary>Stops taking writes and waits for those queued to commit.</summary>
    public void Dispose()
    {
        _writes.Writer.TryComplete();
        _writer.Wait(TimeSpan.FromSeconds(30));
    }

    // ---- buckets

    public async Task<bool> CreateBucketAsync(string name, DateTimeOffset now, CancellationToken cancellationToken) =>
        await WriteAsync(async connection => await ExecuteAsync(connection, "INSERT OR IGNORE INTO buckets (name, created) VALUES ($n, $c)", cancellationToken, ("$n", name), ("$c", now.ToUnixTimeMilliseconds())).ConfigureAwait(false) == 1, cancellationToken).ConfigureAwait(false);

    /// <summary>Deletes an empty bucket: false when it does not exist; throws BucketNotEmpty when it holds objects or uploads.</summary>
    public async Task<bool> DeleteBucketAsync(string name, CancellationToken cancellationToken) =>
        await WriteAsync(async connection =>
        {
            if (await ScalarAsync(connection, "SELECT EXISTS (SELECT 1 FROM objects WHERE bucket = $b AND deleted = 0) OR EXISTS (SELECT 1 FROM uploads WHERE bucket = $b)", cancellationToken, ("$b", name)).ConfigureAwait(false) is long and not 0)
            {
                throw S3.S3Exception.BucketNotEmpty(name);
            }

            var deleted = await ExecuteAsync(connection, "DELETE FROM buckets WHERE name = $b", cancellationToken, ("$b", name)).ConfigureAwait(false) == 1;
            await ExecuteAsync(connection, "DELETE FROM objects WHERE bucket = $b", cancellationToken, ("$b", name)).ConfigureAwait(false);
            return deleted;
        }, cancellationToken).ConfigureAwait(false);

    public async Task<DateTimeOffset?> BucketCreatedAsync(string name, CancellationToken cancellationToken)
    {
        await using var connection = Connect();
        return await ScalarAsync(connection, "SELECT created FROM buckets WHERE name = $b", cancellationToken, ("$b", name)).ConfigureAwait(false) is long created
            ? DateTimeOffset.FromUnixTimeMilliseconds(created)
            : null;
    }

    public async Task<IReadOnlyList<(string Name, DateTimeOffset Created)>> ListBucketsAsync(CancellationToken cancellationToken)
    {
        await using var connection = Connect();
        await using var command = Command(connection, "SELECT name, created FROM buckets ORDER BY name");
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        List<(string, DateTimeOffset)> buckets = [];
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            buckets.Add((reader.GetString(0), DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(1))));
        }

        return buckets;
    }

    // ---- objects

    /// <summary>
    /// Applies an object version (or a tombstone) if it is newer than the one kept — last writer wins by
    /// (<see cref="ObjectRecord.Version"/>, <see cref="ObjectRecord.Writer"/>) — creating the bucket on this node if a
    /// replica missed its creation. Returns whether it was applied and the segments no longer referenced (the replaced
    /// version's, or the new one's when it lost), whose blobs the caller deletes.
    /// </summary>
    /// <remarks>With <c>replaceEqual</c> the same version is replaced too (a repair of a copy found corrupt).</remarks>
    public async Task<(bool Applied, IReadOnlyList<Segment> Unreferenced)> ApplyObjectAsync(ObjectRecord record, bool requireBucket, bool replaceEqual, CancellationToken cancellationToken) =>
        await WriteAsync(async connection =>
        {
            if (requireBucket)
            {
                if (await ScalarAsync(connection, "SELECT 1 FROM buckets WHERE name = $b", cancellationToken, ("$b", record.Bucket)).ConfigureAwait(false) is null)
                {
                    throw S3.S3Exception.NoSuchBucket(record.Bucket);
                }
            }
            else
            {
                await ExecuteAsync(connection, "INSERT OR IGNORE INTO buckets (name, created) VALUES ($b, $c)", cancellationToken, ("$b", record.Bucket), ("$c", record.Modified.ToUnixTimeMilliseconds())).ConfigureAwait(false);
            }

            List<Segment> unreferenced = [];
            await using (var command = Command(connection, "SELECT version, writer, segments FROM objects WHERE bucket = $b AND key = $k", ("$b", record.Bucket), ("$k", record.Key)))
            await using (var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false))
            {
                if (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                {
                    var same = record.Version == reader.GetInt64(0) && record.Writer == reader.GetString(1);
                    if (!record.IsNewerThan(reader.GetInt64(0), reader.GetString(1)) && !(replaceEqual && same))
                    {
                        return (false, (IReadOnlyList<Segment>)[.. record.Segments.Where(segment => segment.Blob != Guid.Empty)]);
                    }

                    unreferenced.AddRange(DecodeSegments((byte[])reader.GetValue(2)).Where(segment => segment.Blob != Guid.Empty));
                }
            }

            await ExecuteAsync(connection, """
                INSERT OR REPLACE INTO objects (bucket, key, size, etag, headers, modified, inline, segments, version, writer, deleted)
                VALUES ($b, $k, $s, $e, $h, $m, $i, $g, $v, $w, $d)
                """, cancellationToken, RecordParameters(record)).ConfigureAwait(false);
            return (true, (IReadOnlyList<Segment>)unreferenced);
        }, cancellationToken).ConfigureAwait(false);

    /// <summary>The object version kept for a key (a tombstone included), or null.</summary>
    public async Task<ObjectRecord?> GetObjectAsync(string bucket, string key, CancellationToken cancellationToken)
    {
        await using var connection = Connect();
        await using var command = Command(connection, $"SELECT {Columns} FROM objects WHERE bucket = $b AND key = $k", ("$b", bucket), ("$k", key));
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        return await reader.ReadAsync(cancellationToken).ConfigureAwait(false) ? ReadObject(bucket, reader) : null;
    }

    /// <summary>
    /// Up to <paramref name="limit"/> object versions of a bucket whose keys start with <paramref name="prefix"/> and sort
    /// after <paramref name="after"/>, in key order; tombstones only when <paramref name="withTombstones"/>. Inline bytes are not read.
    /// </summary>
    public async Task<IReadOnlyList<ObjectRecord>> ListObjectsAsync(string bucket, string prefix, string after, int limit, bool withTombstones, CancellationToken cancellationToken)
    {
        await using var connection = Connect();
        var sql = $"SELECT {ListColumns} FROM objects WHERE bucket = $b AND key > $a AND key >= $p AND key < $pmax AND substr(key, 1, length($p)) = $p{(withTombstones ? "" : " AND deleted = 0")} ORDER BY key LIMIT $l";
        // $pmax bounds the index range: no real key continues its prefix with four U+10FFFF code points.
        await using var command = Command(connection, sql, ("$b", bucket), ("$a", after), ("$p", prefix), ("$pmax", prefix + "\U0010FFFF\U0010FFFF\U0010FFFF\U0010FFFF"), ("$l", limit));
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        List<ObjectRecord> records = [];
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            records.Add(ReadObject(bucket, reader));
        }

        return records;
    }

    /// <summary>Deletes tombstones older than <paramref name="before"/> (they have had time to reach every replica).</summary>
    public async Task<int> PurgeTombstonesAsync(DateTimeOffset before, CancellationToken cancellationToken) =>
        await WriteAsync(connection => ExecuteAsync(connection, "DELETE FROM objects WHERE deleted = 1 AND modified < $t", cancellationToken, ("$t", before.ToUnixTimeMilliseconds())), cancellationToken).ConfigureAwait(false);

    // ---- hinted handoff

    /// <summary>Keeps a version meant for <paramref name="target"/> (down when it was written) until it can be handed over; returns the replaced hint's segments.</summary>
    public async Task<IReadOnlyList<Segment>> AddHintAsync(string target, ObjectRecord record, CancellationToken cancellationToken) =>
        await WriteAsync(async connection =>
        {
            List<Segment> unreferenced = [];
            await using (var command = Command(connection, "SELECT version, writer, segments FROM hinted WHERE target = $t AND bucket = $b AND key = $k", ("$t", target), ("$b", record.Bucket), ("$k", record.Key)))
            await using (var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false))
            {
                if (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                {
                    if (!record.IsNewerThan(reader.GetInt64(0), reader.GetString(1)))
                    {
                        return (IReadOnlyList<Segment>)[.. record.Segments.Where(segment => segment.Blob != Guid.Empty)];
                    }

                    unreferenced.AddRange(DecodeSegments((byte[])reader.GetValue(2)).Where(segment => segment.Blob != Guid.Empty));
                }
            }

            await ExecuteAsync(connection, """
                INSERT OR REPLACE INTO hinted (target, bucket, key, size, etag, headers, modified, inline, segments, version, writer, deleted)
                VALUES ($t, $b, $k, $s, $e, $h, $m, $i, $g, $v, $w, $d)
                """, cancellationToken, [("$t", target), .. RecordParameters(record)]).ConfigureAwait(false);
            return (IReadOnlyList<Segment>)unreferenced;
        }, cancellationToken).ConfigureAwait(false);

    /// <summary>Up to <paramref name="limit"/> hints, with their targets.</summary>
    public async Task<IReadOnlyList<(string Target, ObjectRecord Record)>> HintsAsync(int limit, CancellationToken cancellationToken)
    {
        await using var connection = Connect();
        await using var command = Command(connection, $"SELECT {Columns}, target, bucket FROM hinted ORDER BY target, bucket, key LIMIT $l", ("$l", limit));
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        List<(string, ObjectRecord)> hints = [];
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            hints.Add((reader.GetString(10), ReadObject(reader.GetString(11), reader)));
        }

        return hints;
    }

    /// <summary>Drops a hint once handed over (if it is still that version); returns its segments, or null.</summary>
    public async Task<IReadOnlyList<Segment>?> RemoveHintAsync(string target, ObjectRecord record, CancellationToken cancellationToken) =>
        await WriteAsync(async connection =>
        {
            var old = await ScalarAsync(connection, "SELECT segments FROM hinted WHERE target = $t AND bucket = $b AND key = $k AND version = $v AND writer = $w", cancellationToken,
                ("$t", target), ("$b", record.Bucket), ("$k", record.Key), ("$v", record.Version), ("$w", record.Writer)).ConfigureAwait(false) as byte[];
            if (old is null)
            {
                return null;
            }

            await ExecuteAsync(connection, "DELETE FROM hinted WHERE target = $t AND bucket = $b AND key = $k", cancellationToken, ("$t", target), ("$b", record.Bucket), ("$k", record.Key)).ConfigureAwait(false);
            return (IReadOnlyList<Segment>?)[.. DecodeSegments(old).Where(segment => segment.Blob != Guid.Empty)];
        }, cancellationToken).ConfigureAwait(false);

    /// <summary>How many hints wait to be handed over.</summary>
    public async Task<long> HintCountAsync(CancellationToken cancellationToken)
    {
        await using var connection = Connect();
        return await ScalarAsync(connection, "SELECT count(*) FROM hinted", cancellationToken).ConfigureAwait(false) is long count ? count : 0;
    }

    // ---- multipart uploads

    public async Task CreateUploadAsync(string uploadId, string bucket, string key, IReadOnlyDictionary<string, string> headers, DateTimeOffset now, CancellationToken cancellationToken) =>
        await WriteAsync(async connection =>
        {
            if (await ScalarAsync(connection, "SELECT 1 FROM buckets WHERE name = $b", cancellationToken, ("$b", bucket)).ConfigureAwait(false) is null)
            {
                throw S3.S3Exception.NoSuchBucket(bucket);
            }

            return await ExecuteAsync(connection, "INSERT INTO uploads (upload_id, bucket, key, headers, initiated) VALUES ($u, $b, $k, $h, $t)", cancellationToken,
                ("$u", uploadId), ("$b", bucket), ("$k", key), ("$h", EncodeHeaders(headers)), ("$t", now.ToUnixTimeMilliseconds())).ConfigureAwait(false);
        }, cancellationToken).ConfigureAwait(false);

    public async Task<UploadRecord?> GetUploadAsync(string uploadId, CancellationToken cancellationToken)
    {
        await using var connection = Connect();
        await using var command = Command(connection, "SELECT bucket, key, headers, initiated FROM uploads WHERE upload_id = $u", ("$u", uploadId));
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        return await reader.ReadAsync(cancellationToken).ConfigureAwait(false)
            ? new UploadRecord(uploadId, reader.GetString(0), reader.GetString(1), DecodeHeaders(reader.GetString(2)), DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(3)))
            : null;
    }

    public async Task<IReadOnlyList<UploadRecord>> ListUploadsAsync(string bucket, string prefix, int limit, CancellationToken cancellationToken)
    {
        await using var connection = Connect();
        await using var command = Command(connection, "SELECT upload_id, key, headers, initiated FROM uploads WHERE bucket = $b AND substr(key, 1, length($p)) = $p ORDER BY key, initiated LIMIT $l", ("$b", bucket), ("$p", prefix), ("$l", limit));
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        List<UploadRecord> uploads = [];
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            uploads.Add(new UploadRecord(reader.GetString(0), bucket, reader.GetString(1), DecodeHeaders(reader.GetString(2)), DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(3))));
        }

        return uploads;
    }

    /// <summary>Records a part (replacing one with its number) and returns the replaced part's segments; NoSuchUpload when the upload is gone.</summary>
    public async Task<IReadOnlyList<Segment>> PutPartAsync(string uploadId, PartRecord part, CancellationToken cancellationToken) =>
        await WriteAsync(async connection =>
        {
            if (await ScalarAsync(connection, "SELECT 1 FROM uploads WHERE upload_id = $u", cancellationToken, ("$u", uploadId)).ConfigureAwait(false) is null)
            {
                throw S3.S3Exception.NoSuchUpload(uploadId);
            }

            var old = await ScalarAsync(connection, "SELECT segments FROM parts WHERE upload_id = $u AND part_number = $n", cancellationToken, ("$u", uploadId), ("$n", part.Number)).ConfigureAwait(false) as byte[];
            await ExecuteAsync(connection, "INSERT OR REPLACE INTO parts (upload_id, part_number, size, etag, modified, segments) VALUES ($u, $n, $s, $e, $m, $g)", cancellationToken,
                ("$u", uploadId), ("$n", part.Number), ("$s", part.Size), ("$e", part.ETag), ("$m", part.Modified.ToUnixTimeMilliseconds()), ("$g", EncodeSegments(part.Segments))).ConfigureAwait(false);
            return old is null ? (IReadOnlyList<Segment>)[] : DecodeSegments(old);
        }, cancellationToken).ConfigureAwait(false);

    public async Task<IReadOnlyList<PartRecord>> ListPartsAsync(string uploadId, int after, int limit, CancellationToken cancellationToken)
    {
        await using var connection = Connect();
        await using var command = Command(connection, "SELECT part_number, size, etag, modified, segments FROM parts WHERE upload_id = $u AND part_number > $a ORDER BY part_number LIMIT $l", ("$u", uploadId), ("$a", after), ("$l", limit));
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        List<PartRecord> parts = [];
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            parts.Add(new PartRecord(reader.GetInt32(0), reader.GetInt64(1), reader.GetString(2), DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(3)), DecodeSegments((byte[])reader.GetValue(4))));
        }

        return parts;
    }

    /// <summary>
    /// Ends an upload being completed, in one transaction: the upload and its parts' rows go. Returns the segments of
    /// the parts not in <paramref name="usedParts"/>, whose blobs the caller deletes; the used parts' blobs are the caller's.
    /// </summary>
    public async Task<IReadOnlyList<Segment>> CompleteUploadAsync(string uploadId, IReadOnlySet<int> usedParts, CancellationToken cancellationToken) =>
        await WriteAsync(async connection =>
        {
            if (await ScalarAsync(connection, "SELECT 1 FROM uploads WHERE upload_id = $u", cancellationToken, ("$u", uploadId)).ConfigureAwait(false) is null)
            {
                throw S3.S3Exception.NoSuchUpload(uploadId);
            }

            List<Segment> unused = [];
            await using (var command = Command(connection, "SELECT part_number, segments FROM parts WHERE upload_id = $u", ("$u", uploadId)))
            await using (var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false))
            {
                while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                {
                    if (!usedParts.Contains(reader.GetInt32(0)))
                    {
                        unused.AddRange(DecodeSegments((byte[])reader.GetValue(1)));
                    }
                }
            }

            await ExecuteAsync(connection, "DELETE FROM parts WHERE upload_id = $u", cancellationToken, ("$u", uploadId)).ConfigureAwait(false);
            await ExecuteAsync(connection, "DELETE FROM uploads WHERE upload_id = $u", cancellationToken, ("$u", uploadId)).ConfigureAwait(false);
            return (IReadOnlyList<Segment>)unused;
        }, cancellationToken).ConfigureAwait(false);

    /// <summary>Aborts an upload: returns its parts' segments (whose blobs the caller deletes), or null when it did not exist.</summary>
    public async Task<IReadOnlyList<Segment>?> AbortUploadAsync(string uploadId, CancellationToken cancellationToken) =>
        await WriteAsync(async connection =>
        {
            if (await ScalarAsync(connection, "SELECT 1 FROM uploads WHERE upload_id = $u", cancellationToken, ("$u", uploadId)).ConfigureAwait(false) is null)
            {
                return null;
            }

            List<Segment> segments = [];
            await using (var command = Command(connection, "SELECT segments FROM parts WHERE upload_id = $u", ("$u", uploadId)))
            await using (var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false))
            {
                while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                {
                    segments.AddRange(DecodeSegments((byte[])reader.GetValue(0)));
                }
            }

            await ExecuteAsync(connection, "DELETE FROM parts WHERE upload_id = $u", cancellationToken, ("$u", uploadId)).ConfigureAwait(false);
            await ExecuteAsync(connection, "DELETE FROM uploads WHERE upload_id = $u", cancellationToken, ("$u", uploadId)).ConfigureAwait(false);
            return (IReadOnlyList<Segment>?)segments;
        }, cancellationToken).ConfigureAwait(false);

    /// <summary>The ids of uploads initiated before <paramref name="before"/>.</summary>
    public async Task<IReadOnlyList<string>> UploadsInitiatedBeforeAsync(DateTimeOffset before, CancellationToken cancellationToken)
    {
        await using var connection = Connect();
        await using var command = Command(connection, "SELECT upload_id FROM uploads WHERE initiated < $t LIMIT 1000", ("$t", before.ToUnixTimeMilliseconds()));
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        List<string> ids = [];
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            ids.Add(reader.GetString(0));
        }

        return ids;
    }

    /// <summary>Every blob any object or part refers to (for the orphan sweep).</summary>
    public async Task<HashSet<Guid>> ReferencedBlobsAsync(CancellationToken cancellationToken)
    {
        await using var connection = Connect();
        HashSet<Guid> blobs = [];
        foreach (var sql in (string[])["SELECT segments FROM objects WHERE inline IS NULL", "SELECT segments FROM hinted WHERE inline IS NULL", "SELECT segments FROM parts"])
        {
            await using var command = Command(connection, sql);
            await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                foreach (var segment in DecodeSegments((byte[])reader.GetValue(0)))
                {
                    blobs.Add(segment.Blob);
                }
            }
        }

        return blobs;
    }

    // ---- access keys

    public async Task AddAccessKeyAsync(string accessKey, string secret, DateTimeOffset now, CancellationToken cancellationToken) =>
        await WriteAsync(connection => ExecuteAsync(connection, "INSERT INTO access_keys (access_key, secret, created) VALUES ($a, $s, $c)", cancellationToken, ("$a", accessKey), ("$s", secret), ("$c", now.ToUnixTimeMilliseconds())), cancellationToken).ConfigureAwait(false);

    public async Task<bool> RemoveAccessKeyAsync(string accessKey, CancellationToken cancellationToken) =>
        await WriteAsync(async connection => await ExecuteAsync(connection, "DELETE FROM access_keys WHERE access_key = $a", cancellationToken, ("$a", accessKey)).ConfigureAwait(false) == 1, cancellationToken).ConfigureAwait(false);

    public async Task<IReadOnlyDictionary<string, string>> AccessKeysAsync(CancellationToken cancellationToken)
    {
        await using var connection = Connect();
        await using var command = Command(connection, "SELECT access_key, secret FROM access_keys");
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        Dictionary<string, string> keys = new(StringComparer.Ordinal);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            keys[reader.GetString(0)] = reader.GetString(1);
        }

        return keys;
    }

    // ---- encoding

    internal static byte[] EncodeSegments(IReadOnlyList<Segment> segments)
    {
        var size = 4 + segments.Sum(segment => 16 + 8 + 4 + (8 * segment.BlockHashes.Length));
        var bytes = new byte[size];
        var span = bytes.AsSpan();
        BinaryPrimitives.WriteInt32LittleEndian(span, segments.Count);
        span = span[4..];
        foreach (var segment in segments)
        {
            segment.Blob.TryWriteBytes(span);
            BinaryPrimitives.WriteInt64LittleEndian(span[16..], segment.Length);
            BinaryPrimitives.WriteInt32LittleEndian(span[24..], segment.BlockHashes.Length);
            span = span[28..];
            foreach (var hash in segment.BlockHashes)
            {
                BinaryPrimitives.WriteUInt64LittleEndian(span, hash);
                span = span[8..];
            }
        }

        return bytes;
    }

    internal static Segment[] DecodeSegments(ReadOnlySpan<byte> span)
    {
        var count = BinaryPrimitives.ReadInt32LittleEndian(span);
        span = span[4..];
        var segments = new Segment[count];
        for (var i = 0; i < count; i++)
        {
            var blob = new Guid(span[..16]);
            var length = BinaryPrimitives.ReadInt64LittleEndian(span[16..]);
            var blocks = BinaryPrimitives.ReadInt32LittleEndian(span[24..]);
            span = span[28..];
            var hashes = new ulong[blocks];
            for (var b = 0; b < blocks; b++)
            {
                hashes[b] = BinaryPrimitives.ReadUInt64LittleEndian(span);
                span = span[8..];
            }

            segments[i] = new Segment(blob, length, hashes);
        }

        return segments;
    }

    private static string EncodeHeaders(IReadOnlyDictionary<string, string> headers) => JsonSerializer.Serialize(headers, StorageJson.Default.IReadOnlyDictionaryStringString);

    private static Dictionary<string, string> DecodeHeaders(string json) =>
        JsonSerializer.Deserialize(json, StorageJson.Default.DictionaryStringString) ?? new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);

    private const string Columns = "key, size, etag, headers, modified, inline, segments, version, writer, deleted";

    private const string ListColumns = "key, size, etag, headers, modified, NULL, segments, version, writer, deleted";

    private static (string, object?)[] RecordParameters(ObjectRecord record) =>
    [
        ("$b", record.Bucket), ("$k", record.Key), ("$s", record.Size), ("$e", record.ETag), ("$h", EncodeHeaders(record.Headers)),
        ("$m", record.Modified.ToUnixTimeMilliseconds()), ("$i", record.Inline), ("$g", EncodeSegments(record.Segments)),
        ("$v", record.Version), ("$w", record.Writer), ("$d", record.Deleted ? 1 : 0),
    ];

    private static ObjectRecord ReadObject(string bucket, SqliteDataReader reader) => new(
        bucket,
        reader.GetString(0),
        reader.GetInt64(1),
        reader.GetString(2),
        DecodeHeaders(reader.GetString(3)),
        DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(4)),
        reader.IsDBNull(5) ? null : (byte[])reader.GetValue(5),
        DecodeSegments((byte[])reader.GetValue(6)))
    {
        Version = reader.GetInt64(7),
        Writer = reader.GetString(8),
        Deleted = reader.GetInt64(9) != 0,
    };

    /// <summary>A pooled connection for reads (no transaction; WAL lets them run beside the writer).</summary>
    private SqliteConnection Connect()
    {
        var connection = new SqliteConnection(_connectionString);
        connection.Open();
        return connection;
    }

    /// <summary>
    /// Queues a write for the writer, which runs writes one after another in a shared transaction, each in a savepoint
    /// of its own (a write that throws is rolled back alone), and commits them together: one fsync for all the writes
    /// that arrived while the previous commit ran (group commit). The task completes once its commit is durable.
    /// </summary>
    private async Task<T> WriteAsync<T>(Func<SqliteConnection, Task<T>> write, CancellationToken cancellationToken)
    {
        var pending = new PendingWrite<T>(write, cancellationToken);
        await _writes.Writer.WriteAsync(pending, cancellationToken).ConfigureAwait(false);
        return await pending.Done.Task.ConfigureAwait(false);
    }

    private async Task WriteLoopAsync()
    {
        using var connection = new SqliteConnection(_connectionString);
        connection.Open();
        Execute(connection, "PRAGMA synchronous = FULL;");
        var group = new List<PendingWrite>(MaxGroup);
        while (await _writes.Reader.WaitToReadAsync().ConfigureAwait(false))
        {
            while (group.Count < MaxGroup && _writes.Reader.TryRead(out var next))
            {
                group.Add(next);
            }

            try
            {
                Execute(connection, "BEGIN IMMEDIATE");
                foreach (var write in group)
                {
                    Execute(connection, "SAVEPOINT one");
                    if (await write.RunAsync(connection).ConfigureAwait(false))
                    {
                        Execute(connection, "RELEASE one");
                    }
                    else
                    {
                        Execute(connection, "ROLLBACK TO one; RELEASE one");
                    }
                }

                Execute(connection, "COMMIT");
                foreach (var write in group)
                {
                    write.Complete();
                }
            }
            catch (SqliteException e)
            {
                try
                {
                    Execute(connection, "ROLLBACK");
                }
                catch (SqliteException)
                {
                    // No transaction was open (BEGIN failed).
                }

                foreach (var write in group)
                {
                    write.Fail(e);
                }
            }

            group.Clear();
        }
    }

    /// <summary>A write waiting for the writer.</summary>
    private abstract class PendingWrite
    {
        /// <summary>Runs the write in the open transaction; false when it threw (its savepoint is rolled back).</summary>
        public abstract Task<bool> RunAsync(SqliteConnection connection);

        /// <summary>The commit that held the write is durable.</summary>
        public abstract void Complete();

        /// <summary>The commit failed: the write is lost with its group.</summary>
        public abstract void Fail(Exception exception);
    }

    private sealed class PendingWrite<T>(Func<SqliteConnection, Task<T>> write, CancellationToken cancellationToken) : PendingWrite
    {
        private T? _result;
        private Exception? _error;

        public TaskCompletionSource<T> Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public override async Task<bool> RunAsync(SqliteConnection connection)
        {
            try
            {
                cancellationToken.ThrowIfCancellationRequested();
                _result = await write(connection).ConfigureAwait(false);
                return true;
            }
            catch (Exception e)
            {
                _error = e;
                return false;
            }
        }

        public override void Complete()
        {
            if (_error is null)
            {
                Done.TrySetResult(_result!);
            }
            else
            {
                Done.TrySetException(_error);
            }
        }

        public override void Fail(Exception exception) => Done.TrySetException(_error ?? exception);
    }

    private static void Execute(SqliteConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }

    private static SqliteCommand Command(SqliteConnection connection, string sql, params (string Name, object? Value)[] parameters)
    {
        var command = connection.CreateCommand();
        command.CommandText = sql;
        foreach (var (name, value) in parameters)
        {
            command.Parameters.AddWithValue(name, value ?? DBNull.Value);
        }

        return command;
    }

    private static async Task<int> ExecuteAsync(SqliteConnection connection, string sql, CancellationToken cancellationToken, params (string Name, object? Value)[] parameters)
    {
        await using var command = Command(connection, sql, parameters);
        return await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    private static async Task<object?> ScalarAsync(SqliteConnection connection, string sql, CancellationToken cancellationToken, params (string Name, object? Value)[] parameters)
    {
        await using var command = Command(connection, sql, parameters);
        var value = await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false);
        return value is DBNull ? null : value;
    }
}

/// <summary>An object's metadata row: its size, ETag, stored headers (Content-Type, x-amz-meta-*, …), time, and where its bytes are.</summary>
/// <remarks>
/// <see cref="Version"/> is the hybrid-logical-clock time its coordinator gave the write and <see cref="Writer"/> that
/// coordinator's node id: replicas keep the greatest (version, writer) pair, so concurrent writes of one key resolve to
/// the same winner everywhere (last writer wins). A delete is a tombstone (<see cref="Deleted"/>) that wins the same way.
/// </remarks>
internal sealed record ObjectRecord(
    string Bucket, string Key, long Size, string ETag, IReadOnlyDictionary<string, string> Headers, DateTimeOffset Modified, byte[]? Inline, IReadOnlyList<Segment> Segments)
{
    public long Version { get; init; }

    public string Writer { get; init; } = "";

    public bool Deleted { get; init; }

    /// <summary>Whether this version wins over (<paramref name="version"/>, <paramref name="writer"/>).</summary>
    public bool IsNewerThan(long version, string writer) =>
        Version > version || (Version == version && string.CompareOrdinal(Writer, writer) > 0);

    /// <summary>Whether this version wins over <paramref name="other"/> (true when there is none).</summary>
    public bool IsNewerThan(ObjectRecord? other) => other is null || IsNewerThan(other.Version, other.Writer);
}

/// <summary>A multipart upload in progress.</summary>
internal sealed record UploadRecord(string UploadId, string Bucket, string Key, IReadOnlyDictionary<string, string> Headers, DateTimeOffset Initiated);

/// <summary>An uploaded part.</summary>
internal sealed record PartRecord(int Number, long Size, string ETag, DateTimeOffset Modified, IReadOnlyList<Segment> Segments);

/// <summary>The JSON shapes the store keeps (source-generated).</summary>
[System.Text.Json.Serialization.JsonSerializable(typeof(IReadOnlyDictionary<string, string>))]
[System.Text.Json.Serialization.JsonSerializable(typeof(Dictionary<string, string>))]
internal sealed partial class StorageJson : System.Text.Json.Serialization.JsonSerializerContext;
