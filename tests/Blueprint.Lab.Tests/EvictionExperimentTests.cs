using Blueprint.Lab.Experiments;
using Blueprint.Lab.Experiments.Eviction;

namespace Blueprint.Lab.Tests;

public sealed class EvictionExperimentTests
{
    [Fact]
    public void QueuePolicy_RecencySequence_LruRefreshesAndFifoDoesNot()
    {
        // A B A C A with two slots: LRU evicts B for C and hits A twice; FIFO evicts A, the oldest, and hits it once.
        Assert.Equal(2, PolicyChecks.Hits(QueuePolicy.Lru(2), PolicyChecks.RecencySequence));
        Assert.Equal(1, PolicyChecks.Hits(QueuePolicy.Fifo(2), PolicyChecks.RecencySequence));
    }

    [Fact]
    public void LfuPolicy_HotKeyThenScan_KeepsTheHotKeyWhereLruLosesIt()
    {
        Assert.Equal(3, PolicyChecks.Hits(new LfuPolicy(2), PolicyChecks.ScanSequence));
        Assert.Equal(2, PolicyChecks.Hits(QueuePolicy.Lru(2), PolicyChecks.ScanSequence));
    }

    [Fact]
    public void LfuPolicy_TieOnCount_EvictsTheLeastRecentlyUsed()
    {
        // 1 and 2 both reach count 2; 3 evicts 1 (used before 2), then 1 evicts 3 (count 1), so 2 is still there.
        IEvictionPolicy lfu = new LfuPolicy(2);
        Assert.Equal([false, false, true, true, false, false, true], Access(lfu, [1, 2, 1, 2, 3, 1, 2]));
    }

    [Fact]
    public void ExactPolicies_LoopOneLongerThanTheCache_HitNothing()
    {
        // Every count ties on a loop, so LFU's recency tie-break makes it LRU; one slot more and only the first pass misses.
        Assert.Equal(0, PolicyChecks.Hits(QueuePolicy.Lru(3), PolicyChecks.LoopSequence));
        Assert.Equal(0, PolicyChecks.Hits(QueuePolicy.Fifo(3), PolicyChecks.LoopSequence));
        Assert.Equal(0, PolicyChecks.Hits(new LfuPolicy(3), PolicyChecks.LoopSequence));
        Assert.Equal(16, PolicyChecks.Hits(QueuePolicy.Lru(4), PolicyChecks.LoopSequence));
    }

    [Fact]
    public void TtlPolicy_ReadsDoNotExtendTheTtl()
    {
        Assert.Equal([false, true, true, false, true], Access(new TtlPolicy(3), PolicyChecks.ExpirySequence));
    }

    [Fact]
    public void TtlPolicy_DistinctKeys_CountsResidentKeys()
    {
        // TTL 2: one key expires as each new one arrives from time 2 on, so 1, 2, 2, 2 keys are cached.
        TtlPolicy ttl = new(2);
        Assert.Equal([false, false, false, false], Access(ttl, [1, 2, 3, 4]));
        Assert.Equal(2, ttl.PeakResident);
        Assert.Equal(1.75, ttl.MeanResident, 10);
    }

    [Fact]
    public void PolicyChecks_TheExperimentsSimulators_AllPass()
    {
        Assert.Empty(PolicyChecks.Failures());
    }

    [Fact]
    public void PolicyChecks_AnLruThatDoesNotRefreshOnHit_IsCaughtAsFifo()
    {
        // The broken LRU is a FIFO under LRU's name; only the recency sequence tells the two apart.
        IReadOnlyList<string> failures = PolicyChecks.Failures(
            capacity => new QueuePolicy("LRU", capacity, refreshOnHit: false),
            QueuePolicy.Fifo,
            capacity => new LfuPolicy(capacity),
            ttl => new TtlPolicy(ttl));

        Assert.Equal(["LRU refreshes on a hit (A B A C A, 2 slots): expected 2 hits, LRU scored 1"], failures);
    }

    [Fact]
    public void PolicyChecks_AnLfuThatIsReallyLru_IsCaught()
    {
        IReadOnlyList<string> failures = PolicyChecks.Failures(QueuePolicy.Lru, QueuePolicy.Fifo, QueuePolicy.Lru, ttl => new TtlPolicy(ttl));

        Assert.Equal(["LFU keeps the hot key through a scan (A A A B C D A, 2 slots): expected 3 hits, LRU scored 2"], failures);
    }

