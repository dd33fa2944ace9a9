using System.Buffers;
using Blueprint.Core.Clocks;
using Blueprint.Storage.Local;
using Blueprint.Storage.S3;
using Microsoft.Extensions.Logging;

namespace Blueprint.Storage.Cluster;

/// <summary>
/// The coordinator of every object operation, Dynamo-style (DeCandia et al., 2007): whichever node a client calls
/// writes to the object's N home replicas and answers once W acknowledged; a home replica that is down is stood in for
/// by the next node of the preference list, which keeps the copy as a hint for it (sloppy quorum, hinted handoff).
/// Reads ask the home replicas, answer from the newest version once R answered, and repair the replicas that answered
/// with an older one. Versions are hybrid-logical-clock timestamps: last writer wins, deletes are tombstones.
/// On one node (no peers) N = R = W = 1 and every path is local.
/// </summary>
internal sealed partial class ObjectService
{
    private readonly LocalStore _store;
    private readonly StorageTopology _topology;
    private readonly PeerClient _peers;
    private readonly HybridLogicalClock _clock;
    private readonly RepairQueue _repairs;
    private readonly ILogger _logger;

    public ObjectService(LocalStore store, StorageTopology topology, PeerClient peers, HybridLogicalClock clock, RepairQueue repairs, ILogger<ObjectService> logger)
    {
        _store = store;
        _topology = topology;
        _peers = peers;
        _clock = clock;
        _repairs = repairs;
        _logger = logger;
    }

    public LocalStore Store => _store;

    public StorageTopology Topology => _topology;

    // ---- buckets

    /// <summary>Creates a bucket on every node that answers; at least W must (the others learn it from anti-entropy or their first replica write).</summary>
    public async Task CreateBucketAsync(string bucket, CancellationToken cancellationToken)
    {
        if (!await _store.Meta.CreateBucketAsync(bucket, _store.Now(), cancellationToken).ConfigureAwait(false))
        {
            throw S3Exception.BucketAlreadyOwnedByYou(bucket);
        }

        var answered = 1 + await CountAsync(_topology.Peers.Select(peer => _peers.BucketAsync(peer, bucket, create: true, cancellationToken))).ConfigureAwait(false);
        if (answered < _topology.WriteQuorum)
        {
            throw S3Exception.ServiceUnavailable($"Only {answered} of the {_topology.WriteQuorum} storage nodes a write needs could create the bucket; it exists where it was created and spreads when they return.");
        }
    }

