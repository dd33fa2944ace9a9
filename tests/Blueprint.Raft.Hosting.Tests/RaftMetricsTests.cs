using System.Diagnostics.Metrics;
using Blueprint.Core.Raft;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace Blueprint.Raft.Hosting.Tests;

public sealed class RaftMetricsTests
{
    private static readonly RaftMember[] ThreeMembers = RaftHostTests.ThreeMembers;

    private static Dictionary<string, double> Read(IMeterFactory meters, string name) =>
        Instruments.Observe(meters, name).ToDictionary(r => $"{r.Tags["group"]}/{r.Tags["member"]}", r => r.Value);

    [Fact]
    public async Task The_gauges_report_each_host_s_role_term_commit_index_and_leader()
    {
        var cancellationToken = TestContext.Current.CancellationToken;
        using var services = new ServiceCollection().AddMetrics().BuildServiceProvider();
        var meters = services.GetRequiredService<IMeterFactory>();
        var metrics = new RaftMetrics(meters);
        // A single voter elects itself at start; a member of three on a clock that never ticks stays a follower.
        await using var leader = new RaftHost(new RaftHostOptions { NodeId = 1, Name = "n1", InitialMembers = [ThreeMembers[0]] }, new MemoryRaftStorage([1]), new KvStateMachine(), NullLoggerFactory.Instance, new FakeTimeProvider());
        await using var follower = new RaftHost(new RaftHostOptions { NodeId = 2, Name = "n2", InitialMembers = ThreeMembers }, new MemoryRaftStorage([1, 2, 3]), new KvStateMachine(), NullLoggerFactory.Instance, new FakeTimeProvider());
        metrics.Add("coordination", leader);
        metrics.Add("log", follower);
        await leader.StartAsync(cancellationToken);
        await follower.StartAsync(cancellationToken);
        await Wait.UntilAsync(() => leader.IsLeader, "a single voter elects itself when it starts");
        for (var i = 0; i < 5; i++)
        {
            await leader.ProposeAsync(KvStateMachine.Set($"k{i}", "v"), cancellationToken);
        }

        Assert.Equal(new Dictionary<string, double> { ["coordination/1"] = 2, ["log/2"] = 0 }, Read(meters, RaftMetrics.RoleMetric));
        Assert.Equal(new Dictionary<string, double> { ["coordination/1"] = 1, ["log/2"] = 0 }, Read(meters, RaftMetrics.LeaderMetric));
        Assert.Equal(leader.Term, Read(meters, RaftMetrics.TermMetric)["coordination/1"]);
        Assert.True(leader.Term >= 1);
        var committed = Read(meters, RaftMetrics.CommitIndexMetric)["coordination/1"];
        Assert.Equal(leader.CommitIndex, committed);
        Assert.True(committed >= 5, $"commit index {committed} after five proposals");
    }

    [Theory]
    [InlineData(RaftRole.Follower, 0)]
    [InlineData(RaftRole.PreCandidate, 1)]
    [InlineData(RaftRole.Candidate, 1)]
    [InlineData(RaftRole.Leader, 2)]
    public void Roles_map_to_the_gauge_s_values(RaftRole role, long value) => Assert.Equal(value, RaftMetrics.RoleValue(role));
}
