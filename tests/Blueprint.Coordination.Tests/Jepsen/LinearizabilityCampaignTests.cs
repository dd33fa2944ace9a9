using Blueprint.Testing.Linearizability;

namespace Blueprint.Coordination.Tests.Jepsen;

/// <summary>
/// Jepsen-style: three member processes, concurrent clients reading, writing and compare-and-setting a few keys
/// through every member, while a nemesis kills -9 and restarts members and partitions them. The whole history must be
/// linearizable: every acknowledged write survives and no read sees a value out of order.
/// </summary>
[Collection(Support.ProcessClusters.Name)]
public sealed class LinearizabilityCampaignTests
{
    [Fact]
    public Task Registers_stay_linearizable_under_kills_and_partitions() =>
        RunAsync(seed: 1, duration: TimeSpan.FromSeconds(20));

    [Fact]
    [Trait("Category", "Long")]
    public async Task Long_campaign_registers_stay_linearizable()
    {
        if (Environment.GetEnvironmentVariable("BLUEPRINT_LONG_TESTS") != "1")
        {
            Assert.Skip("the long fault campaign runs with BLUEPRINT_LONG_TESTS=1");
        }

        for (var seed = 2; seed <= 4; seed++)
        {
            await RunAsync(seed, TimeSpan.FromSeconds(60));
        }
    }

    private static async Task RunAsync(int seed, TimeSpan duration)
    {
        await using var cluster = await ProcessCluster.StartAsync(3);
        var workload = new RegisterWorkload(cluster.Channels, keys: 3, seed);
        var nemesis = new Nemesis(cluster, seed);
        using var stop = new CancellationTokenSource(duration);
        await Task.WhenAll(workload.RunAsync(clients: 6, stop.Token), nemesis.RunAsync(TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(1.5), stop.Token));

        await nemesis.HealAllAsync();
        await cluster.WaitForLeaderAsync(ProcessCluster.StartDeadline);
        await workload.FinalReadsAsync(process: 1_000, member: 0);

        var history = workload.History.ToHistory();
        using var checkDeadline = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        var result = LinearizabilityChecker.CheckRegisters(history, cancellationToken: checkDeadline.Token);
        var context = $"seed {seed}, {history.Operations.Count} operations, {workload.Acknowledged} acknowledged writes\nnemesis:\n{string.Join("\n", nemesis.Log)}\n{result}";
        Assert.True(result.Verdict == Verdict.Linearizable, context);
        Assert.True(workload.Acknowledged > 20, $"too few writes were acknowledged for the check to mean much: {context}\n{cluster.Logs()}");
    }
}