    /// <summary>Deletes an empty bucket from every node; every node must answer (a bucket half deleted would come back from the others).</summary>
    public async Task DeleteBucketAsync(string bucket, CancellationToken cancellationToken)
    {
        if (!await BucketExistsAsync(bucket, cancellationToken).ConfigureAwait(false))
        {
            throw S3Exception.NoSuchBucket(bucket);
        }

        var (contents, _, _, _) = await ListAsync(bucket, "", "", "", 1, cancellationToken).ConfigureAwait(false);
        if (contents.Count > 0)
        {
            throw S3Exception.BucketNotEmpty(bucket);
        }

        List<Task<bool>> deletes = [.. _topology.Peers.Select(peer => _peers.BucketAsync(peer, bucket, create: false, cancellationToken))];
        try
        {
            if (!(await Task.WhenAll(deletes).ConfigureAwait(false)).All(deleted => deleted))
            {
                throw S3Exception.BucketNotEmpty(bucket);
            }
        }
        catch (PeerUnavailableException e)
        {
            throw S3Exception.ServiceUnavailable($"Deleting a bucket needs every storage node; {e.Message}.");
        }

        await _store.Meta.DeleteBucketAsync(bucket, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Whether the bucket exists: on this node, or on a peer (then it is created here too).</summary>
    public async Task<bool> BucketExistsAsync(string bucket, CancellationToken cancellationToken)
    {
        if (await _store.Meta.BucketCreatedAsync(bucket, cancellationToken).ConfigureAwait(false) is not null)
        {
            return true;
        }

        foreach (var peer in _topology.Peers)
        {
            try
            {
                if ((await _peers.BucketsAsync(peer, cancellationToken).ConfigureAwait(false)).Contains(bucket))
                {
                    await _store.Meta.CreateBucketAsync(bucket, _store.Now(), cancellationToken).ConfigureAwait(false);
                    return true;
                }
            }
            catch (PeerUnavailableException)
            {
            }
        }

        return false;
    }

    public async Task RequireBucketAsync(string bucket, CancellationToken cancellationToken)
    {
        if (!await BucketExistsAsync(bucket, cancellationToken).ConfigureAwait(false))
        {
            throw S3Exception.NoSuchBucket(bucket);
        }
    }

    // ---- writes

    /// <summary>Stores an object from a request body: the bytes spooled here (durable), then replicated to W of N.</summary>
    public async Task<ObjectRecord> PutAsync(
        string bucket, string key, Stream body, long maxBytes, IReadOnlyDictionary<string, string> headers, byte[]? contentMd5, int? writeQuorum, CancellationToken cancellationToken)
    {
        await RequireBucketAsync(bucket, cancellationToken).ConfigureAwait(false);
        var record = await _store.SpoolAsync(bucket, key, body, maxBytes, headers, contentMd5, _clock.Now(), _topology.Self, cancellationToken).ConfigureAwait(false);
        await ReplicateAsync(record, writeQuorum, cancellationToken).ConfigureAwait(false);
        return record;
    }

    /// <summary>Completes a multipart upload kept on this node and replicates the object.</summary>
    public async Task<ObjectRecord> CompleteUploadAsync(string uploadId, IReadOnlyList<(int Number, string ETag)> parts, long minPartBytes, int? writeQuorum, CancellationToken cancellationToken)
    {
        var record = await _store.CompleteUploadAsync(uploadId, parts, minPartBytes, _clock.Now(), _topology.Self, cancellationToken).ConfigureAwait(false);
        await ReplicateAsync(record, writeQuorum, cancellationToken).ConfigureAwait(false);
        return record;
    }

    /// <summary>Deletes an object: a tombstone, replicated like a write.</summary>
    public async Task DeleteAsync(string bucket, string key, int? writeQuorum, CancellationToken cancellationToken)
    {
        var tombstone = new ObjectRecord(bucket, key, 0, "", new Dictionary<string, string>(), _store.Now(), null, [])
        {
            Version = _clock.Now(),
            Writer = _topology.Self,
            Deleted = true,
        };
        await ReplicateAsync(tombstone, writeQuorum, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Sends a version whose bytes are on this node (<paramref name="record"/>'s inline value or blobs) to its home
    /// replicas, standing in for failed ones with the next nodes of the preference list (as hints), and returns once W
    /// acknowledged. The rest finish in the background; the bytes are released when no send needs them and no copy here
    /// keeps them. Fewer than W acknowledgements is ServiceUnavailable (the copies that were made stay: as in Dynamo,
    /// a failed write is not rolled back, and a later write or delete of the key wins over it).
    /// </summary>
    private async Task ReplicateAsync(ObjectRecord record, int? writeQuorum, CancellationToken cancellationToken)
    {
        var preference = _topology.PreferenceList(record.Bucket, record.Key);
        var home = preference[.._topology.Replicas];
        var standIns = new Queue<string>(preference[_topology.Replicas..]);
        var needed = Math.Clamp(writeQuorum ?? _topology.WriteQuorum, 1, home.Length);
        var keptHere = 0;

        async Task<bool> SendAsync(string target)
        {
            string? hintFor = null;
            var node = target;
            while (true)
            {
                try
                {
                    if (node == _topology.Self)
                    {
                        if (hintFor is null)
                        {
                            if (await _store.ApplyAsync(record, requireBucket: false, CancellationToken.None).ConfigureAwait(false))
                            {
                                Interlocked.Exchange(ref keptHere, 1);
                            }
                        }
                        else
                        {
                            await _store.AddHintAsync(hintFor, record, CancellationToken.None).ConfigureAwait(false);
                            Interlocked.Exchange(ref keptHere, 1);
                        }

                        return true;
                    }

                    await using var body = record.Deleted ? null : _store.OpenRead(record, 0, record.Size, CancellationToken.None);
                    await _peers.SendAsync(node, record, body, hintFor, CancellationToken.None).ConfigureAwait(false);
                    return true;
                }
                catch (Exception e) when (e is PeerUnavailableException or IOException or HttpRequestException)
                {
                    ReplicaWriteFailed(_logger, record.Bucket, record.Key, node, e.Message);
                    lock (standIns)
                    {
                        if (!standIns.TryDequeue(out var next))
                        {
                            return false;
                        }

                        hintFor ??= target;
                        node = next;
                    }
                }
            }
        }

        List<Task<bool>> sends = [.. home.Select(node => Task.Run(() => SendAsync(node), CancellationToken.None))];
        var all = Task.WhenAll(sends);
        _ = all.ContinueWith(
            _ =>
            {
                if (Volatile.Read(ref keptHere) == 0)
                {
                    _store.Release(record);
                }
            },
            CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);

        var acknowledged = 0;
        var pending = new List<Task<bool>>(sends);
        while (pending.Count > 0 && acknowledged < needed)
        {
            var done = await Task.WhenAny(pending).WaitAsync(cancellationToken).ConfigureAwait(false);
            pending.Remove(done);
            if (await done.ConfigureAwait(false))
            {
                acknowledged++;
            }
        }

        if (acknowledged < needed)
        {
            throw S3Exception.ServiceUnavailable($"Only {acknowledged} of the {needed} replicas a write needs acknowledged it; try again.");
        }
    }

    // ---- reads

    /// <summary>
    /// The newest version of an object among the first R home replicas to answer (null when it does not exist or was
    /// deleted), with the replicas that have it. Replicas found older are repaired in the background, including those
    /// that answer after the read has returned.
    /// </summary>
    public async Task<ResolvedObject?> ResolveAsync(string bucket, string key, int? readQuorum, CancellationToken cancellationToken)
    {
        var home = _topology.Home(bucket, key);
        var needed = Math.Clamp(readQuorum ?? _topology.ReadQuorum, 1, home.Length);
        if (home.Length == 1 && home[0] == _topology.Self)
        {
            var only = await _store.Meta.GetObjectAsync(bucket, key, cancellationToken).ConfigureAwait(false);
            return only is null || only.Deleted ? null : new ResolvedObject(only, [_topology.Self]) { Local = only };
        }

        var asks = home.Select(node => (Node: node, Answer: AskAsync(node, bucket, key, cancellationToken))).ToList();
        var answered = new List<(string Node, ObjectRecord? Record)>();
        var pending = asks.Select(ask => ask.Answer).ToList();
        while (answered.Count < needed && pending.Count > 0)
        {
            var done = await Task.WhenAny(pending).ConfigureAwait(false);
            pending.Remove(done);
            var (ok, record) = await done.ConfigureAwait(false);
            if (ok)
            {
                answered.Add((asks.First(ask => ask.Answer == done).Node, record));
            }
        }

        if (answered.Count < needed)
        {
            throw S3Exception.ServiceUnavailable($"Only {answered.Count} of the {needed} replicas a read needs answered; try again.");
        }

        var newest = answered.Select(answer => answer.Record).Where(record => record is not null).MaxBy(record => (record!.Version, record.Writer), VersionComparer.Instance);
        _ = RepairLaterAsync(asks, newest);
        if (newest is null || newest.Deleted)
        {
            return null;
        }

        _clock.Observe(newest.Version);
        var holders = answered.Where(answer => answer.Record is { } record && record.Version == newest.Version && record.Writer == newest.Writer).Select(answer => answer.Node).ToList();
        holders.Sort((a, b) => (b == _topology.Self).CompareTo(a == _topology.Self));
        var local = answered.FirstOrDefault(answer => answer.Node == _topology.Self).Record;
        return new ResolvedObject(newest, holders) { Local = local is not null && local.Version == newest.Version && local.Writer == newest.Writer ? local : null };
    }

    /// <summary>
    /// Writes bytes of a resolved object to <paramref name="destination"/> from its holders, this node first. A holder
    /// that fails part way (a copy here failing its checksum, a peer going away) hands over to the next one at the byte
    /// where it stopped, so the client gets every byte once and never a bad one; a copy here found corrupt is replaced
    /// from another home replica in the background. Only when no holder can finish does the failure propagate.
    /// </summary>
    public async Task CopyToAsync(ResolvedObject resolved, long offset, long count, Func<ReadOnlyMemory<byte>, CancellationToken, ValueTask> destination, CancellationToken cancellationToken)
    {
        var sent = 0L;
        async ValueTask Counting(ReadOnlyMemory<byte> bytes, CancellationToken token)
        {
            await destination(bytes, token).ConfigureAwait(false);
            sent += bytes.Length;
        }

        var record = resolved.Record;
        Exception? last = null;
        foreach (var holder in resolved.Holders)
        {
            try
            {
                if (holder == _topology.Self)
                {
                    var local = resolved.Local ?? await _store.Meta.GetObjectAsync(record.Bucket, record.Key, cancellationToken).ConfigureAwait(false);
                    if (local is null || local.Version != record.Version || local.Writer != record.Writer)
                    {
                        continue;
                    }

                    await _store.CopyToAsync(local, offset + sent, count - sent, Counting, cancellationToken).ConfigureAwait(false);
                    return;
                }

                using var response = await _peers.OpenAsync(holder, record, offset + sent, count - sent, cancellationToken).ConfigureAwait(false);
                if (response is null)
                {
                    continue;
                }

                var expected = count;
                await using var stream = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
                var buffer = ArrayPool<byte>.Shared.Rent(64 * 1024);
                try
                {
                    int n;
                    while ((n = await stream.ReadAsync(buffer.AsMemory(0, (int)Math.Min(buffer.Length, count - sent)), cancellationToken).ConfigureAwait(false)) > 0)
                    {
                        await Counting(buffer.AsMemory(0, n), cancellationToken).ConfigureAwait(false);
                    }
                }
                finally
                {
                    ArrayPool<byte>.Shared.Return(buffer);
                }

                if (sent != expected)
                {
                    throw new IOException($"storage node {holder} stopped after {sent} of {expected} bytes");
                }

                return;
            }
            catch (CorruptBlobException e) when (holder == _topology.Self)
            {
                last = e;
                foreach (var other in _topology.Home(record.Bucket, record.Key).Where(other => other != _topology.Self))
                {
                    _repairs.Enqueue(new RepairJob(other, record.Bucket, record.Key, _topology.Self, Repair: true));
                }
            }
            catch (Exception e) when (e is PeerUnavailableException or IOException or HttpRequestException)
            {
                last = e;
            }
        }

        throw last as CorruptBlobException ?? new CorruptBlobException(Guid.Empty, $"no replica could serve {record.Bucket}/{record.Key}: {last?.Message ?? "none had the version"}");
    }

    /// <summary>A stream of a resolved object's bytes (for copies), verified as read.</summary>
    public Stream OpenRead(ResolvedObject resolved, long offset, long count, CancellationToken cancellationToken) =>
        LocalStore.StreamOf((destination, token) => CopyToAsync(resolved, offset, count, destination, token), cancellationToken);

    // ---- listing

    /// <summary>
    /// One page of a listing: keys after <paramref name="after"/> under <paramref name="prefix"/>, merged from every node
    /// (newest version of each key, tombstones dropped), those holding the delimiter past the prefix rolled up into
    /// common prefixes (each counted once against <paramref name="maxKeys"/>). Needs all but N-1 nodes to answer.
    /// </summary>
    public async Task<(List<ObjectRecord> Contents, List<string> Prefixes, bool Truncated, string Next)> ListAsync(
        string bucket, string prefix, string delimiter, string after, int maxKeys, CancellationToken cancellationToken)
    {
        List<ObjectRecord> contents = [];
        List<string> prefixes = [];
        var next = after;
        while (true)
        {
            var want = maxKeys - contents.Count - prefixes.Count + 1;
            var (rows, resume, exhausted) = await PageAsync(bucket, prefix, next, want, cancellationToken).ConfigureAwait(false);
            var skipped = false;
            foreach (var row in rows)
            {
                var at = delimiter.Length == 0 ? -1 : row.Key.IndexOf(delimiter, prefix.Length, StringComparison.Ordinal);
                var name = at < 0 ? row.Key : row.Key[..(at + delimiter.Length)];
                if (at >= 0 && prefixes.Count > 0 && prefixes[^1] == name)
                {
                    continue;
                }

                if (contents.Count + prefixes.Count == maxKeys)
                {
                    return (contents, prefixes, true, next);
                }

                if (at < 0)
                {
                    contents.Add(row);
                    next = row.Key;
                    continue;
                }

                // Skip the rest of this common prefix's keys in one step: nothing under it sorts after this bound.
                prefixes.Add(name);
                next = name + "\U0010FFFF\U0010FFFF\U0010FFFF\U0010FFFF";
                skipped = true;
                break;
            }

            if (skipped)
            {
                continue;
            }

            if (exhausted)
            {
                return (contents, prefixes, false, next);
            }

            next = resume;
        }
    }

    /// <summary>
    /// Live keys after <paramref name="after"/>, merged from every node's page of <paramref name="limit"/> versions: only
    /// keys up to the smallest last key of a full page are certain to be complete, so the page ends there (resume point).
    /// </summary>
    private async Task<(IReadOnlyList<ObjectRecord> Rows, string Resume, bool Exhausted)> PageAsync(string bucket, string prefix, string after, int limit, CancellationToken cancellationToken)
    {
        if (!_topology.IsClustered)
        {
            var rows = await _store.Meta.ListObjectsAsync(bucket, prefix, after, limit, withTombstones: false, cancellationToken).ConfigureAwait(false);
            return (rows, rows.Count > 0 ? rows[^1].Key : after, rows.Count < limit);
        }

        var pages = await Task.WhenAll(_topology.Nodes.Select(async node =>
        {
            try
            {
                return node == _topology.Self
                    ? await _store.Meta.ListObjectsAsync(bucket, prefix, after, limit, withTombstones: true, cancellationToken).ConfigureAwait(false)
                    : await _peers.ListAsync(node, bucket, prefix, after, limit, cancellationToken).ConfigureAwait(false);
            }
            catch (PeerUnavailableException)
            {
                return null;
            }
        })).ConfigureAwait(false);

        var missing = pages.Count(page => page is null);
        if (missing >= _topology.Replicas)
        {
            throw S3Exception.ServiceUnavailable($"{missing} storage nodes did not answer; a listing needs all but {_topology.Replicas - 1}.");
        }

        string? bound = null;
        foreach (var page in pages)
        {
            if (page is { Count: > 0 } && page.Count >= limit && (bound is null || string.CompareOrdinal(page[^1].Key, bound) < 0))
            {
                bound = page[^1].Key;
            }
        }

        var merged = pages.Where(page => page is not null).SelectMany(page => page!)
            .Where(record => bound is null || string.CompareOrdinal(record.Key, bound) <= 0)
            .GroupBy(record => record.Key, StringComparer.Ordinal)
            .Select(group => group.MaxBy(record => (record.Version, record.Writer), VersionComparer.Instance)!)
            .Where(record => !record.Deleted)
            .OrderBy(record => record.Key, StringComparer.Ordinal)
            .ToList();
        return (merged, bound ?? after, bound is null);
    }

    // ---- repair

    private async Task<(bool Ok, ObjectRecord? Record)> AskAsync(string node, string bucket, string key, CancellationToken cancellationToken)
    {
        try
        {
            return (true, node == _topology.Self
                ? await _store.Meta.GetObjectAsync(bucket, key, cancellationToken).ConfigureAwait(false)
                : await _peers.HeadAsync(node, bucket, key, cancellationToken).ConfigureAwait(false));
        }
        catch (PeerUnavailableException)
        {
            return (false, null);
        }
    }

    /// <summary>Once every home replica has answered (or failed), sends the newest version to those that answered with an older one (read repair).</summary>
    private async Task RepairLaterAsync(List<(string Node, Task<(bool Ok, ObjectRecord? Record)> Answer)> asks, ObjectRecord? newestSoFar)
    {
        try
        {
            await Task.WhenAll(asks.Select(ask => ask.Answer)).ConfigureAwait(false);
            var answers = asks.Select(ask => (ask.Node, ask.Answer.Result)).Where(answer => answer.Result.Ok).ToList();
            var newest = answers.Select(answer => answer.Result.Record).Append(newestSoFar).Where(record => record is not null)
                .MaxBy(record => (record!.Version, record.Writer), VersionComparer.Instance);
            if (newest is null)
            {
                return;
            }

            var holder = answers.FirstOrDefault(answer => answer.Result.Record is { } record && record.Version == newest.Version && record.Writer == newest.Writer).Node;
            if (holder is null)
            {
                return;
            }

            foreach (var (node, (_, record)) in answers)
            {
                if (newest.IsNewerThan(record))
                {
                    _repairs.Enqueue(new RepairJob(holder, newest.Bucket, newest.Key, node));
                }
            }
        }
        catch (Exception e) when (e is PeerUnavailableException or IOException or OperationCanceledException)
        {
            // A repair missed now is made by the next read or by anti-entropy.
        }
    }

    private static async Task<int> CountAsync(IEnumerable<Task<bool>> calls)
    {
        var count = 0;
        foreach (var call in calls.ToList())
        {
            try
            {
                count += await call.ConfigureAwait(false) ? 1 : 0;
            }
            catch (PeerUnavailableException)
            {
            }
        }

        return count;
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "storage: replica write of {Bucket}/{Key} to {Node} failed ({Reason}); trying a stand-in")]
    private static partial void ReplicaWriteFailed(ILogger logger, string bucket, string key, string node, string reason);
}

/// <summary>An object's newest version and the replicas that have it (this node first).</summary>
internal sealed record ResolvedObject(ObjectRecord Record, IReadOnlyList<string> Holders)
{
    /// <summary>This node's row of that version when the resolve read it (its inline bytes included), so a read does not look it up again.</summary>
    public ObjectRecord? Local { get; init; }
}

/// <summary>Orders (version, writer) pairs as last-writer-wins does.</summary>
internal sealed class VersionComparer : IComparer<(long Version, string Writer)>
{
    public static readonly VersionComparer Instance = new();

    public int Compare((long Version, string Writer) x, (long Version, string Writer) y)
    {
        var byVersion = x.Version.CompareTo(y.Version);
        return byVersion != 0 ? byVersion : string.CompareOrdinal(x.Writer, y.Writer);
    }
}
