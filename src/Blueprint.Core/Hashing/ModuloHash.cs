namespace Blueprint.Core.Hashing;

/// <summary>
/// The baseline: <c>hash mod n</c>. Balanced, but changing <c>n</c> to <c>n + 1</c> moves about
/// <c>n / (n + 1)</c> of all keys, which is why the consistent schemes exist.
/// </summary>
public static class ModuloHash
{
    /// <summary>Returns <c>hash mod bucketCount</c>.</summary>
    /// <param name="hash">A 64-bit hash of the key.</param>
    /// <param name="bucketCount">The number of buckets; at least 1.</param>
    /// <returns>The bucket index.</returns>
    public static int Bucket(ulong hash, int bucketCount)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(bucketCount, 1);
        return (int)(hash % (ulong)bucketCount);
    }
}
