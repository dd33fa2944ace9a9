namespace Blueprint.Cache.Patterns;

/// <summary>
/// What a pattern did, counted as it happens (thread-safe): the load it puts on the database and how well the cache
/// answers. Database writes count calls (a write-behind batch of many records is one), not records.
/// </summary>
public sealed class PatternCounters
{
    private long _databaseReads;
    private long _databaseWrites;
    private long _cacheHits;
    private long _cacheMisses;
    private long _loadsShared;

    /// <summary>Records loaded from the database (single-flight joiners do not add one).</summary>
    public long DatabaseReads => Interlocked.Read(ref _databaseReads);

    /// <summary>Write calls to the database: a save, a delete or a batch.</summary>
    public long DatabaseWrites => Interlocked.Read(ref _databaseWrites);

    /// <summary>Reads the cache answered.</summary>
    public long CacheHits => Interlocked.Read(ref _cacheHits);

    /// <summary>Reads the cache did not answer.</summary>
    public long CacheMisses => Interlocked.Read(ref _cacheMisses);

    /// <summary>Misses that waited for a load another reader of the same key had started (read-through's single flight).</summary>
    public long LoadsShared => Interlocked.Read(ref _loadsShared);

    /// <summary>The counters now.</summary>
    public PatternStats Snapshot() => new(DatabaseReads, DatabaseWrites, CacheHits, CacheMisses, LoadsShared);

    internal void DatabaseRead() => Interlocked.Increment(ref _databaseReads);

    internal void DatabaseWrite() => Interlocked.Increment(ref _databaseWrites);

    internal void Hit() => Interlocked.Increment(ref _cacheHits);

    internal void Miss() => Interlocked.Increment(ref _cacheMisses);

    internal void LoadShared() => Interlocked.Increment(ref _loadsShared);
}

/// <summary>A pattern's counters at one moment.</summary>
/// <param name="DatabaseReads">Records loaded from the database.</param>
/// <param name="DatabaseWrites">Write calls to the database.</param>
/// <param name="CacheHits">Reads the cache answered.</param>
/// <param name="CacheMisses">Reads it did not.</param>
/// <param name="LoadsShared">Misses that joined a load already in flight.</param>
public sealed record PatternStats(long DatabaseReads, long DatabaseWrites, long CacheHits, long CacheMisses, long LoadsShared);
