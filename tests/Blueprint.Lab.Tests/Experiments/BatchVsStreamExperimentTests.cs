using System.Globalization;

using Blueprint.Lab.Experiments;

namespace Blueprint.Lab.Tests.Experiments;

/// <summary>
/// A quick run against a real node process. Verdicts on speed depend on the machine, so these tests check what does not:
/// the answers of the two schedules, and the counts a broken client setting or statistics reader would change.
/// </summary>
public sealed class BatchVsStreamExperimentTests
{
    private static readonly Lazy<ExperimentResult> QuickRun = new(() =>
        new BatchVsStreamExperiment().Run(new ExperimentOptions(LabCommand.DefaultSeed, Quick: true), new Progress<double>()));

    [Fact]
    public void QuickRun_Always_StatesEveryClaim()
    {
        Assert.Equal(
            ["batching-raises-throughput", "linger-fills-batches", "linger-costs-latency", "no-linger-is-quickest", "same-answer", "batch-amortizes", "stream-is-fresh"],
            QuickRun.Value.Claims.Select(claim => claim.Id));
    }

    [Fact]
    public void QuickRun_BatchAndStream_GiveTheGeneratorsAnswer()
    {
        Claim same = QuickRun.Value.Claims.Single(claim => claim.Id == "same-answer");
        Assert.True(same.Holds, same.Measured);
        ResultTable job = Table("One job");
        Assert.Equal(["equal", "equal"], job.Rows.Select(row => row[^1]));
    }

    [Fact]
    public void QuickRun_ProducerSettings_ShapeTheRequests()
    {
        ResultTable sweep = Table("Producer batching");
        Assert.Equal(["1 record per request", "linger.ms=0", "linger.ms=5", "linger.ms=100"], sweep.Rows.Select(row => row[0]));

        // One record per request is exactly that; a 100 ms linger at 2,000 records/s collects far more than one.
        Assert.Equal(1.0, Number(sweep.Rows[0][2]));
        Assert.True(Number(sweep.Rows[^1][3]) > 20, $"records per request at linger.ms=100: {sweep.Rows[^1][3]}");
        Assert.All(sweep.Rows, row => Assert.True(Number(row[1]) > 0, $"{row[0]}: no throughput measured"));
    }

    private static ResultTable Table(string titleStart) =>
        QuickRun.Value.Tables.Single(table => table.Title.StartsWith(titleStart, StringComparison.Ordinal));

    private static double Number(string cell) => double.Parse(cell, NumberStyles.Number, CultureInfo.InvariantCulture);
}
