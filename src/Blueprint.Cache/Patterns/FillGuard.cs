namespace Blueprint.Cache.Patterns;

/// <summary>
/// Keeps a read's fill from putting back a value older than a write on this process. A write bumps its key's
/// generation after the database has the new value; a load notes the generation before it reads the database and
/// fills only if it has not moved, so a load that may have read the old value never fills. Generations are striped
/// by key hash: a write to another key of the same stripe also skips a fill, which costs a later miss, never a stale
/// value. Across processes the race remains; the TTL bounds it.
/// </summary>
internal sealed class FillGuard<TKey>
    where TKey : notnull
{
    /// <summary>The number of stripes, a power of two.</summary>
    private const int Stripes = 256;

    private readonly long[] _generations = new long[Stripes];

    /// <summary>The key's generation before a load.</summary>
    public long Before(TKey key) => Volatile.Read(ref _generations[StripeOf(key)]);

    /// <summary>Whether no write of the key's stripe happened since <paramref name="before"/>.</summary>
    public bool Unchanged(TKey key, long before) => Volatile.Read(ref _generations[StripeOf(key)]) == before;

    /// <summary>Marks a write of the key: loads in flight for it must not fill.</summary>
    public void Written(TKey key) => Interlocked.Increment(ref _generations[StripeOf(key)]);

    private static int StripeOf(TKey key) => key.GetHashCode() & (Stripes - 1);
}

/// <summary>
/// Serializes the writes of one key on this process (striped: keys of one stripe wait for each other), so two
/// writers cannot update the database in one order and the cache in the other.
/// </summary>
internal sealed class KeyedGate<TKey> : IDisposable
    where TKey : notnull
{
    /// <summary>The number of stripes, a power of two.</summary>
    private const int Stripes = 64;

    private readonly SemaphoreSlim[] _gates = [.. Enumerable.Range(0, Stripes).Select(_ => new SemaphoreSlim(1, 1))];

    /// <summary>Waits for the key's stripe; dispose the result to release it.</summary>
    public async ValueTask<Releaser> EnterAsync(TKey key, CancellationToken cancellationToken)
    {
        var gate = _gates[key.GetHashCode() & (Stripes - 1)];
        await gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        return new Releaser(gate);
    }

    public void Dispose()
    {
        foreach (var gate in _gates)
        {
            gate.Dispose();
        }
    }

    /// <summary>Releases a stripe once.</summary>
    internal readonly struct Releaser(SemaphoreSlim gate) : IDisposable
    {
        public void Dispose() => gate.Release();
    }
}
