namespace Blueprint.Cache.Patterns;

/// <summary>
/// Read-through with invalidation on write: reads go through a <see cref="ReadThroughCache{TKey, TValue}"/> whose
/// loader is the database (one load per key however many readers miss together); a write goes to the database and
/// deletes the cache key, as in cache-aside, for the same reason (a delete cannot be reordered into a stale value).
/// The difference from cache-aside is who loads: here the cache, so callers never touch the database on a read and a
/// stampede is folded into one load.
/// </summary>
/// <typeparam name="TKey">The key.</typeparam>
/// <typeparam name="TValue">The record.</typeparam>
public sealed class ReadThrough<TKey, TValue> : ICachingPattern<TKey, TValue>
    where TKey : notnull
    where TValue : class
{
    private readonly IRecordStore<TKey, TValue> _store;
    private readonly ReadThroughCache<TKey, TValue> _reads;
    private readonly InvalidatingWrites<TKey, TValue> _writes;

    /// <summary>Creates the pattern.</summary>
    /// <param name="cache">The cache.</param>
    /// <param name="store">The database.</param>
    /// <param name="ttl">How long a filled value lives: the bound on staleness.</param>
    public ReadThrough(IPatternCache<TKey, TValue> cache, IRecordStore<TKey, TValue> store, TimeSpan ttl)
    {
        _store = store ?? throw new ArgumentNullException(nameof(store));
        _reads = new ReadThroughCache<TKey, TValue>(cache, LoadAsync, ttl, Counters);
        _writes = new InvalidatingWrites<TKey, TValue>(cache, store, Counters, _reads.Written);
    }

    /// <inheritdoc />
    public string Name => "read-through";

    /// <inheritdoc />
    public PatternCounters Counters { get; } = new();

    /// <inheritdoc />
    public ValueTask<PatternRead<TValue>> GetAsync(TKey key, CancellationToken cancellationToken) => _reads.GetAsync(key, cancellationToken);

    /// <inheritdoc />
    /// <remarks>Acknowledged when the database has the value and the cache key is deleted.</remarks>
    public ValueTask SetAsync(TKey key, TValue value, CancellationToken cancellationToken) => _writes.SetAsync(key, value, cancellationToken);

    /// <inheritdoc />
    public ValueTask RemoveAsync(TKey key, CancellationToken cancellationToken) => _writes.RemoveAsync(key, cancellationToken);

    private async ValueTask<PatternRead<TValue>> LoadAsync(TKey key, CancellationToken cancellationToken) =>
        new(await _store.LoadAsync(key, cancellationToken).ConfigureAwait(false), ReadSource.Database);
}
