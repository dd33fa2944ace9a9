using System.Globalization;

using Blueprint.Lab.Experiments;

namespace Blueprint.Lab.Tests.Experiments;

/// <summary>
/// A quick run against real node processes. Latencies and the staleness bounds depend on the machine, so these tests
/// check what does not: every read after an acknowledged write is fresh, every table converges, and the crash loses
/// only what was unflushed.
/// </summary>
public sealed class CachePatternsExperimentTests
{
    private static readonly Lazy<ExperimentResult> QuickRun = new(() =>
        new CachePatternsExperiment().Run(new ExperimentOptions(LabCommand.DefaultSeed, Quick: true), new Progress<double>()));

    [Fact]
    public void QuickRun_Always_StatesEveryClaim()
    {
        Assert.Equal(
            ["write-through-keeps-hot-keys-cached", "write-behind-fewest-database-writes", "write-behind-acknowledges-fastest", "read-through-single-flight",
                "acknowledged-write-is-read", "write-behind-database-lags", "ttl-bounds-staleness", "database-converges", "crash-loses-only-unflushed"],
            QuickRun.Value.Claims.Select(claim => claim.Id));
    }

    [Theory]
    [InlineData("acknowledged-write-is-read")]
    [InlineData("database-converges")]
    [InlineData("crash-loses-only-unflushed")]
    public void QuickRun_CorrectnessClaims_Hold(string id)
    {
        Claim claim = QuickRun.Value.Claims.Single(c => c.Id == id);
        Assert.True(claim.Holds, claim.Measured);
    }

    [Fact]
    public void QuickRun_Crash_AcknowledgesEveryWriteAndLosesNoMoreThanWasUnflushed()
    {
        IReadOnlyList<string> row = QuickRun.Value.Tables.Single(table => table.Title.StartsWith("Write-behind crash", StringComparison.Ordinal)).Rows.Single();
        Assert.Equal(row[0], row[1]);
        Assert.Equal(Number(row[1]), Number(row[4]) + Number(row[5]));
        Assert.InRange(Number(row[5]), 0, Number(row[3]));
    }

    private static double Number(string cell) => double.Parse(cell, NumberStyles.Number, CultureInfo.InvariantCulture);
}
