using Blueprint.Lab.Experiments;

namespace Blueprint.Lab.Tests.Experiments;

/// <summary>
/// A quick run against a real notify node process. Times depend on the machine, so these tests check what does not:
/// every confirmed webhook gets every message once, for each fan-out.
/// </summary>
public sealed class NotificationFanOutExperimentTests
{
    private static readonly Lazy<ExperimentResult> QuickRun = new(() =>
        new NotificationFanOutExperiment().Run(new ExperimentOptions(LabCommand.DefaultSeed, Quick: true), new Progress<double>()));

    [Fact]
    public void QuickRun_Always_StatesEveryClaim()
    {
        Assert.Equal(["every-subscriber-once", "last-grows-linearly", "first-stays-flat"], QuickRun.Value.Claims.Select(claim => claim.Id));
    }

    [Fact]
    public void QuickRun_EveryFanOut_DeliversToEverySubscriberOnce()
    {
        Claim once = QuickRun.Value.Claims[0];
        Assert.True(once.Holds, once.Measured);
        ResultTable table = Assert.Single(QuickRun.Value.Tables);
        Assert.Equal(["1", "10", "50"], table.Rows.Select(row => row[0]));
        Assert.Equal(["5 of 5", "50 of 50", "250 of 250"], table.Rows.Select(row => row[1]));
        Assert.All(table.Rows, row => Assert.Equal("0", row[2]));
    }
}
