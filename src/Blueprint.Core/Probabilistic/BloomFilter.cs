using System.Numerics;

namespace Blueprint.Core.Probabilistic;

/// <summary>
/// A Bloom filter (Bloom 1970): a set that may answer "maybe" for an item never added (a false positive)
/// but never "no" for an item that was added. Probes use Kirsch &amp; Mitzenmacher double hashing (2006).
/// </summary>
/// <remarks>
/// <see cref="Add(ReadOnlySpan{char})"/>, <see cref="Contains(ReadOnlySpan{char})"/> and <see cref="UnionWith"/>
/// are lock-free and safe from many threads: a bit is set with <see cref="Interlocked.Or(ref ulong, ulong)"/>
/// on its 64-bit word, and bits are never cleared, so a concurrent reader sees each bit either set or not yet set.
/// </remarks>
public sealed partial class BloomFilter
{
    /// <summary>
    /// The most probes per item. The optimal k exceeds it only for rates below about 10^-19, where the sizing
    /// constructor uses this many instead; more probes than that is corruption, not a design.
    /// </summary>
    public const int HashCountMax = 64;

    /// <summary>
    /// The most bits <c>m</c>: the serialized form (header, <c>⌈m/64⌉</c> words and checksum) must fit in one byte
    /// array of at most <see cref="Array.MaxLength"/> (0x7FFFFFC7) bytes.
    /// </summary>
    public const long BitCountMax = (0x7FFFFFC7L - HeaderBytes - ChecksumBytes) / sizeof(ulong) * 64;

    private readonly ulong[] _words;

    /// <summary>Creates a filter sized for <paramref name="expectedItems"/> at <paramref name="falsePositiveRate"/>, with the optimal k.</summary>
    /// <param name="expectedItems">The number of items the filter is sized for.</param>
    /// <param name="falsePositiveRate">The target false-positive rate at that many items, in (0, 1).</param>
    public BloomFilter(long expectedItems, double falsePositiveRate)
        : this(BloomMath.OptimalBitCount(expectedItems, falsePositiveRate), 0)
    {
        HashCount = Math.Min(BloomMath.OptimalHashCount(BitCount, expectedItems), HashCountMax);
    }

    /// <summary>Creates a filter with an explicit bit count and hash count.</summary>
    /// <param name="bitCount">The number of bits <c>m</c>; at most <see cref="BitCountMax"/>.</param>
    /// <param name="hashCount">The number of probes <c>k</c>, at most <see cref="HashCountMax"/>; 0 is allowed only for the sizing constructor.</param>
    public BloomFilter(long bitCount, int hashCount)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(bitCount, 1);
        if (bitCount > BitCountMax)
        {
            throw new ArgumentOutOfRangeException(nameof(bitCount), bitCount, $"A filter of {bitCount} bits exceeds BitCountMax ({BitCountMax}), the most whose serialized form fits in a byte array.");
        }

        ArgumentOutOfRangeException.ThrowIfNegative(hashCount);
        if (hashCount > HashCountMax)
        {
            throw new ArgumentOutOfRangeException(nameof(hashCount), hashCount, $"{hashCount} probes per item exceeds HashCountMax ({HashCountMax}).");
        }

