using System.Buffers.Binary;
using System.IO.Hashing;
using System.Text;
using Blueprint.Core.Hashing;
using Blueprint.Storage.Local;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Blueprint.Storage.Cluster;

/// <summary>
/// The background half of replication, every <see cref="StorageOptions.AntiEntropySeconds"/>: hands hints to the nodes
/// they were meant for once those answer (hinted handoff), learns buckets created while this node was away, and
/// compares a Merkle tree per bucket with every peer over the keys both should keep, pulling the newer versions of the
/// keys under differing leaves (anti-entropy). Each peer pulls what it lacks the same way, so replicas converge.
/// </summary>
internal sealed partial class AntiEntropy : BackgroundService
{
    /// <summary>Leaves of a bucket's tree: a differing leaf costs a list of about keys/256 versions.</summary>
    public const int Leaves = 256;

    /// <summary>Hints handed over per round, and keys read per page while building a tree: bounds one round's memory.</summary>
    private const int Batch = 1000;

    private readonly LocalStore _store;
    private readonly StorageTopology _topology;
    private readonly PeerClient _peers;
    private readonly ReplicaPusher _pusher;
    private readonly StorageOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private long _handedOff;
    private long _pulled;
    private long _rounds;

    public AntiEntropy(LocalStore store, StorageTopology topology, PeerClient peers, ReplicaPusher pusher, IOptions<StorageOptions> options, TimeProvider time, ILogger<AntiEntropy> logger)
    {
        _store = store;
        _topology = topology;
        _peers = peers;
        _pusher = pusher;
        _options = options.Value;
        _time = time;
        _logger = logger;
    }

    /// <summary>Hints delivered to their nodes.</summary>
    public long HandedOff => Interlocked.Read(ref _handedOff);

    /// <summary>Versions pulled from peers by anti-entropy.</summary>
    public long Pulled => Interlocked.Read(ref _pulled);

