namespace Blueprint.Core.Probabilistic;

/// <summary>
/// Sizing formulas for Bloom filters (Bloom 1970; the optimum from Broder &amp; Mitzenmacher,
/// "Network Applications of Bloom Filters: A Survey", 2004).
/// </summary>
public static class BloomMath
{
    /// <summary>Optimal bit count <c>m = −n · ln p / (ln 2)²</c>, about <c>1.44 · log2(1/p)</c> bits per item.</summary>
    /// <param name="expectedItems">The number of items <c>n</c> the filter is sized for.</param>
    /// <param name="falsePositiveRate">The target false-positive rate <c>p</c> in (0, 1).</param>
    /// <returns>The bit count, at least 64.</returns>
    public static long OptimalBitCount(long expectedItems, double falsePositiveRate)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(expectedItems, 1);
        ThrowIfNotProbability(falsePositiveRate);
        double bits = -expectedItems * Math.Log(falsePositiveRate) / (Math.Log(2) * Math.Log(2));
        return Math.Max(64, (long)Math.Ceiling(bits));
    }

    /// <summary>Optimal hash count <c>k = (m / n) · ln 2</c>, rounded, at least 1.</summary>
    /// <param name="bitCount">The bit count <c>m</c>.</param>
    /// <param name="expectedItems">The item count <c>n</c>.</param>
    /// <returns>The hash count.</returns>
    public static int OptimalHashCount(long bitCount, long expectedItems)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(bitCount, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(expectedItems, 1);
        return Math.Max(1, (int)Math.Round((double)bitCount / expectedItems * Math.Log(2)));
    }

    /// <summary>Expected false-positive rate <c>(1 − e^(−k·n/m))^k</c> after <paramref name="items"/> insertions.</summary>
    /// <param name="bitCount">The bit count <c>m</c>.</param>
    /// <param name="hashCount">The hash count <c>k</c>.</param>
    /// <param name="items">The item count <c>n</c>.</param>
    /// <returns>The expected false-positive rate.</returns>
    public static double ExpectedFalsePositiveRate(long bitCount, int hashCount, long items)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(bitCount, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(hashCount, 1);
        ArgumentOutOfRangeException.ThrowIfNegative(items);
        return Math.Pow(1 - Math.Exp(-(double)hashCount * items / bitCount), hashCount);
    }

    /// <summary>The optimum bits per item for rate <paramref name="falsePositiveRate"/>: <c>log2(1/p) / ln 2 ≈ 1.44 · log2(1/p)</c>.</summary>
    /// <param name="falsePositiveRate">The target false-positive rate in (0, 1).</param>
    /// <returns>Bits per item.</returns>
    public static double OptimalBitsPerItem(double falsePositiveRate)
    {
        ThrowIfNotProbability(falsePositiveRate);
        return Math.Log2(1 / falsePositiveRate) / Math.Log(2);
    }

    internal static void ThrowIfNotProbability(double falsePositiveRate, string? name = null)
    {
        if (!(falsePositiveRate > 0 && falsePositiveRate < 1))
        {
            throw new ArgumentOutOfRangeException(name ?? nameof(falsePositiveRate), falsePositiveRate, "A false-positive rate must lie strictly between 0 and 1.");
        }
    }
}
