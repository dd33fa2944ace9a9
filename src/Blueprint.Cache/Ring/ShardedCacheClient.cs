using Blueprint.Core.Hashing;
using StackExchange.Redis;

namespace Blueprint.Cache.Ring;

/// <summary>
/// A memcached-style client over independent RESP nodes: the client maps each key to a node with a consistent-hash
/// ring (Core's <see cref="HashRing{TNode}"/>, Karger et al. 1997) and talks to that node alone. The nodes know
/// nothing of each other.
/// </summary>
/// <remarks>
/// Client-side ring against server-side slots (Redis/Garnet cluster), see docs/cache.md:
/// <list type="bullet">
/// <item>Who owns the map: here every client holds its own ring, built from its own node list; two clients with
/// different lists send one key to different nodes, and nothing detects it. A cluster keeps one slot map (16384 slots)
/// in the servers, and a client that asks the wrong node is told (<c>MOVED</c>; <c>ASK</c> while a slot migrates).</item>
/// <item>Membership change: removing a node here moves only its keys (about 1/N), to the next node clockwise, and
/// those keys are simply missing there (a cache refills them from the source); adding a node takes about 1/N from
/// the others, and their old copies linger until they expire. A cluster migrates the slots' data with them
/// (<c>MIGRATE</c>), so no entry is lost or left behind, at the price of a migration protocol.</item>
/// <item>Multi-key operations: a cluster allows them within one slot (hash tags); a client-side ring has no such
/// notion, so each key is a separate call to its node.</item>
/// </list>
/// </remarks>
public sealed class ShardedCacheClient
{
    private readonly HashRing<CacheShard> _ring;
    private readonly TimeSpan _timeout;
    private readonly Lock _membership = new();

    /// <summary>Creates a client over <paramref name="shards"/>.</summary>
    /// <param name="shards">The nodes, each with a name that must be stable across clients and restarts (its ring points derive from it).</param>
    /// <param name="timeout">The deadline of each call to a node.</param>
    /// <param name="virtualNodesPerShard">Ring points per node; more points, more even spread.</param>
    public ShardedCacheClient(IEnumerable<CacheShard> shards, TimeSpan timeout, int virtualNodesPerShard = 160)
    {
        ArgumentNullException.ThrowIfNull(shards);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(timeout, TimeSpan.Zero);
        _ring = new HashRing<CacheShard>(shards, virtualNodesPerShard, shard => shard.Name);
        _timeout = timeout;
    }

    /// <summary>The nodes on the ring.</summary>
    public IReadOnlyList<CacheShard> Shards => _ring.Nodes;

    /// <summary>The node that owns <paramref name="key"/>.</summary>
    /// <exception cref="InvalidOperationException">The ring has no node.</exception>
    public CacheShard OwnerOf(string key)
    {
        ArgumentNullException.ThrowIfNull(key);
        return _ring.GetNode(key);
    }

    /// <summary>Reads <paramref name="key"/> from its owner; <see cref="RedisValue.Null"/> when absent.</summary>
    public Task<RedisValue> GetAsync(string key) =>
        Database(key).StringGetAsync(key).WaitAsync(_timeout);

    /// <summary>Writes <paramref name="key"/> on its owner.</summary>
    /// <param name="key">The key.</param>
    /// <param name="value">The value.</param>
    /// <param name="ttl">How long the node keeps it; null for no expiry.</param>
    public Task<bool> SetAsync(string key, RedisValue value, TimeSpan? ttl = null) =>
        Database(key).StringSetAsync(key, value, ttl is { } expiry ? new Expiration(expiry) : Expiration.Default).WaitAsync(_timeout);

    /// <summary>Deletes <paramref name="key"/> from its owner.</summary>
    public Task<bool> RemoveAsync(string key) =>
        Database(key).KeyDeleteAsync(key).WaitAsync(_timeout);

    /// <summary>Adds a node; about 1/N of the keys move to it.</summary>
    public void AddShard(CacheShard shard)
    {
        ArgumentNullException.ThrowIfNull(shard);
        lock (_membership)
        {
            _ring.Add(shard);
        }
    }

    /// <summary>Removes a node; only its keys move, to the next node clockwise.</summary>
    /// <returns>Whether the node was on the ring.</returns>
    public bool RemoveShard(CacheShard shard)
    {
        ArgumentNullException.ThrowIfNull(shard);
        lock (_membership)
        {
            if (!_ring.Contains(shard))
            {
                return false;
            }

            _ring.Remove(shard);
            return true;
        }
    }

    private IDatabase Database(string key) => OwnerOf(key).Connection.GetDatabase();
}
