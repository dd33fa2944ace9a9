namespace Blueprint.Lab.Experiments.Messaging;

/// <summary>
/// Watches records of many keys being processed, possibly by several consumers at once, and counts the ones processed
/// out of their key's order: a record is late when a record of the same key with a higher sequence number was
/// processed before it. Thread-safe; the order observed is the order of the calls to <see cref="Processed"/>.
/// </summary>
internal sealed class KeyOrder
{
    private readonly Lock _gate = new();
    private readonly Dictionary<int, long> _highest = [];
    private readonly HashSet<(int Key, long Sequence)> _seen = [];
    private long _count;
    private long _late;
    private long _duplicates;

    /// <summary>Gets the records processed, duplicates included.</summary>
    public long Count
    {
        get
        {
            lock (_gate)
            {
                return _count;
            }
        }
    }

    /// <summary>Gets the records processed after a later record of their key.</summary>
    public long Late
    {
        get
        {
            lock (_gate)
            {
                return _late;
            }
        }
    }

    /// <summary>Gets the records processed more than once.</summary>
    public long Duplicates
    {
        get
        {
            lock (_gate)
            {
                return _duplicates;
            }
        }
    }

    /// <summary>Records that the record <paramref name="sequence"/> of <paramref name="key"/> was processed now.</summary>
    public void Processed(int key, long sequence)
    {
        lock (_gate)
        {
            _count++;
            if (!_seen.Add((key, sequence)))
            {
                _duplicates++;
                return;
            }

            if (_highest.TryGetValue(key, out long highest) && sequence < highest)
            {
                _late++;
                return;
            }

            _highest[key] = sequence;
        }
    }
}
