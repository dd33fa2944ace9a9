namespace Blueprint.Lab.Experiments.Eviction;

/// <summary>
/// Exact in-cache LFU, the subject of the eviction experiment, not a production cache: evicts the key with the fewest
/// hits since it was admitted, the least recently used of those on a tie. Counts live only while a key is cached (an
/// evicted key that returns starts again at one) and never decay. Constant time per access with one recency list per
/// count, as in Shah, Mitra and Matani, "An O(1) algorithm for implementing the LFU cache eviction scheme" (2010).
/// </summary>
internal sealed class LfuPolicy : IEvictionPolicy
{
    private readonly Dictionary<int, int> _slotOfKey;
    private readonly int[] _keys;
    private readonly int[] _counts;
    private readonly SlotLinks _links;

    /// <summary>For each count held by some key, the head (least recent) and tail of that count's list.</summary>
    private readonly Dictionary<int, (int Head, int Tail)> _lists = [];
    private int _minCount;
    private int _used;

    /// <summary>Creates an LFU cache.</summary>
    /// <param name="capacity">The most keys held at once, at least 1.</param>
    public LfuPolicy(int capacity)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        _slotOfKey = new(capacity);
        _keys = new int[capacity];
        _counts = new int[capacity];
        _links = new(capacity);
    }

    /// <inheritdoc/>
    public string Name => "LFU";

    /// <inheritdoc/>
    public bool Access(int key, long now)
    {
        if (_slotOfKey.TryGetValue(key, out int slot))
        {
            int count = _counts[slot];
            Unlink(slot, count);
            if (count == _minCount && !_lists.ContainsKey(count))
            {
                _minCount = count + 1;
            }

            _counts[slot] = count + 1;
            LinkLast(slot, count + 1);
            return true;
        }

        if (_used < _keys.Length)
        {
            slot = _used++;
        }
        else
        {
            slot = _lists[_minCount].Head;
            Unlink(slot, _minCount);
            _ = _slotOfKey.Remove(_keys[slot]);
        }

        _keys[slot] = key;
        _counts[slot] = 1;
        LinkLast(slot, 1);
        _minCount = 1;
        _slotOfKey.Add(key, slot);
        return false;
    }

    private void Unlink(int slot, int count)
    {
        (int head, int tail) = _lists[count];
        _links.Unlink(slot, ref head, ref tail);
        if (head == SlotLinks.None)
        {
            _ = _lists.Remove(count);
        }
        else
        {
            _lists[count] = (head, tail);
        }
    }

    private void LinkLast(int slot, int count)
    {
        (int head, int tail) = _lists.TryGetValue(count, out (int Head, int Tail) list) ? list : (SlotLinks.None, SlotLinks.None);
        _links.LinkLast(slot, ref head, ref tail);
        _lists[count] = (head, tail);
    }
}
