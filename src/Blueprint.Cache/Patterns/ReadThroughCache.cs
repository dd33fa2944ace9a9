using System.Collections.Concurrent;

namespace Blueprint.Cache.Patterns;

/// <summary>
/// Loads a record from where it lives (a database, or a write-behind queue then a database).
/// </summary>
/// <returns>The record (null when there is none) and where it was found.</returns>
public delegate ValueTask<PatternRead<TValue>> RecordLoader<in TKey, TValue>(TKey key, CancellationToken cancellationToken)
    where TValue : class;

/// <summary>
/// Read-through: the cache itself loads on a miss, through the loader it was built with; callers only ever ask the
/// cache. Misses of one key share one load (single flight): a stampede of readers on a cold or just-expired key costs
/// the database one read, not one per reader. A value loaded from the database fills the cache with the TTL (<c>SET
/// NX</c>, skipped when a write of the key happened on this process during the load, see <see cref="Written"/>).
/// </summary>
/// <remarks>
/// The shared load runs to its end even if the reader that started it gives up: each reader stops waiting on its own
/// cancellation, the load is bounded by the loader's own timeouts. A failed load fails every reader waiting on it and
/// is not cached; the next miss tries again.
/// </remarks>
/// <typeparam name="TKey">The key.</typeparam>
/// <typeparam name="TValue">The record.</typeparam>
public sealed class ReadThroughCache<TKey, TValue>
    where TKey : notnull
    where TValue : class
{
    private readonly IPatternCache<TKey, TValue> _cache;
    private readonly RecordLoader<TKey, TValue> _loader;
    private readonly TimeSpan _ttl;
    private readonly PatternCounters _counters;
    private readonly FillGuard<TKey> _guard = new();
    private readonly ConcurrentDictionary<TKey, Task<PatternRead<TValue>>> _loads = new();

    /// <summary>Creates the cache.</summary>
    /// <param name="cache">Where values are cached.</param>
    /// <param name="loader">Loads a missing key; its database reads are counted when it says it read the database.</param>
    /// <param name="ttl">How long a filled value lives.</param>
    /// <param name="counters">Where hits, misses, shared loads and database reads are counted.</param>
    public ReadThroughCache(IPatternCache<TKey, TValue> cache, RecordLoader<TKey, TValue> loader, TimeSpan ttl, PatternCounters counters)
    {
        _cache = cache ?? throw new ArgumentNullException(nameof(cache));
        _loader = loader ?? throw new ArgumentNullException(nameof(loader));
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(ttl, TimeSpan.Zero);
        _ttl = ttl;
        _counters = counters ?? throw new ArgumentNullException(nameof(counters));
    }

    /// <summary>How many keys are being loaded now.</summary>
    public int LoadsInFlight => _loads.Count;

    /// <summary>Reads through the cache: a hit, or the one shared load of the key.</summary>
    public async ValueTask<PatternRead<TValue>> GetAsync(TKey key, CancellationToken cancellationToken)
    {
        var cached = await _cache.GetAsync(key, cancellationToken).ConfigureAwait(false);
        if (cached is not null)
        {
            _counters.Hit();
            return new PatternRead<TValue>(cached, ReadSource.Cache);
        }

        _counters.Miss();
        var created = new TaskCompletionSource<PatternRead<TValue>>(TaskCreationOptions.RunContinuationsAsynchronously);
        var shared = _loads.GetOrAdd(key, created.Task);
        if (shared == created.Task)
        {
            _ = LoadAsync(key, created);
        }
        else
        {
            _counters.LoadShared();
        }

        return await shared.WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Marks a write of the key (after the write reached where the loader reads): a load in flight does not fill.</summary>
    public void Written(TKey key) => _guard.Written(key);

    private async Task LoadAsync(TKey key, TaskCompletionSource<PatternRead<TValue>> done)
    {
        try
        {
            var before = _guard.Before(key);
            var loaded = await _loader(key, CancellationToken.None).ConfigureAwait(false);
            if (loaded.Source == ReadSource.Database)
            {
                _counters.DatabaseRead();
                if (loaded.Value is { } value && _guard.Unchanged(key, before))
                {
                    await _cache.AddAsync(key, value, _ttl, CancellationToken.None).ConfigureAwait(false);
                }
            }

            _loads.TryRemove(new KeyValuePair<TKey, Task<PatternRead<TValue>>>(key, done.Task));
            done.SetResult(loaded);
        }
        catch (Exception error)
        {
            _loads.TryRemove(new KeyValuePair<TKey, Task<PatternRead<TValue>>>(key, done.Task));
            done.SetException(error);
        }
    }
}
