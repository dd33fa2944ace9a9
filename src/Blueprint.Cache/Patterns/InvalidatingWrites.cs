namespace Blueprint.Cache.Patterns;

/// <summary>
/// The write path of cache-aside and read-through: the database first, then mark the key written (so a load in
/// flight does not fill) and delete the cache key. Acknowledged when both are done.
/// </summary>
internal sealed class InvalidatingWrites<TKey, TValue>(
    IPatternCache<TKey, TValue> cache, IRecordStore<TKey, TValue> store, PatternCounters counters, Action<TKey> written)
    where TKey : notnull
    where TValue : class
{
    public async ValueTask SetAsync(TKey key, TValue value, CancellationToken cancellationToken)
    {
        await store.SaveAsync(key, value, cancellationToken).ConfigureAwait(false);
        await InvalidateAsync(key, cancellationToken).ConfigureAwait(false);
    }

    public async ValueTask RemoveAsync(TKey key, CancellationToken cancellationToken)
    {
        await store.DeleteAsync(key, cancellationToken).ConfigureAwait(false);
        await InvalidateAsync(key, cancellationToken).ConfigureAwait(false);
    }

    private async ValueTask InvalidateAsync(TKey key, CancellationToken cancellationToken)
    {
        counters.DatabaseWrite();
        written(key);
        await cache.RemoveAsync(key, cancellationToken).ConfigureAwait(false);
    }
}
