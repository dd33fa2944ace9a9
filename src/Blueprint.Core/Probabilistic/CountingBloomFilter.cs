namespace Blueprint.Core.Probabilistic;

/// <summary>
/// A counting Bloom filter: Fan, Cao, Almeida &amp; Broder, "Summary Cache" (2000). Each position holds a counter
/// instead of a bit, so items can be removed. Counters saturate at <see cref="CounterMax"/> and then stay there:
/// a saturated counter no longer knows its true count, so decrementing it could create a false negative.
/// </summary>
/// <remarks>Single-threaded: callers synchronize.</remarks>
public sealed class CountingBloomFilter
{
    /// <summary>The largest value a counter holds; it sticks there once reached.</summary>
    public const byte CounterMax = byte.MaxValue;

    private readonly byte[] _counters;

    /// <summary>Creates a filter sized for <paramref name="expectedItems"/> at <paramref name="falsePositiveRate"/>.</summary>
    /// <param name="expectedItems">The number of items the filter is sized for.</param>
    /// <param name="falsePositiveRate">The target false-positive rate, in (0, 1).</param>
    public CountingBloomFilter(long expectedItems, double falsePositiveRate)
    {
        long counters = BloomMath.OptimalBitCount(expectedItems, falsePositiveRate);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(counters, Array.MaxLength);
        _counters = new byte[counters];
        HashCount = BloomMath.OptimalHashCount(counters, expectedItems);
    }

    /// <summary>Gets the number of counters.</summary>
    public long CounterCount => _counters.LongLength;

    /// <summary>Gets the number of probes per item.</summary>
    public int HashCount { get; }

    /// <summary>Gets the memory the counters occupy, in bytes.</summary>
    public long SizeBytes => _counters.LongLength;

    /// <summary>Adds <paramref name="item"/>, incrementing each of its counters unless saturated.</summary>
    /// <param name="item">The item.</param>
    public void Add(ReadOnlySpan<char> item)
    {
        BloomHash hash = BloomHash.Of(item);
        ulong count = (ulong)_counters.LongLength;
        for (int i = 0; i < HashCount; i++)
        {
            ref byte counter = ref _counters[hash.Probe(i, count)];
            if (counter < CounterMax)
            {
                counter++;
            }
        }
    }

    /// <summary>Removes <paramref name="item"/> if it may be present, decrementing each unsaturated counter.</summary>
    /// <param name="item">The item.</param>
    /// <returns><see langword="false"/> when the item was certainly absent (nothing changed).</returns>
    public bool Remove(ReadOnlySpan<char> item)
    {
        BloomHash hash = BloomHash.Of(item);
        if (!Contains(hash))
        {
            return false;
        }

        ulong count = (ulong)_counters.LongLength;
        for (int i = 0; i < HashCount; i++)
        {
            ref byte counter = ref _counters[hash.Probe(i, count)];
            if (counter is > 0 and < CounterMax)
            {
                counter--;
            }
        }

        return true;
    }

    /// <summary>Returns whether <paramref name="item"/> may be present.</summary>
    /// <param name="item">The item.</param>
    /// <returns><see langword="false"/> when certainly absent.</returns>
    public bool Contains(ReadOnlySpan<char> item) => Contains(BloomHash.Of(item));

    /// <summary>Returns the smallest of the item's counters: an upper bound on how often it was added, while unsaturated.</summary>
    /// <param name="item">The item.</param>
    /// <returns>The minimum counter value.</returns>
    public int CountOf(ReadOnlySpan<char> item)
    {
        BloomHash hash = BloomHash.Of(item);
        ulong count = (ulong)_counters.LongLength;
        int min = CounterMax;
        for (int i = 0; i < HashCount; i++)
        {
            min = Math.Min(min, _counters[hash.Probe(i, count)]);
        }

        return min;
    }

    private bool Contains(BloomHash hash)
    {
        ulong count = (ulong)_counters.LongLength;
        for (int i = 0; i < HashCount; i++)
        {
            if (_counters[hash.Probe(i, count)] == 0)
            {
                return false;
            }
        }

        return true;
    }
}
