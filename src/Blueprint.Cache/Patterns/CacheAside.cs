namespace Blueprint.Cache.Patterns;

/// <summary>
/// Cache-aside (lazy loading): the application holds both the cache and the database and does the work itself. A read
/// asks the cache; on a miss it loads the record from the database and puts it in the cache with the TTL (<c>SET
/// NX</c>, and only when no write of the key happened meanwhile on this process). A write goes to the database, then
/// deletes the cache key; the next read loads the new value.
/// </summary>
/// <remarks>
/// Why delete and not set on a write: two writers A then B reach the database in that order but may reach the cache
/// as B then A, leaving A cached until the TTL. A delete is the same whatever the order — the key ends empty and the
/// next read loads what the database holds — and no value is cached that nobody reads. The cost is one miss after
/// each write. The staleness left: a reader on another process that loaded before the write may fill the old value
/// after the delete; the TTL bounds it, as it bounds a change made to the database behind the cache's back. A failed
/// delete after a committed write leaves the old value cached for at most the TTL and is reported to the caller.
/// </remarks>
/// <typeparam name="TKey">The key.</typeparam>
/// <typeparam name="TValue">The record.</typeparam>
public sealed class CacheAside<TKey, TValue> : ICachingPattern<TKey, TValue>
    where TKey : notnull
    where TValue : class
{
    private readonly IPatternCache<TKey, TValue> _cache;
    private readonly IRecordStore<TKey, TValue> _store;
    private readonly TimeSpan _ttl;
    private readonly FillGuard<TKey> _guard = new();
    private readonly InvalidatingWrites<TKey, TValue> _writes;

    /// <summary>Creates the pattern.</summary>
    /// <param name="cache">The cache.</param>
    /// <param name="store">The database.</param>
    /// <param name="ttl">How long a filled value lives: the bound on staleness.</param>
    public CacheAside(IPatternCache<TKey, TValue> cache, IRecordStore<TKey, TValue> store, TimeSpan ttl)
    {
        _cache = cache ?? throw new ArgumentNullException(nameof(cache));
        _store = store ?? throw new ArgumentNullException(nameof(store));
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(ttl, TimeSpan.Zero);
        _ttl = ttl;
        _writes = new InvalidatingWrites<TKey, TValue>(cache, store, Counters, _guard.Written);
    }

    /// <inheritdoc />
    public string Name => "cache-aside";

    /// <inheritdoc />
    public PatternCounters Counters { get; } = new();

    /// <inheritdoc />
    public async ValueTask<PatternRead<TValue>> GetAsync(TKey key, CancellationToken cancellationToken)
    {
        var cached = await _cache.GetAsync(key, cancellationToken).ConfigureAwait(false);
        if (cached is not null)
        {
            Counters.Hit();
            return new PatternRead<TValue>(cached, ReadSource.Cache);
        }

        Counters.Miss();
        var before = _guard.Before(key);
        var loaded = await _store.LoadAsync(key, cancellationToken).ConfigureAwait(false);
        Counters.DatabaseRead();
        if (loaded is not null && _guard.Unchanged(key, before))
        {
            await _cache.AddAsync(key, loaded, _ttl, cancellationToken).ConfigureAwait(false);
        }

        return new PatternRead<TValue>(loaded, ReadSource.Database);
    }

    /// <inheritdoc />
    /// <remarks>Acknowledged when the database has the value and the cache key is deleted.</remarks>
    public ValueTask SetAsync(TKey key, TValue value, CancellationToken cancellationToken) => _writes.SetAsync(key, value, cancellationToken);

    /// <inheritdoc />
    public ValueTask RemoveAsync(TKey key, CancellationToken cancellationToken) => _writes.RemoveAsync(key, cancellationToken);
}
