namespace Blueprint.Lab.Experiments.Eviction;

/// <summary>
/// Hand-computed sequences every exact simulator must score exactly, run before any measurement. Each one pins the
/// behaviour that tells a policy from its neighbours, so a simulator that drifts into another policy fails here.
/// </summary>
internal static class PolicyChecks
{
    /// <summary>A B A C A with two slots: LRU hits the second A and, having refreshed it, the third (2 hits); FIFO evicts A for C (1 hit).</summary>
    public static readonly int[] RecencySequence = [1, 2, 1, 3, 1];

    /// <summary>A A A, then B C D once each, then A, with two slots: LFU keeps A through the scan (3 hits); LRU loses it (2 hits).</summary>
    public static readonly int[] ScanSequence = [1, 1, 1, 2, 3, 4, 1];

    /// <summary>0 1 2 3 five times over with three slots: LRU and FIFO always evict the key needed next (0 hits).</summary>
    public static readonly int[] LoopSequence = AccessTraces.Loop(4, 20);

    /// <summary>One key five times with a TTL of 3: hits at times 1 and 2, expired at 3 despite the hits, hit at 4 (3 hits).</summary>
    public static readonly int[] ExpirySequence = [7, 7, 7, 7, 7];

    /// <summary>Runs every check with the experiment's own simulators.</summary>
    /// <returns>One line per failed check; empty when all hold.</returns>
    public static IReadOnlyList<string> Failures() =>
        Failures(QueuePolicy.Lru, QueuePolicy.Fifo, capacity => new LfuPolicy(capacity), ttl => new TtlPolicy(ttl));

    /// <summary>Runs every check with the given simulators.</summary>
    /// <param name="lru">Creates an LRU of a capacity.</param>
    /// <param name="fifo">Creates a FIFO of a capacity.</param>
    /// <param name="lfu">Creates an LFU of a capacity.</param>
    /// <param name="ttl">Creates an expiry-only cache with a TTL in accesses.</param>
    /// <returns>One line per failed check; empty when all hold.</returns>
    public static IReadOnlyList<string> Failures(
        Func<int, IEvictionPolicy> lru,
        Func<int, IEvictionPolicy> fifo,
        Func<int, IEvictionPolicy> lfu,
        Func<long, IEvictionPolicy> ttl)
    {
        ArgumentNullException.ThrowIfNull(lru);
        ArgumentNullException.ThrowIfNull(fifo);
        ArgumentNullException.ThrowIfNull(lfu);
        ArgumentNullException.ThrowIfNull(ttl);
        List<string> failures = [];
        Expect(failures, "LRU refreshes on a hit (A B A C A, 2 slots)", lru(2), RecencySequence, 2);
        Expect(failures, "FIFO does not refresh on a hit (A B A C A, 2 slots)", fifo(2), RecencySequence, 1);
        Expect(failures, "LFU keeps the hot key through a scan (A A A B C D A, 2 slots)", lfu(2), ScanSequence, 3);
        Expect(failures, "LRU loses the hot key to a scan (A A A B C D A, 2 slots)", lru(2), ScanSequence, 2);
        Expect(failures, "LRU hits nothing on a loop one longer than the cache (4 keys, 3 slots)", lru(3), LoopSequence, 0);
        Expect(failures, "FIFO hits nothing on a loop one longer than the cache (4 keys, 3 slots)", fifo(3), LoopSequence, 0);
        Expect(failures, "TTL expires a key at its age, however often it was read (TTL 3)", ttl(3), ExpirySequence, 3);
        return failures;
    }

    /// <summary>Counts the hits of <paramref name="policy"/> on <paramref name="keys"/>, the index of each access being its time.</summary>
    public static int Hits(IEvictionPolicy policy, IReadOnlyList<int> keys)
    {
        ArgumentNullException.ThrowIfNull(policy);
        ArgumentNullException.ThrowIfNull(keys);
        int hits = 0;
        for (int i = 0; i < keys.Count; i++)
        {
            hits += policy.Access(keys[i], i) ? 1 : 0;
        }

        return hits;
    }

    private static void Expect(List<string> failures, string check, IEvictionPolicy policy, int[] keys, int expectedHits)
    {
        int hits = Hits(policy, keys);
        if (hits != expectedHits)
        {
            failures.Add($"{check}: expected {expectedHits} hits, {policy.Name} scored {hits}");
        }
    }
}
