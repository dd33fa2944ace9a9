namespace Blueprint.Lab.Experiments.Eviction;

/// <summary>
/// Exact LRU and FIFO, the subject of the eviction experiment, not a production cache: keys sit in one queue and the
/// head is evicted when a new key needs room. LRU moves a key to the tail on every hit, so the head is the least
/// recently used; FIFO leaves it where it was inserted, so the head is the oldest. That one difference is all that
/// separates them, which is why the checks in <see cref="PolicyChecks"/> hold a sequence on which they must differ.
/// </summary>
internal sealed class QueuePolicy : IEvictionPolicy
{
    private readonly bool _refreshOnHit;
    private readonly Dictionary<int, int> _slotOfKey;
    private readonly int[] _keys;
    private readonly SlotLinks _links;
    private int _head = SlotLinks.None;
    private int _tail = SlotLinks.None;
    private int _used;

    /// <summary>Creates a queue policy.</summary>
    /// <param name="name">The name shown in tables.</param>
    /// <param name="capacity">The most keys held at once, at least 1.</param>
    /// <param name="refreshOnHit">Whether a hit moves the key to the tail (LRU) or not (FIFO).</param>
    public QueuePolicy(string name, int capacity, bool refreshOnHit)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        Name = name;
        _refreshOnHit = refreshOnHit;
        _slotOfKey = new(capacity);
        _keys = new int[capacity];
        _links = new(capacity);
    }

    /// <inheritdoc/>
    public string Name { get; }

    /// <summary>Creates an exact LRU.</summary>
    public static QueuePolicy Lru(int capacity) => new("LRU", capacity, refreshOnHit: true);

    /// <summary>Creates an exact FIFO.</summary>
    public static QueuePolicy Fifo(int capacity) => new("FIFO", capacity, refreshOnHit: false);

    /// <inheritdoc/>
    public bool Access(int key, long now)
    {
        if (_slotOfKey.TryGetValue(key, out int slot))
        {
            if (_refreshOnHit && slot != _tail)
            {
                _links.Unlink(slot, ref _head, ref _tail);
                _links.LinkLast(slot, ref _head, ref _tail);
            }

            return true;
        }

        if (_used < _keys.Length)
        {
            slot = _used++;
        }
        else
        {
            slot = _head;
            _links.Unlink(slot, ref _head, ref _tail);
            _ = _slotOfKey.Remove(_keys[slot]);
        }

        _keys[slot] = key;
        _links.LinkLast(slot, ref _head, ref _tail);
        _slotOfKey.Add(key, slot);
        return false;
    }
}