        BitCount = bitCount;
        HashCount = hashCount == 0 ? 1 : hashCount;
        _words = new ulong[(bitCount + 63) / 64];
    }

    private BloomFilter(ulong[] words, long bitCount, int hashCount)
    {
        _words = words;
        BitCount = bitCount;
        HashCount = hashCount;
    }

    /// <summary>Gets the number of bits <c>m</c>.</summary>
    public long BitCount { get; }

    /// <summary>Gets the number of probes per item <c>k</c>.</summary>
    public int HashCount { get; }

    /// <summary>Gets the memory the bit array occupies, in bytes.</summary>
    public long SizeBytes => _words.LongLength * sizeof(ulong);

    /// <summary>Gets the number of bits set.</summary>
    public long SetBitCount
    {
        get
        {
            long count = 0;
            for (int i = 0; i < _words.Length; i++)
            {
                count += BitOperations.PopCount(Volatile.Read(ref _words[i]));
            }

            return count;
        }
    }

    /// <summary>Gets the item count estimated from the fill: <c>−(m/k) · ln(1 − X/m)</c> (Swamidass &amp; Baldi 2007).</summary>
    public double EstimatedItemCount => -(double)BitCount / HashCount * Math.Log(1 - ((double)SetBitCount / BitCount));

    /// <summary>Adds the UTF-8 bytes of <paramref name="item"/>.</summary>
    /// <param name="item">The item.</param>
    /// <returns><see langword="true"/> when at least one bit was newly set (the item was certainly new).</returns>
    public bool Add(ReadOnlySpan<char> item) => Add(BloomHash.Of(item));

    /// <summary>Adds <paramref name="item"/>.</summary>
    /// <param name="item">The item bytes.</param>
    /// <returns><see langword="true"/> when at least one bit was newly set (the item was certainly new).</returns>
    public bool Add(ReadOnlySpan<byte> item) => Add(BloomHash.Of(item));

    /// <summary>Returns whether the UTF-8 bytes of <paramref name="item"/> may have been added.</summary>
    /// <param name="item">The item.</param>
    /// <returns><see langword="false"/> when certainly absent; <see langword="true"/> when probably present.</returns>
    public bool Contains(ReadOnlySpan<char> item) => Contains(BloomHash.Of(item));

    /// <summary>Returns whether <paramref name="item"/> may have been added.</summary>
    /// <param name="item">The item bytes.</param>
    /// <returns><see langword="false"/> when certainly absent; <see langword="true"/> when probably present.</returns>
    public bool Contains(ReadOnlySpan<byte> item) => Contains(BloomHash.Of(item));

    /// <summary>Sets every bit set in <paramref name="other"/>: afterwards this filter contains both sets.</summary>
    /// <param name="other">A filter with the same <see cref="BitCount"/> and <see cref="HashCount"/>.</param>
    public void UnionWith(BloomFilter other)
    {
        ArgumentNullException.ThrowIfNull(other);
        if (other.BitCount != BitCount || other.HashCount != HashCount)
        {
            throw new ArgumentException($"Only filters of the same shape can be united: this is m={BitCount}, k={HashCount}; the other is m={other.BitCount}, k={other.HashCount}.", nameof(other));
        }

        for (int i = 0; i < _words.Length; i++)
        {
            ulong bits = Volatile.Read(ref other._words[i]);
            if (bits != 0)
            {
                Interlocked.Or(ref _words[i], bits);
            }
        }
    }

    /// <summary>Returns a new filter that contains the items of both <paramref name="left"/> and <paramref name="right"/>.</summary>
    /// <param name="left">A filter.</param>
    /// <param name="right">A filter of the same shape.</param>
    /// <returns>The union.</returns>
    public static BloomFilter Union(BloomFilter left, BloomFilter right)
    {
        ArgumentNullException.ThrowIfNull(left);
        BloomFilter result = new((ulong[])left._words.Clone(), left.BitCount, left.HashCount);
        result.UnionWith(right);
        return result;
    }

    internal bool Add(BloomHash hash)
    {
        bool changed = false;
        ulong bitCount = (ulong)BitCount;
        for (int i = 0; i < HashCount; i++)
        {
            ulong bit = hash.Probe(i, bitCount);
            ulong mask = 1UL << (int)(bit & 63);
            ref ulong word = ref _words[bit >> 6];

            // Reading first skips the interlocked write for bits already set, the common case in a full filter.
            if ((Volatile.Read(ref word) & mask) == 0)
            {
                changed |= (Interlocked.Or(ref word, mask) & mask) == 0;
            }
        }

        return changed;
    }

    internal bool Contains(BloomHash hash)
    {
        ulong bitCount = (ulong)BitCount;
        for (int i = 0; i < HashCount; i++)
        {
            ulong bit = hash.Probe(i, bitCount);
            if ((Volatile.Read(ref _words[bit >> 6]) & (1UL << (int)(bit & 63))) == 0)
            {
                return false;
            }
        }

        return true;
    }
}
