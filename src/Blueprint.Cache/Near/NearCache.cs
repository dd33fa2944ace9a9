using BitFaster.Caching.Lru;
using Blueprint.Core.Hashing;

namespace Blueprint.Cache.Near;

/// <summary>
/// The near (in-process) copies of one <see cref="BlueprintCache"/>: a size-bounded concurrent LRU of deserialized
/// values, and per partition of the key space an epoch that tells a fill whether an invalidation overtook it.
/// </summary>
/// <remarks>
/// <para>
/// Each partition has an <em>epoch</em>, bumped by every invalidation applied to it (a message, a local write, a gap
/// found by reconciliation), and a <em>stale-below</em> mark. A fill reads the epoch before it reads the distributed
/// cache and records it in the entry (Hazelcast records the partition sequence the same way at reservation).
/// </para>
/// <para>
/// Fill against invalidation: the fill inserts, then reads the epoch again and takes its own entry back out if the
/// epoch moved. The invalidation bumps the epoch, then removes the key. Whichever runs first, the old value does not
/// survive: if the removal came before the insert, the bump came before it too and the fill's second read sees it;
/// otherwise the removal removes the inserted entry. Both sides put a full fence between their two steps.
/// </para>
/// <para>
/// A gap (an invalidation known to be lost, not known for which key) marks the partition stale: its stale-below mark
/// becomes a fresh epoch, and every entry filled before it is dropped when next read: O(1), no scan.
/// </para>
/// </remarks>
internal sealed class NearCache
{
    private readonly ConcurrentLru<string, NearEntry> _entries;
    private readonly Partition[] _partitions;
    private readonly TimeProvider _time;

    /// <summary>Creates an empty near cache.</summary>
    public NearCache(int entriesMax, int partitionCount, TimeProvider time)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(entriesMax, 3);
        ArgumentOutOfRangeException.ThrowIfLessThan(partitionCount, 1);
        _entries = new ConcurrentLru<string, NearEntry>(entriesMax);
        _partitions = new Partition[partitionCount];
        for (var i = 0; i < partitionCount; i++)
        {
            _partitions[i] = new Partition();
        }

        _time = time;
    }

    /// <summary>The number of partitions.</summary>
    public int PartitionCount => _partitions.Length;

    /// <summary>How many entries are held, stale ones not yet read included.</summary>
    public int Count => _entries.Count;

    /// <summary>The partition of <paramref name="key"/>: its stable hash modulo the partition count, the same in every process.</summary>
    public int PartitionOf(string key) => (int)(StableHash.Hash64(key) % (ulong)_partitions.Length);

    /// <summary>The partition's current epoch: read it before reading the distributed cache, and fill with it.</summary>
    public long EpochOf(int partition) => Volatile.Read(ref _partitions[partition].Epoch);

    /// <summary>Returns the near copy of <paramref name="key"/> if there is a live one of type <typeparamref name="T"/>.</summary>
    public bool TryGet<T>(string key, out T value)
    {
        if (_entries.TryGet(key, out var entry))
        {
            if (entry.FillEpoch < Volatile.Read(ref _partitions[entry.Partition].StaleBelow)
                || _time.GetElapsedTime(entry.FilledTimestamp) >= entry.Ttl)
            {
                _entries.TryRemove(new KeyValuePair<string, NearEntry>(key, entry));
            }
            else if (entry.Value is T typed)
            {
                value = typed;
                return true;
            }
            else if (entry.Value is null && default(T) is null)
            {
                value = default!;
                return true;
            }
        }

        value = default!;
        return false;
    }

    /// <summary>
    /// Keeps <paramref name="value"/> as the near copy of <paramref name="key"/> unless an invalidation of its partition
    /// was applied since <paramref name="fillEpoch"/> was read.
    /// </summary>
    /// <returns>Whether the copy was kept.</returns>
    public bool Fill(string key, int partition, long fillEpoch, object? value, string[] tags, TimeSpan ttl)
    {
        if (EpochOf(partition) != fillEpoch)
        {
            return false;
        }

        var entry = new NearEntry(value, partition, fillEpoch, tags, _time.GetTimestamp(), ttl);
        _entries.AddOrUpdate(key, entry);
        Interlocked.MemoryBarrier();
        if (EpochOf(partition) != fillEpoch)
        {
            _entries.TryRemove(new KeyValuePair<string, NearEntry>(key, entry));
            return false;
        }

        return true;
    }

    /// <summary>Drops the near copy of <paramref name="key"/> and makes fills of its partition in flight give up.</summary>
    public void Invalidate(string key, int partition)
    {
        Interlocked.Increment(ref _partitions[partition].Epoch);
        _entries.TryRemove(key);
    }

    /// <summary>Drops every near copy carrying <paramref name="tag"/> and makes every fill in flight give up.</summary>
    public void InvalidateTag(string tag)
    {
        foreach (var partition in _partitions)
        {
            Interlocked.Increment(ref partition.Epoch);
        }

        // A scan of at most NearEntriesMax entries; tag removals are rare next to reads.
        foreach (var (key, entry) in _entries)
        {
            if (Array.IndexOf(entry.Tags, tag) >= 0)
            {
                _entries.TryRemove(new KeyValuePair<string, NearEntry>(key, entry));
            }
        }
    }

    /// <summary>Makes every near copy of <paramref name="partition"/> filled until now stale.</summary>
    public void MarkStale(int partition)
    {
        var state = _partitions[partition];
        var epoch = Interlocked.Increment(ref state.Epoch);
        var current = Volatile.Read(ref state.StaleBelow);
        while (current < epoch)
        {
            var seen = Interlocked.CompareExchange(ref state.StaleBelow, epoch, current);
            if (seen == current)
            {
                return;
            }

            current = seen;
        }
    }

    /// <summary>Makes every near copy filled until now stale.</summary>
    public void MarkAllStale()
    {
        for (var i = 0; i < _partitions.Length; i++)
        {
            MarkStale(i);
        }
    }

    private sealed class Partition
    {
        public long Epoch;
        public long StaleBelow;
    }

    // A class, not a record: conditional removal compares entries, and only the very entry a fill inserted may go.
    private sealed class NearEntry(object? value, int partition, long fillEpoch, string[] tags, long filledTimestamp, TimeSpan ttl)
    {
        public object? Value { get; } = value;

        public int Partition { get; } = partition;

        public long FillEpoch { get; } = fillEpoch;

        public string[] Tags { get; } = tags;

        public long FilledTimestamp { get; } = filledTimestamp;

        public TimeSpan Ttl { get; } = ttl;
    }
}
