namespace Blueprint.Core.Hashing;

/// <summary>
/// Jump consistent hash: Lamping &amp; Veach, "A Fast, Minimal Memory, Consistent Hash Algorithm" (2014).
/// Maps a 64-bit key to one of <c>n</c> numbered buckets with no memory and O(ln n) time; growing to
/// <c>n + 1</c> buckets moves exactly the keys that land in the new bucket. Buckets can only be added or
/// removed at the end, so it suits numbered shards, not named nodes that fail at random.
/// </summary>
public static class JumpHash
{
    /// <summary>Returns the bucket in <c>[0, bucketCount)</c> for <paramref name="key"/>.</summary>
    /// <param name="key">A 64-bit key, usually a <see cref="StableHash"/> of the real key.</param>
    /// <param name="bucketCount">The number of buckets; at least 1.</param>
    /// <returns>The bucket index.</returns>
    public static int Bucket(ulong key, int bucketCount)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(bucketCount, 1);
        long b = -1;
        long j = 0;
        while (j < bucketCount)
        {
            b = j;
            // The 64-bit LCG from the paper drives the sequence of jumps; the constants are part of the published algorithm.
            key = (key * 2862933555777941757UL) + 1;
            j = (long)((b + 1) * ((double)(1L << 31) / ((key >> 33) + 1)));
        }

        return (int)b;
    }
}
