namespace Blueprint.Cache.Patterns;

/// <summary>
/// The system of record behind a cache (a SQL table, say): what the patterns load on a miss and write to. A missing
/// record loads as null.
/// </summary>
/// <typeparam name="TKey">The key.</typeparam>
/// <typeparam name="TValue">The record.</typeparam>
public interface IRecordStore<TKey, TValue>
    where TKey : notnull
    where TValue : class
{
    /// <summary>The record, or null when there is none.</summary>
    ValueTask<TValue?> LoadAsync(TKey key, CancellationToken cancellationToken);

    /// <summary>Inserts or replaces the record, durably, before returning.</summary>
    ValueTask SaveAsync(TKey key, TValue value, CancellationToken cancellationToken);

    /// <summary>Deletes the record; deleting a missing one is not an error.</summary>
    ValueTask DeleteAsync(TKey key, CancellationToken cancellationToken);

    /// <summary>Applies several writes in one transaction: all of them or, when it throws, none.</summary>
    /// <param name="writes">Distinct keys; a write without a value deletes.</param>
    /// <param name="cancellationToken">Cancels the transaction.</param>
    ValueTask SaveBatchAsync(IReadOnlyList<RecordWrite<TKey, TValue>> writes, CancellationToken cancellationToken);
}

/// <summary>One write of a batch.</summary>
/// <param name="Key">The key.</param>
/// <param name="Value">The new record, or null to delete it.</param>
public readonly record struct RecordWrite<TKey, TValue>(TKey Key, TValue? Value)
    where TValue : class
{
    /// <summary>Whether the write deletes the record.</summary>
    public bool IsDelete => Value is null;
}
