using Blueprint.Cache.Patterns;

namespace Blueprint.Cache.Tests.Patterns;

/// <summary>An in-memory cache with TTLs on a given clock, whose writes can be made to fail and whose entries can be evicted.</summary>
internal sealed class MemoryCache(TimeProvider time) : IPatternCache<string, string>
{
    private readonly Dictionary<string, (string Value, DateTimeOffset ExpiresAt)> _entries = [];
    private readonly Lock _gate = new();

    /// <summary>Whether SET and SET NX throw, as a cache that is down would.</summary>
    public bool FailWrites { get; set; }

    /// <summary>What the cache holds for the key now, without counting a read.</summary>
    public string? Peek(string key)
    {
        lock (_gate)
        {
            return _entries.TryGetValue(key, out var entry) && entry.ExpiresAt > time.GetUtcNow() ? entry.Value : null;
        }
    }

    /// <summary>Drops the key, as an eviction would.</summary>
    public void Evict(string key)
    {
        lock (_gate)
        {
            _entries.Remove(key);
        }
    }

    public ValueTask<string?> GetAsync(string key, CancellationToken cancellationToken) => ValueTask.FromResult(Peek(key));

    public ValueTask SetAsync(string key, string value, TimeSpan ttl, CancellationToken cancellationToken)
    {
        ThrowIfFailing();
        lock (_gate)
        {
            _entries[key] = (value, time.GetUtcNow() + ttl);
        }

        return ValueTask.CompletedTask;
    }

    public ValueTask<bool> AddAsync(string key, string value, TimeSpan ttl, CancellationToken cancellationToken)
    {
        ThrowIfFailing();
        lock (_gate)
        {
            if (Peek(key) is not null)
            {
                return ValueTask.FromResult(false);
            }

            _entries[key] = (value, time.GetUtcNow() + ttl);
            return ValueTask.FromResult(true);
        }
    }

    public ValueTask RemoveAsync(string key, CancellationToken cancellationToken)
    {
        Evict(key);
        return ValueTask.CompletedTask;
    }

    private void ThrowIfFailing()
    {
        if (FailWrites)
        {
            throw new InvalidOperationException("the cache is down");
        }
    }
}

/// <summary>
/// An in-memory system of record that counts its calls, records each batch, can hold loads or batches at a gate, and
/// can fail a number of batch writes.
/// </summary>
internal sealed class MemoryStore : IRecordStore<string, string>
{
    private readonly Dictionary<string, string> _records = [];
    private readonly List<IReadOnlyList<RecordWrite<string, string>>> _batches = [];
    private readonly Lock _gate = new();
    private int _loads;
    private int _batchAttempts;

    /// <summary>When set, loads wait for it (after counting themselves).</summary>
    public TaskCompletionSource? LoadGate { get; set; }

    /// <summary>When set, batch writes wait for it (after counting themselves).</summary>
    public TaskCompletionSource? BatchGate { get; set; }

    /// <summary>How many batch writes still fail; negative: all of them.</summary>
    public int BatchFailuresLeft { get; set; }

    /// <summary>How many loads started.</summary>
    public int Loads => Volatile.Read(ref _loads);

    /// <summary>How many batch writes were tried, failed ones included.</summary>
    public int BatchAttempts => Volatile.Read(ref _batchAttempts);

    /// <summary>The batches written, in order.</summary>
    public IReadOnlyList<IReadOnlyList<RecordWrite<string, string>>> Batches
    {
        get
        {
            lock (_gate)
            {
                return [.. _batches];
            }
        }
    }

    /// <summary>The record as stored, without counting a load.</summary>
    public string? Peek(string key)
    {
        lock (_gate)
        {
            return _records.GetValueOrDefault(key);
        }
    }

    /// <summary>Changes a record behind every cache's back.</summary>
    public void Put(string key, string value)
    {
        lock (_gate)
        {
            _records[key] = value;
        }
    }

    public async ValueTask<string?> LoadAsync(string key, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _loads);
        if (LoadGate is { } gate)
        {
            await gate.Task.WaitAsync(cancellationToken);
        }

        return Peek(key);
    }

    public ValueTask SaveAsync(string key, string value, CancellationToken cancellationToken)
    {
        Put(key, value);
        return ValueTask.CompletedTask;
    }

    public ValueTask DeleteAsync(string key, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            _records.Remove(key);
        }

        return ValueTask.CompletedTask;
    }

    public async ValueTask SaveBatchAsync(IReadOnlyList<RecordWrite<string, string>> writes, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _batchAttempts);
        if (BatchGate is { } gate)
        {
            await gate.Task.WaitAsync(cancellationToken);
        }

        lock (_gate)
        {
            if (BatchFailuresLeft != 0)
            {
                BatchFailuresLeft--;
                throw new InvalidOperationException("the database is down");
            }

            foreach (var write in writes)
            {
                if (write.Value is null)
                {
                    _records.Remove(write.Key);
                }
                else
                {
                    _records[write.Key] = write.Value;
                }
            }

            _batches.Add([.. writes]);
        }
    }
}
