using System.Globalization;

using Blueprint.Lab.Experiments;

namespace Blueprint.Lab.Tests.Experiments;

/// <summary>
/// A quick run against a real node process. Latencies and windows depend on the machine, so these tests check what
/// does not: the claims stated, the hit ratios of a seeded load in virtual time, and the counts a broken reconciler
/// or a near cache that never hits would change.
/// </summary>
public sealed class LocalVsDistributedCacheExperimentTests
{
    private static readonly Lazy<ExperimentResult> QuickRun = new(() =>
        new LocalVsDistributedCacheExperiment().Run(new ExperimentOptions(LabCommand.DefaultSeed, Quick: true), new Progress<double>()));

    [Fact]
    public void QuickRun_Always_StatesEveryClaim()
    {
        Assert.Equal(
            ["near-hit-100x", "ttl-raises-hit-ratio", "size-raises-hit-ratio", "invalidation-is-prompt", "lost-invalidation-is-bounded"],
            QuickRun.Value.Claims.Select(claim => claim.Id));
    }

    [Fact]
    public void QuickRun_HitRatios_RiseWithTtlAndSize()
    {
        Assert.True(Claim("ttl-raises-hit-ratio").Holds, Claim("ttl-raises-hit-ratio").Measured);
        Assert.True(Claim("size-raises-hit-ratio").Holds, Claim("size-raises-hit-ratio").Measured);
        ResultTable hits = Table("Near hit ratio");
        Assert.All(hits.Rows, row => Assert.InRange(Percent(row[2]), 1, 99));
    }

    [Fact]
    public void QuickRun_DroppedInvalidations_AreEachFoundByReconciliation()
    {
        // Without reconciliation the reader would never see the new value and the run would time out; with a
        // reconciler that misses gaps this count would fall short of the writes.
        ResultTable staleness = Table("Staleness window");
        IReadOnlyList<string> dropped = staleness.Rows.Single(row => row[0] == "all dropped");
        Assert.True(Number(dropped[^1]) >= Number(dropped[1]), $"gaps found {dropped[^1]} for {dropped[1]} writes");
    }

    [Fact]
    public void QuickRun_NearHits_AreCounted()
    {
        ResultTable latency = Table("Read latency");
        Assert.Equal(["network GET (StackExchange.Redis)", "distributed hit (HybridCache, near off)", "near hit (BlueprintCache)"], latency.Rows.Select(row => row[0]));
        Assert.Contains($"ran {latency.Rows[^1][1]} times", QuickRun.Value.Summary, StringComparison.Ordinal);
    }

    private static Claim Claim(string id) => QuickRun.Value.Claims.Single(claim => claim.Id == id);

    private static ResultTable Table(string titleStart) =>
        QuickRun.Value.Tables.Single(table => table.Title.StartsWith(titleStart, StringComparison.Ordinal));

    private static double Number(string cell) => double.Parse(cell, NumberStyles.Number, CultureInfo.InvariantCulture);

    private static double Percent(string cell) => Number(cell.TrimEnd('%'));
}
