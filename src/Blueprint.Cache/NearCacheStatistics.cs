namespace Blueprint.Cache;

/// <summary>Counters of one <see cref="BlueprintCache"/>'s near cache and its coherence, since it was created.</summary>
/// <param name="Active">Whether the near cache is in use (subscribed, sequences read).</param>
/// <param name="Hits">Reads answered by a near copy.</param>
/// <param name="Misses">Reads that went to the distributed cache while the near cache was active.</param>
/// <param name="Entries">Near copies held, stale ones not yet read included.</param>
/// <param name="InvalidationsPublished">Invalidations this instance published.</param>
/// <param name="InvalidationsReceived">Invalidations from other instances applied.</param>
/// <param name="InvalidationsDropped">Invalidations dropped by the test hook.</param>
/// <param name="Reconciliations">Reconciliations completed.</param>
/// <param name="GapsFound">Streams found by reconciliation to have lost an invalidation.</param>
public sealed record NearCacheStatistics(
    bool Active,
    long Hits,
    long Misses,
    int Entries,
    long InvalidationsPublished,
    long InvalidationsReceived,
    long InvalidationsDropped,
    long Reconciliations,
    long GapsFound);
