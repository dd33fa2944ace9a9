namespace Blueprint.Cache.Patterns;

/// <summary>
/// One caching pattern, seen from the caller: read, write and delete by key. What "acknowledged" means differs — a
/// write returns once the pattern's guarantee holds (in the database for cache-aside, read-through and
/// write-through; in the cache and the write-behind queue for write-behind) — and each says so.
/// </summary>
/// <typeparam name="TKey">The key.</typeparam>
/// <typeparam name="TValue">The record.</typeparam>
public interface ICachingPattern<TKey, TValue>
    where TKey : notnull
    where TValue : class
{
    /// <summary>The pattern's name, for example <c>cache-aside</c>.</summary>
    string Name { get; }

    /// <summary>The counters: database reads and writes, cache hits and misses.</summary>
    PatternCounters Counters { get; }

    /// <summary>Reads the record and says where it came from.</summary>
    ValueTask<PatternRead<TValue>> GetAsync(TKey key, CancellationToken cancellationToken);

    /// <summary>Writes the record; returns once the pattern acknowledges it.</summary>
    ValueTask SetAsync(TKey key, TValue value, CancellationToken cancellationToken);

    /// <summary>Deletes the record; returns once the pattern acknowledges it.</summary>
    ValueTask RemoveAsync(TKey key, CancellationToken cancellationToken);
}

/// <summary>Where a read was answered from.</summary>
public enum ReadSource
{
    /// <summary>The cache held the key.</summary>
    Cache,

    /// <summary>The database, after a cache miss (the record may be absent there too).</summary>
    Database,

    /// <summary>The write-behind queue: a write acknowledged but not yet in the database.</summary>
    Queue,
}

/// <summary>The result of a read.</summary>
/// <param name="Value">The record, or null when there is none.</param>
/// <param name="Source">Where the answer came from.</param>
public readonly record struct PatternRead<TValue>(TValue? Value, ReadSource Source)
    where TValue : class
{
    /// <summary>Whether a record was found.</summary>
    public bool Found => Value is not null;
}
