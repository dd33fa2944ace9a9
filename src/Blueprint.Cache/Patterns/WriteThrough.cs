namespace Blueprint.Cache.Patterns;

/// <summary>
/// Write-through: a write goes to the database, then to the cache, synchronously; it is acknowledged after both, so a
/// reader of the cache sees an acknowledged write at once and a hot key never misses after a write. Reads go through
/// a <see cref="ReadThroughCache{TKey, TValue}"/> (a miss loads once and fills).
/// </summary>
/// <remarks>
/// The database goes first because it is the truth: when it fails nothing has changed and the write fails. When the
/// cache write fails after the database committed, the pattern deletes the key (the next read loads the new value)
/// and throws <see cref="CacheWriteException"/>: the value is durable but the write is not acknowledged as
/// write-through, and retrying it is safe (a put is idempotent). If the delete fails too, the old value may be read
/// for at most the TTL. Writes of one key on this process are serialized, so the database and the cache see them in
/// the same order; writers on different processes can still interleave, bounded by the TTL.
/// </remarks>
/// <typeparam name="TKey">The key.</typeparam>
/// <typeparam name="TValue">The record.</typeparam>
public sealed class WriteThrough<TKey, TValue> : ICachingPattern<TKey, TValue>, IDisposable
    where TKey : notnull
    where TValue : class
{
    private readonly IPatternCache<TKey, TValue> _cache;
    private readonly IRecordStore<TKey, TValue> _store;
    private readonly TimeSpan _ttl;
    private readonly ReadThroughCache<TKey, TValue> _reads;
    private readonly KeyedGate<TKey> _writes = new();

    /// <summary>Creates the pattern.</summary>
    /// <param name="cache">The cache.</param>
    /// <param name="store">The database.</param>
    /// <param name="ttl">How long a written or filled value lives.</param>
    public WriteThrough(IPatternCache<TKey, TValue> cache, IRecordStore<TKey, TValue> store, TimeSpan ttl)
    {
        _cache = cache ?? throw new ArgumentNullException(nameof(cache));
        _store = store ?? throw new ArgumentNullException(nameof(store));
        _ttl = ttl;
        _reads = new ReadThroughCache<TKey, TValue>(cache, LoadAsync, ttl, Counters);
    }

    /// <inheritdoc />
    public string Name => "write-through";

    /// <inheritdoc />
    public PatternCounters Counters { get; } = new();

    /// <inheritdoc />
    public ValueTask<PatternRead<TValue>> GetAsync(TKey key, CancellationToken cancellationToken) => _reads.GetAsync(key, cancellationToken);

    /// <inheritdoc />
    /// <remarks>Acknowledged when the database and the cache both hold the value.</remarks>
    /// <exception cref="CacheWriteException">The database holds the value, the cache could not be updated.</exception>
    public async ValueTask SetAsync(TKey key, TValue value, CancellationToken cancellationToken)
    {
        using var _ = await _writes.EnterAsync(key, cancellationToken).ConfigureAwait(false);
        await _store.SaveAsync(key, value, cancellationToken).ConfigureAwait(false);
        Counters.DatabaseWrite();
        _reads.Written(key);
        try
        {
            await _cache.SetAsync(key, value, _ttl, CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception error)
        {
            throw await CacheFailedAsync(key, error).ConfigureAwait(false);
        }
    }

    /// <inheritdoc />
    /// <remarks>Acknowledged when the database has deleted the record and the cache key is gone.</remarks>
    /// <exception cref="CacheWriteException">The database deleted the record, the cache key could not be deleted.</exception>
    public async ValueTask RemoveAsync(TKey key, CancellationToken cancellationToken)
    {
        using var _ = await _writes.EnterAsync(key, cancellationToken).ConfigureAwait(false);
        await _store.DeleteAsync(key, cancellationToken).ConfigureAwait(false);
        Counters.DatabaseWrite();
        _reads.Written(key);
        try
        {
            await _cache.RemoveAsync(key, CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception error)
        {
            throw new CacheWriteException("the database deleted the record but the cache key could not be deleted; the old value may be read until its TTL ends", error);
        }
    }

    /// <inheritdoc />
    public void Dispose() => _writes.Dispose();

    private async ValueTask<CacheWriteException> CacheFailedAsync(TKey key, Exception error)
    {
        try
        {
            await _cache.RemoveAsync(key, CancellationToken.None).ConfigureAwait(false);
            return new CacheWriteException("the database holds the value but the cache could not be updated; the cache key was deleted, so the next read loads the new value", error);
        }
        catch (Exception again)
        {
            return new CacheWriteException("the database holds the value but the cache could neither be updated nor cleared; the old value may be read until its TTL ends", new AggregateException(error, again));
        }
    }

    private async ValueTask<PatternRead<TValue>> LoadAsync(TKey key, CancellationToken cancellationToken) =>
        new(await _store.LoadAsync(key, cancellationToken).ConfigureAwait(false), ReadSource.Database);
}

/// <summary>
/// A write reached the database but not the cache: the value is durable, the pattern's guarantee (the cache holds it
/// too) does not hold. Retrying the write is safe.
/// </summary>
public sealed class CacheWriteException : Exception
{
    /// <summary>Creates the exception.</summary>
    public CacheWriteException()
    {
    }

    /// <summary>Creates the exception with what was done.</summary>
    public CacheWriteException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with what was done and the cache's error.</summary>
    public CacheWriteException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
