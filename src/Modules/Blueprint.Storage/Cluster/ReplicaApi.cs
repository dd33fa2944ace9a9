using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Blueprint.Core.Clocks;
using Blueprint.Storage.Local;
using Microsoft.AspNetCore.Http;

namespace Blueprint.Storage.Cluster;

/// <summary>
/// What storage nodes ask each other, under <c>/_blueprint/</c> on the S3 port (no bucket name can start with '_', so
/// no S3 request is ever taken for one): replica writes and hints, version lookups, byte ranges, listings, buckets,
/// pushes for repair, and Merkle trees. Every request must carry the cluster secret; without peers the API is closed.
/// </summary>
internal sealed class ReplicaApi
{
    public const string Prefix = "/_blueprint/";

    private readonly LocalStore _store;
    private readonly StorageTopology _topology;
    private readonly ReplicaPusher _pusher;
    private readonly AntiEntropy _antiEntropy;
    private readonly HybridLogicalClock _clock;
    private readonly RepairQueue _repairs;
    private readonly byte[] _secret;

    public ReplicaApi(LocalStore store, StorageTopology topology, ReplicaPusher pusher, AntiEntropy antiEntropy, HybridLogicalClock clock, RepairQueue repairs)
    {
        _repairs = repairs;
        _store = store;
        _topology = topology;
        _pusher = pusher;
        _antiEntropy = antiEntropy;
        _clock = clock;
        _secret = Encoding.UTF8.GetBytes(topology.ClusterSecret);
    }

    public async Task HandleAsync(HttpContext context, string operation)
    {
        var request = context.Request;
        var response = context.Response;
        var presented = Encoding.UTF8.GetBytes(request.Headers[PeerClient.SecretHeader].ToString());
        if (!_topology.IsClustered || _secret.Length == 0 || !CryptographicOperations.FixedTimeEquals(presented, _secret))
        {
            response.StatusCode = StatusCodes.Status403Forbidden;
            await response.WriteAsync("the replica API needs this cluster's secret\n").ConfigureAwait(false);
            return;
        }

        var q = request.Query;
        var bucket = q["bucket"].ToString();
        var key = q["key"].ToString();
        var cancellationToken = context.RequestAborted;
        switch (operation, request.Method)
        {
            case ("replica", "PUT"):
                await ReceiveAsync(context, cancellationToken).ConfigureAwait(false);
                return;
            case ("replica", "HEAD"):
                if (await _store.Meta.GetObjectAsync(bucket, key, cancellationToken).ConfigureAwait(false) is { } kept)
                {
                    response.Headers[PeerClient.RecordHeader] = RecordWire.Encode(kept);
                }
                else
                {
                    response.StatusCode = StatusCodes.Status404NotFound;
                }

                return;
            case ("replica", "GET"):
                await ServeAsync(context, bucket, key, cancellationToken).ConfigureAwait(false);
                return;
            case ("list", "GET"):
                var limit = int.TryParse(q["limit"], NumberStyles.None, CultureInfo.InvariantCulture, out var l) ? Math.Clamp(l, 1, 10_000) : 1000;
                var rows = await _store.Meta.ListObjectsAsync(bucket, q["prefix"].ToString(), q["after"].ToString(), limit, withTombstones: true, cancellationToken).ConfigureAwait(false);
                await WriteJsonAsync(response, rows.Select(RecordWire.From).ToArray(), RecordJson.Default.RecordWireArray, cancellationToken).ConfigureAwait(false);
                return;
            case ("buckets", "GET"):
                var buckets = await _store.Meta.ListBucketsAsync(cancellationToken).ConfigureAwait(false);
                await WriteJsonAsync(response, buckets.Select(b => b.Name).ToArray(), RecordJson.Default.StringArray, cancellationToken).ConfigureAwait(false);
                return;
            case ("bucket", "PUT"):
                await _store.Meta.CreateBucketAsync(bucket, _store.Now(), cancellationToken).ConfigureAwait(false);
                return;
            case ("bucket", "DELETE"):
                try
                {
                    await _store.Meta.DeleteBucketAsync(bucket, cancellationToken).ConfigureAwait(false);
                }
                catch (S3.S3Exception e) when (e.Code == "BucketNotEmpty")
                {
                    response.StatusCode = StatusCodes.Status409Conflict;
                }

                return;
            case ("push", "POST"):
                if (!await _pusher.PushAsync(bucket, key, q["to"].ToString(), cancellationToken, q["repair"] == "1").ConfigureAwait(false))
                {
                    response.StatusCode = StatusCodes.Status404NotFound;
                }

                return;
            case ("merkle", "GET"):
                var tree = await _antiEntropy.TreeAsync(bucket, q["with"].ToString(), cancellationToken).ConfigureAwait(false);
                await WriteJsonAsync(response, tree, RecordJson.Default.UInt64Array, cancellationToken).ConfigureAwait(false);
                return;
            case ("merkle-leaves", "GET"):
                var leaves = q["leaves"].ToString().Split('.', StringSplitOptions.RemoveEmptyEntries)
                    .Select(text => int.Parse(text, NumberStyles.None, CultureInfo.InvariantCulture)).ToHashSet();
                List<RecordWire> entries = [];
                await foreach (var record in _antiEntropy.SharedAsync(bucket, q["with"].ToString(), leaves, cancellationToken).ConfigureAwait(false))
                {
                    entries.Add(RecordWire.From(record));
                }

                await WriteJsonAsync(response, entries.ToArray(), RecordJson.Default.RecordWireArray, cancellationToken).ConfigureAwait(false);
                return;
            case ("status", "GET"):
                var status = new ReplicaStatus(
                    _topology.Self, await _store.Meta.HintCountAsync(cancellationToken).ConfigureAwait(false), _antiEntropy.HandedOff,
                    _antiEntropy.Pulled, _antiEntropy.Rounds, _repairs.Done, _repairs.Dropped, _store.CorruptReads);
                await WriteJsonAsync(response, status, RecordJson.Default.ReplicaStatus, cancellationToken).ConfigureAwait(false);
                return;
            default:
                response.StatusCode = StatusCodes.Status404NotFound;
                return;
        }
    }