    [Fact]
    public void Zipf_SameSeed_SameKeysAndTheTopKeysShareMatchesTheLaw()
    {
        const int KeyCount = 1000;
        int[] keys = AccessTraces.Zipf(KeyCount, 1.0, 100_000, new Random(5));

        Assert.Equal(keys, AccessTraces.Zipf(KeyCount, 1.0, 100_000, new Random(5)));
        Assert.NotEqual(keys, AccessTraces.Zipf(KeyCount, 1.0, 100_000, new Random(6)));
        Assert.All(keys, k => Assert.InRange(k, 0, KeyCount - 1));

        // The most popular key has probability 1 / H(1000) = 13.36%; 100,000 draws put it within ±5% of that.
        double harmonic = Enumerable.Range(1, KeyCount).Sum(r => 1.0 / r);
        double topShare = keys.GroupBy(k => k).Max(g => g.Count()) / (double)keys.Length;
        Assert.InRange(topShare, 0.95 / harmonic, 1.05 / harmonic);
    }

    [Fact]
    public void WithScans_KeepsTheRecurringAccessesInOrderAndAddsOneTimeKeys()
    {
        int[] recurring = AccessTraces.Zipf(500, 0.8, 40_000, new Random(1));
        int[] mixed = AccessTraces.WithScans(recurring, 500, scanLength: 50, scanShare: 0.25, new Random(2));

        Assert.Equal(recurring, mixed.Where(k => k < 500));
        int[] scanKeys = [.. mixed.Where(k => k >= 500)];
        Assert.Equal(scanKeys.Length, scanKeys.Distinct().Count());
        Assert.Equal(0, scanKeys.Length % 50);
        Assert.InRange(scanKeys.Length / (double)mixed.Length, 0.20, 0.30);
    }

    [Fact]
    public void FairTtl_ZipfTrace_GivesTheCachesMeanMemory()
    {
        AccessTrace trace = new("t", AccessTraces.Zipf(5000, 1.0, 50_000, new Random(3)), 5000);

        long ttl = Replay.FairTtl(trace, 100);

        Assert.InRange(Replay.Ttl(trace, ttl).MeanResident, 98, 102);
    }

    [Fact]
    public void WTinyLfu_SameTraceTwice_SameHits()
    {
        // Maintenance on the calling thread after each access: no thread-pool timing can change a result.
        AccessTrace trace = new("t", AccessTraces.Zipf(5000, 0.8, 50_000, new Random(4)), 5000);

        ReplayResult first = Replay.Run(new WTinyLfuPolicy(50), trace);
        ReplayResult second = Replay.Run(new WTinyLfuPolicy(50), trace);

        Assert.Equal(first, second);
        Assert.InRange(first.HitRatio, 0.01, 0.99);
    }

    [Fact]
    public void Run_QuickWithASeed_HasEveryTraceAndPolicyAndRepeatsExactly()
    {
        ExperimentOptions options = new(LabCommand.DefaultSeed, Quick: true);

        ExperimentResult result = new EvictionExperiment().Run(options, new Progress<double>());
        ExperimentResult again = new EvictionExperiment().Run(options, new Progress<double>());

        Assert.Equal("eviction", result.Experiment);
        Assert.Equal(
            ["simulators-checked", "lru-beats-fifo-on-skew", "lfu-beats-lru-on-stable-popularity", "scan-flushes-lru", "wtinylfu-scan-resistant",
             "loop-defeats-lru", "wtinylfu-near-best", "ttl-sets-hits-and-memory", "ttl-below-lru-at-equal-memory", "pseudo-lru-tracks-lru"],
            result.Claims.Select(c => c.Id));
        Assert.True(result.Claims.Single(c => c.Id == "simulators-checked").Holds);
        Assert.True(result.Claims.Single(c => c.Id == "loop-defeats-lru").Holds);

        // Four Zipf traces, the scan trace and the loop; then the scan comparison, the equal-memory TTLs and the TTL sweep.
        Assert.Equal(9, result.Tables.Count);
        Assert.All(result.Tables.Take(6), t =>
        {
            Assert.Equal(["policy", "0.1% (10)", "1% (100)", "5% (500)", "10% (1,000)"], t.Headers);
            Assert.Equal(EvictionExperiment.Policies, t.Rows.Select(r => r[0]));
        });
        Assert.Equal(["0.0%", "0.0%", "0.0%", "0.0%"], result.Tables[5].Rows.Single(r => r[0] == "LRU").Skip(1));
        Assert.Equal(EvictionExperiment.TtlSweepFactors.Length, result.Tables[8].Rows.Count);
        Assert.Equal(EvictionExperiment.Policies, result.Plot.Series.Select(s => s.Label));
        Assert.All(result.Plot.Series, s => Assert.Equal(4, s.Ys.Count));

        Assert.Equal(result.Summary, again.Summary);
        Assert.Equal(result.Claims, again.Claims);
        Assert.Equal(result.Tables.SelectMany(t => t.Rows.SelectMany(r => r)), again.Tables.SelectMany(t => t.Rows.SelectMany(r => r)));
    }

    private static bool[] Access(IEvictionPolicy policy, int[] keys) => [.. keys.Select((k, i) => policy.Access(k, i))];
}