    /// <summary>Completed rounds.</summary>
    public long Rounds => Interlocked.Read(ref _rounds);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!_topology.IsClustered)
        {
            return;
        }

        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(_options.AntiEntropySeconds), _time);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false))
            {
                await RunOnceAsync(stoppingToken).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    /// <summary>One round: hints, then buckets and trees with each peer. A peer that fails is skipped until the next round.</summary>
    public async Task RunOnceAsync(CancellationToken cancellationToken)
    {
        await HandOffHintsAsync(cancellationToken).ConfigureAwait(false);
        foreach (var peer in _topology.Peers)
        {
            try
            {
                foreach (var bucket in await _peers.BucketsAsync(peer, cancellationToken).ConfigureAwait(false))
                {
                    await _store.Meta.CreateBucketAsync(bucket, _store.Now(), cancellationToken).ConfigureAwait(false);
                }

                foreach (var (bucket, _) in await _store.Meta.ListBucketsAsync(cancellationToken).ConfigureAwait(false))
                {
                    await SyncAsync(peer, bucket, cancellationToken).ConfigureAwait(false);
                }
            }
            catch (Exception e) when (e is PeerUnavailableException or IOException or HttpRequestException)
            {
                RoundFailed(_logger, peer, e.Message);
            }
        }

        Interlocked.Increment(ref _rounds);
    }

    private async Task HandOffHintsAsync(CancellationToken cancellationToken)
    {
        HashSet<string> down = [];
        foreach (var (target, record) in await _store.Meta.HintsAsync(Batch, cancellationToken).ConfigureAwait(false))
        {
            if (down.Contains(target))
            {
                continue;
            }

            try
            {
                await _pusher.SendAsync(target, record, hintFor: null, cancellationToken).ConfigureAwait(false);
                if (await _store.Meta.RemoveHintAsync(target, record, cancellationToken).ConfigureAwait(false) is { } segments)
                {
                    _store.Release(record with { Segments = segments });
                }

                Interlocked.Increment(ref _handedOff);
            }
            catch (Exception e) when (e is PeerUnavailableException or IOException or HttpRequestException)
            {
                down.Add(target);
            }
        }
    }

    private async Task SyncAsync(string peer, string bucket, CancellationToken cancellationToken)
    {
        var mine = await TreeAsync(bucket, peer, cancellationToken).ConfigureAwait(false);
        var theirs = await _peers.MerkleAsync(peer, bucket, _topology.Self, cancellationToken).ConfigureAwait(false);
        if (theirs.Length != mine.Length || theirs[0] == mine[0])
        {
            return;
        }

        var differing = Enumerable.Range(0, Leaves).Where(leaf => theirs[leaf + 1] != mine[leaf + 1]).ToList();
        foreach (var batch in differing.Chunk(32))
        {
            foreach (var remote in await _peers.LeafAsync(peer, bucket, _topology.Self, batch, cancellationToken).ConfigureAwait(false))
            {
                var local = await _store.Meta.GetObjectAsync(bucket, remote.Key, cancellationToken).ConfigureAwait(false);
                if (remote.IsNewerThan(local))
                {
                    await _peers.PushAsync(peer, bucket, remote.Key, _topology.Self, cancellationToken).ConfigureAwait(false);
                    Interlocked.Increment(ref _pulled);
                }
            }
        }
    }

    /// <summary>
    /// This node's tree of <paramref name="bucket"/> over the keys whose home replicas include it and <paramref name="with"/>:
    /// element 0 is the root (the hash of the leaves), elements 1 to 256 the leaves, each the hash of its keys' versions
    /// (tombstones included) in key order; a key's leaf is the top byte of its hash.
    /// </summary>
    public async Task<ulong[]> TreeAsync(string bucket, string with, CancellationToken cancellationToken)
    {
        var hashers = new XxHash3[Leaves];
        for (var i = 0; i < Leaves; i++)
        {
            hashers[i] = new XxHash3();
        }

        var number = new byte[17];
        await foreach (var record in SharedAsync(bucket, with, leaves: null, cancellationToken).ConfigureAwait(false))
        {
            var hasher = hashers[LeafOf(record.Key)];
            hasher.Append(Encoding.UTF8.GetBytes(record.Key));
            BinaryPrimitives.WriteInt64LittleEndian(number, record.Version);
            BinaryPrimitives.WriteInt64LittleEndian(number.AsSpan(8), record.Size);
            number[16] = record.Deleted ? (byte)1 : (byte)0;
            hasher.Append(number);
            hasher.Append(Encoding.UTF8.GetBytes(record.Writer));
        }

        var tree = new ulong[Leaves + 1];
        var leafBytes = new byte[Leaves * 8];
        for (var i = 0; i < Leaves; i++)
        {
            tree[i + 1] = hashers[i].GetCurrentHashAsUInt64();
            BinaryPrimitives.WriteUInt64LittleEndian(leafBytes.AsSpan(i * 8), tree[i + 1]);
        }

        tree[0] = XxHash3.HashToUInt64(leafBytes);
        return tree;
    }

    /// <summary>The versions this node keeps of keys both it and <paramref name="with"/> should keep, optionally only under some leaves.</summary>
    public async IAsyncEnumerable<ObjectRecord> SharedAsync(string bucket, string with, IReadOnlySet<int>? leaves, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var after = "";
        while (true)
        {
            var page = await _store.Meta.ListObjectsAsync(bucket, "", after, Batch, withTombstones: true, cancellationToken).ConfigureAwait(false);
            foreach (var record in page)
            {
                if ((leaves is null || leaves.Contains(LeafOf(record.Key)))
                    && _topology.IsHome(_topology.Self, bucket, record.Key) && _topology.IsHome(with, bucket, record.Key))
                {
                    yield return record;
                }
            }

            if (page.Count < Batch)
            {
                yield break;
            }

            after = page[^1].Key;
        }
    }

    public static int LeafOf(string key) => (int)(StableHash.Hash64(key) >> 56);

    [LoggerMessage(Level = LogLevel.Information, Message = "storage: anti-entropy with {Peer} stopped this round ({Reason})")]
    private static partial void RoundFailed(ILogger logger, string peer, string reason);
}