    private async Task ReceiveAsync(HttpContext context, CancellationToken cancellationToken)
    {
        var request = context.Request;
        var metadata = RecordWire.Decode(request.Headers[PeerClient.RecordHeader].ToString());
        _clock.Observe(metadata.Version);
        var record = await _store.ReceiveAsync(metadata, request.Body, cancellationToken).ConfigureAwait(false);
        var hintFor = request.Headers[PeerClient.HintHeader].ToString();
        bool applied;
        if (hintFor.Length > 0)
        {
            await _store.AddHintAsync(hintFor, record, cancellationToken).ConfigureAwait(false);
            applied = true;
        }
        else
        {
            applied = await _store.ApplyAsync(record, requireBucket: false, cancellationToken, replaceEqual: request.Headers[PeerClient.RepairHeader] == "1").ConfigureAwait(false);
            if (!applied)
            {
                _store.Release(record);
            }
        }

        await context.Response.WriteAsync(applied ? "applied" : "stale", cancellationToken).ConfigureAwait(false);
    }

    private async Task ServeAsync(HttpContext context, string bucket, string key, CancellationToken cancellationToken)
    {
        var q = context.Request.Query;
        var response = context.Response;
        var record = await _store.Meta.GetObjectAsync(bucket, key, cancellationToken).ConfigureAwait(false);
        if (record is null || record.Deleted
            || record.Version.ToString(CultureInfo.InvariantCulture) != q["version"] || record.Writer != q["writer"]
            || !long.TryParse(q["offset"], NumberStyles.None, CultureInfo.InvariantCulture, out var offset)
            || !long.TryParse(q["count"], NumberStyles.None, CultureInfo.InvariantCulture, out var count)
            || offset + count > record.Size)
        {
            response.StatusCode = StatusCodes.Status404NotFound;
            return;
        }

        response.ContentLength = count;
        var body = response.Body;
        try
        {
            await _store.CopyToAsync(record, offset, count, (bytes, token) => body.WriteAsync(bytes, token), cancellationToken).ConfigureAwait(false);
        }
        catch (CorruptBlobException) when (!response.HasStarted)
        {
            // This copy is bad: the caller tries another replica, and the other home replicas are asked for a good copy.
            RequestRepair(record);
            response.ContentLength = null;
            response.StatusCode = StatusCodes.Status404NotFound;
        }
        catch (CorruptBlobException)
        {
            RequestRepair(record);
            context.Abort();
        }
    }

    private void RequestRepair(ObjectRecord record)
    {
        foreach (var holder in _topology.Home(record.Bucket, record.Key).Where(node => node != _topology.Self))
        {
            _repairs.Enqueue(new RepairJob(holder, record.Bucket, record.Key, _topology.Self, Repair: true));
        }
    }

    private static async Task WriteJsonAsync<T>(HttpResponse response, T value, System.Text.Json.Serialization.Metadata.JsonTypeInfo<T> type, CancellationToken cancellationToken)
    {
        response.ContentType = "application/json";
        await JsonSerializer.SerializeAsync(response.Body, value, type, cancellationToken).ConfigureAwait(false);
    }
}

/// <summary>A node's replication counters (<c>GET /_blueprint/status</c>).</summary>
internal sealed record ReplicaStatus(string Node, long Hints, long HandedOff, long Pulled, long AntiEntropyRounds, long Repairs, long RepairsDropped, long CorruptReads);
