using Blueprint.Core.Raft;

namespace Blueprint.Raft.Tests.Core;

/// <summary>Single-server membership changes (paper §6, thesis §4) and leadership transfer (thesis §3.10).</summary>
public sealed class MembershipTests
{
    [Fact]
    public void AddVoter_NewNodeWithEmptyConfiguration_CatchesUpAndVotes_Thesis4_1()
    {
        var cluster = new TestCluster(3);
        cluster.Elect(1);
        cluster.Add(4, []);
        Assert.True(cluster[1].ProposeConfigChange(new ConfigChange(ConfigChangeKind.AddVoter, 4)).IsAccepted);
        Assert.Equal([1, 2, 3, 4], cluster[1].Voters);
        cluster.Stabilize();
        cluster.Tick(1);
        cluster.Stabilize();
        Assert.Equal([1, 2, 3, 4], cluster[4].Voters);
        Assert.Equal(cluster[1].CommitIndex, cluster[4].CommitIndex);

        // With four voters a quorum is three: two nodes down stop commits.
        cluster.Isolate(3);
        cluster.Isolate(4);
        var result = cluster.Propose(1, 5);
        cluster.Stabilize();
        Assert.True(cluster[1].CommitIndex < result.Index);
    }

    [Fact]
    public void ConfigChange_WhileAnotherIsUncommitted_IsRefused_Thesis4_1()
    {
        var cluster = new TestCluster(3);
        cluster.Elect(1);
        cluster.Isolate(1);
        Assert.True(cluster[1].ProposeConfigChange(new ConfigChange(ConfigChangeKind.AddVoter, 4)).IsAccepted);
        Assert.Equal(ProposeOutcome.ConfigChangeRefused, cluster[1].ProposeConfigChange(new ConfigChange(ConfigChangeKind.AddVoter, 5)).Outcome);
    }

    [Fact]
    public void ConfigChange_BeforeLeaderCommitsInItsTerm_IsRefused_ThesisErrata2015()
    {
        var cluster = new TestCluster(3);
        cluster.ElectWithoutCommitting(1);
        var n1 = cluster[1];
        Assert.Equal(RaftRole.Leader, n1.Role);
        Assert.Equal(ProposeOutcome.ConfigChangeRefused, n1.ProposeConfigChange(new ConfigChange(ConfigChangeKind.RemoveVoter, 3)).Outcome);
    }

    [Fact]
    public void RemoveVoter_Leader_StepsDownOnceCommittedAndOthersElect_Thesis4_2_2()
    {
        var cluster = new TestCluster(3);
        cluster.Elect(1);
        Assert.True(cluster[1].ProposeConfigChange(new ConfigChange(ConfigChangeKind.RemoveVoter, 1)).IsAccepted);
        cluster.Stabilize();
        Assert.Equal(RaftRole.Follower, cluster[1].Role);
        Assert.Equal([2, 3], cluster[2].Voters);
        cluster.Elect(2);
        Assert.Equal(RaftRole.Leader, cluster[2].Role);

        // The removed node never campaigns: it is not a voter of its own configuration.
        long term = cluster[1].Term;
        cluster.Isolate(1);
        cluster.Tick(1, 100);
        Assert.Equal(term, cluster[1].Term);
    }

    [Fact]
    public void Transfer_ToUpToDateVoter_TargetLeadsNextTerm_Thesis3_10()
    {
        var cluster = new TestCluster(3);
        cluster.Elect(1);
        long term = cluster[1].Term;
        Assert.True(cluster[1].TransferLeadership(3));
        cluster.Stabilize();
        Assert.Equal(RaftRole.Leader, cluster[3].Role);
        Assert.Equal(term + 1, cluster[3].Term);
        Assert.Equal(RaftRole.Follower, cluster[1].Role);
    }

    [Fact]
    public void Transfer_TargetBehind_IsCaughtUpFirstAndProposalsWaitMeanwhile_Thesis3_10()
    {
        var cluster = new TestCluster(3);
        cluster.Elect(1);
        cluster.Isolate(3);
        Assert.True(cluster.Propose(1, 4).IsAccepted);
        cluster.Stabilize();
        cluster.Heal();
        Assert.True(cluster[1].TransferLeadership(3));
        Assert.Equal(ProposeOutcome.Transferring, cluster.Propose(1, 5).Outcome);
        cluster.Stabilize();
        Assert.Equal(RaftRole.Leader, cluster[3].Role);
        Assert.Equal(cluster[1].LastIndex, cluster[3].LastIndex);
    }

    [Fact]
    public void Transfer_TargetUnreachable_AbandonedAfterElectionTimeout_Thesis3_10()
    {
        var cluster = new TestCluster(3);
        cluster.Elect(1);
        cluster.Isolate(3);
        Assert.True(cluster[1].TransferLeadership(3));
        Assert.Equal(3, cluster[1].LeadTransferee);
        for (int i = 0; i < 10; i++)
        {
            cluster.Tick(1);
            cluster.Stabilize();
        }

        Assert.Equal(RaftNode.None, cluster[1].LeadTransferee);
        Assert.True(cluster.Propose(1, 6).IsAccepted);
    }
}
