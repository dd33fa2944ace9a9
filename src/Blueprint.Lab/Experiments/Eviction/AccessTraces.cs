namespace Blueprint.Lab.Experiments.Eviction;

/// <summary>A sequence of key accesses replayed through every policy.</summary>
/// <param name="Name">The short name used in tables.</param>
/// <param name="Keys">The accesses in order.</param>
/// <param name="DistinctKeys">The size of the recurring key space; keys at or above it are one-time scan keys.</param>
internal sealed record AccessTrace(string Name, int[] Keys, int DistinctKeys);

/// <summary>Seeded synthetic traces: Zipf popularity, the same with one-time scans mixed in, and a loop.</summary>
internal static class AccessTraces
{
    /// <summary>
    /// Independent accesses over <paramref name="keyCount"/> keys where the key of popularity rank r is drawn with
    /// probability ∝ 1/r^<paramref name="skew"/> (a Zipf law; s = 0 is uniform, s ≥ 1 puts most accesses on a few
    /// keys). Ranks are mapped to keys through a seeded shuffle, so hot keys are not the small numbers.
    /// </summary>
    public static int[] Zipf(int keyCount, double skew, int length, Random random)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(keyCount, 1);
        ArgumentNullException.ThrowIfNull(random);
        double[] cumulative = new double[keyCount];
        double total = 0;
        for (int rank = 0; rank < keyCount; rank++)
        {
            total += 1 / Math.Pow(rank + 1, skew);
            cumulative[rank] = total;
        }

        int[] keyOfRank = [.. Enumerable.Range(0, keyCount)];
        random.Shuffle(keyOfRank);

        int[] keys = new int[length];
        for (int i = 0; i < length; i++)
        {
            int rank = Array.BinarySearch(cumulative, random.NextDouble() * total);
            keys[i] = keyOfRank[rank < 0 ? Math.Min(~rank, keyCount - 1) : rank];
        }

        return keys;
    }

    /// <summary>
    /// <paramref name="recurring"/> with sequential scans of <paramref name="scanLength"/> never-repeated keys inserted
    /// between its accesses, so that scans make up about <paramref name="scanShare"/> of the result. The recurring
    /// accesses keep their order, so their hit ratio can be compared with and without the scans.
    /// </summary>
    public static int[] WithScans(int[] recurring, int distinctKeys, int scanLength, double scanShare, Random random)
    {
        ArgumentNullException.ThrowIfNull(recurring);
        ArgumentNullException.ThrowIfNull(random);
        ArgumentOutOfRangeException.ThrowIfLessThan(scanLength, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(scanShare, 0.01);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(scanShare, 0.9);

        // Gaps between scans are exponential with the mean that gives the wanted share of scan accesses.
        double meanGap = scanLength * (1 - scanShare) / scanShare;
        List<int> keys = new((int)(recurring.Length / (1 - scanShare)) + scanLength);
        int nextScanKey = distinctKeys;
        int position = 0;
        while (position < recurring.Length)
        {
            int gap = Math.Max(1, (int)(-Math.Log(1 - random.NextDouble()) * meanGap));
            int end = Math.Min(recurring.Length, position + gap);
            keys.AddRange(recurring.AsSpan(position, end - position));
            position = end;
            if (position < recurring.Length)
            {
                for (int i = 0; i < scanLength; i++)
                {
                    keys.Add(nextScanKey++);
                }
            }
        }

        return [.. keys];
    }

    /// <summary>Keys 0, 1, …, <paramref name="loopLength"/> − 1 over and over, <paramref name="length"/> accesses in all.</summary>
    public static int[] Loop(int loopLength, int length)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(loopLength, 1);
        int[] keys = new int[length];
        for (int i = 0; i < length; i++)
        {
            keys[i] = i % loopLength;
        }

        return keys;
    }
}
