using BitFaster.Caching.Lfu;
using BitFaster.Caching.Lru;
using BitFaster.Caching.Scheduler;

namespace Blueprint.Lab.Experiments.Eviction;

/// <summary>
/// BitFaster.Caching's W-TinyLFU (<see cref="ConcurrentLfu{K, V}"/>): a window LRU in front of a segmented LRU, with a
/// count-min sketch of recent frequencies deciding whether a newcomer displaces the main space's victim.
/// </summary>
/// <remarks>
/// The library buffers reads and applies them to its lists later, dropping reads when the buffer is full, and by
/// default does that on the thread pool. Here maintenance runs on the calling thread (<see cref="ForegroundScheduler"/>)
/// and after every access (<see cref="ConcurrentLfu{K, V}.DoMaintenance"/>), so every access reaches the policy in
/// trace order and a run is deterministic: what is measured is the policy, not the buffering.
/// </remarks>
internal sealed class WTinyLfuPolicy : IEvictionPolicy
{
    private readonly ConcurrentLfu<int, int> _cache;

    /// <summary>Creates the cache.</summary>
    /// <param name="capacity">The most keys held at once; the library needs at least 3.</param>
    public WTinyLfuPolicy(int capacity)
    {
        _cache = new ConcurrentLfu<int, int>(1, capacity, new ForegroundScheduler(), EqualityComparer<int>.Default);
    }

    /// <inheritdoc/>
    public string Name => "W-TinyLFU";

    /// <inheritdoc/>
    public bool Access(int key, long now)
    {
        bool hit = _cache.TryGet(key, out _);
        if (!hit)
        {
            _cache.AddOrUpdate(key, 0);
        }

        _cache.DoMaintenance();
        return hit;
    }
}

/// <summary>
/// BitFaster.Caching's <see cref="ConcurrentLru{K, V}"/>: a pseudo-LRU of three queues (hot, warm, cold, as in 2Q)
/// where a hit only sets a flag and keys move between queues when one overflows, so reads take no lock. It is the
/// near cache's LRU; here it is compared with the exact LRU it approximates. It runs synchronously, so it is
/// deterministic as it is.
/// </summary>
internal sealed class PseudoLruPolicy : IEvictionPolicy
{
    private readonly ConcurrentLru<int, int> _cache;

    /// <summary>Creates the cache.</summary>
    /// <param name="capacity">The most keys held at once; the library needs at least 3.</param>
    public PseudoLruPolicy(int capacity)
    {
        _cache = new ConcurrentLru<int, int>(1, capacity, EqualityComparer<int>.Default);
    }

    /// <inheritdoc/>
    public string Name => "ConcurrentLru";

    /// <inheritdoc/>
    public bool Access(int key, long now)
    {
        bool hit = _cache.TryGet(key, out _);
        if (!hit)
        {
            _cache.AddOrUpdate(key, 0);
        }

        return hit;
    }
}
