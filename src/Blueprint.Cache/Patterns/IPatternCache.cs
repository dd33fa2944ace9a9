namespace Blueprint.Cache.Patterns;

/// <summary>
/// The cache the caching patterns sit on: get, set and remove by key with a time-to-live, and nothing more, so that
/// it can sit on the RESP engine directly (<see cref="RespPatternCache"/>) or on a richer typed cache later. A missing
/// key reads as null.
/// </summary>
/// <typeparam name="TKey">The key.</typeparam>
/// <typeparam name="TValue">The cached value; null means "not cached".</typeparam>
public interface IPatternCache<in TKey, TValue>
    where TKey : notnull
    where TValue : class
{
    /// <summary>The cached value, or null on a miss.</summary>
    ValueTask<TValue?> GetAsync(TKey key, CancellationToken cancellationToken);

    /// <summary>Sets the value, replacing whatever the key held: how a write puts its value in the cache.</summary>
    ValueTask SetAsync(TKey key, TValue value, TimeSpan ttl, CancellationToken cancellationToken);

    /// <summary>
    /// Sets the value only if the key holds none (<c>SET NX</c>): how a read fills the cache after a miss, so a fill
    /// carrying a value loaded before a write never overwrites the value that write set.
    /// </summary>
    /// <returns>Whether the value was set.</returns>
    ValueTask<bool> AddAsync(TKey key, TValue value, TimeSpan ttl, CancellationToken cancellationToken);

    /// <summary>Removes the key; removing a missing key is not an error.</summary>
    ValueTask RemoveAsync(TKey key, CancellationToken cancellationToken);
}
