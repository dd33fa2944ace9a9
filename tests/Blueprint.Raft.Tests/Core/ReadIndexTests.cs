using Blueprint.Core.Raft;

namespace Blueprint.Raft.Tests.Core;

/// <summary>Linearizable reads: ReadIndex (thesis §6.4) and leases (thesis §6.4.1).</summary>
public sealed class ReadIndexTests
{
    [Fact]
    public void ReadIndex_DeposedLeaderCutOff_NeverAnswers_Thesis6_4()
    {
        var cluster = new TestCluster(3, c => c with { CheckQuorum = false });
        cluster.Elect(1);
        cluster.Isolate(1);
        cluster.Elect(2);
        Assert.True(cluster.Propose(2, 42).IsAccepted);
        cluster.Stabilize();
        Assert.True(cluster[1].ReadIndex(100));
        cluster.Stabilize();
        Assert.Equal(RaftRole.Leader, cluster[1].Role);
        Assert.Empty(cluster.Node(1).ReadStates);
    }
}

/// <summary>Leases (thesis §6.4.1) and how leadership transfer ends them.</summary>
public sealed class LeaseTests
{
    private static TestCluster LeaseCluster(RaftBugs bugs = RaftBugs.None) =>
        new(3, c => c with { LeaseRead = true, LeaseTicks = 5, Bugs = bugs });

    private static void Heartbeat(TestCluster cluster, int leader)
    {
        cluster.Tick(leader);
        cluster.Stabilize();
    }

    /// <summary>n1 holds a lease, hands leadership to n2, is cut off while n2 commits a write, then is asked to read.</summary>
    private static TestCluster ReadOnOldLeaderAfterTransfer(RaftBugs bugs)
    {
        var cluster = LeaseCluster(bugs);
        cluster.Elect(1);
        Heartbeat(cluster, 1);
        Assert.True(cluster[1].TransferLeadership(2));
        cluster.Stabilize();
        Assert.Equal(RaftRole.Leader, cluster[2].Role);
        long oldCommit = cluster[1].CommitIndex;
        cluster.Isolate(1);
        Assert.True(cluster.Propose(2, 5).IsAccepted);
        cluster.Stabilize();
        Assert.True(cluster[2].CommitIndex > oldCommit);
        cluster[1].ReadIndex(8);
        cluster.Process();
        return cluster;
    }

    [Fact]
    public void Lease_QuorumAnsweredHeartbeat_AnswersReadAtOnce_Thesis6_4_1()
    {
        var cluster = LeaseCluster();
        cluster.Elect(1);
        Heartbeat(cluster, 1);
        Assert.True(cluster[1].ReadIndex(7));
        cluster.Process();
        Assert.Equal(new ReadState(7, cluster[1].CommitIndex), Assert.Single(cluster.Node(1).ReadStates));
        Assert.DoesNotContain(cluster.Queue, m => m.Type == MessageType.Heartbeat);
    }

    [Fact]
    public void Lease_Expired_FallsBackToQuorumRound_Thesis6_4_1()
    {
        var cluster = LeaseCluster();
        cluster.Elect(1);
        Heartbeat(cluster, 1);
        cluster.Isolate(1);
        cluster.Tick(1, 6);
        Assert.True(cluster[1].ReadIndex(7));
        cluster.Stabilize();
        Assert.Empty(cluster.Node(1).ReadStates);
    }

    [Fact]
    public void Lease_AfterTransfer_OldLeaderNoLongerAnswers_Thesis3_10()
    {
        var cluster = ReadOnOldLeaderAfterTransfer(RaftBugs.None);
        Assert.DoesNotContain(cluster.Node(1).ReadStates, r => r.RequestId == 8);
    }

    [Fact]
    public void Lease_KeptOnStepDownBug_OldLeaderAnswersStaleRead()
    {
        var cluster = ReadOnOldLeaderAfterTransfer(RaftBugs.LeaseKeptOnStepDown);
        var read = Assert.Single(cluster.Node(1).ReadStates, r => r.RequestId == 8);
        Assert.True(read.Index < cluster[2].CommitIndex);
    }
}

/// <summary>ReadIndex through followers and the limits on reads (thesis §6.4).</summary>
public sealed class FollowerReadTests
{
    [Fact]
    public void ReadIndex_OnFollower_ForwardedAndAnsweredWithLeadersCommit_Thesis6_4()
    {
        var cluster = new TestCluster(3);
        cluster.Elect(1);
        cluster.Propose(1, 3);
        cluster.Stabilize();
        Assert.True(cluster[2].ReadIndex(5));
        cluster.Stabilize();
        var read = Assert.Single(cluster.Node(2).ReadStates);
        Assert.Equal(new ReadState(5, cluster[1].CommitIndex), read);
    }

    [Fact]
    public void ReadIndex_NewLeaderBeforeCommittingInItsTerm_Refused_Thesis6_4()
    {
        var cluster = new TestCluster(3);
        cluster.ElectWithoutCommitting(1);
        var n1 = cluster[1];
        Assert.Equal(RaftRole.Leader, n1.Role);
        Assert.False(n1.ReadIndex(1));
    }

    [Fact]
    public void ReadIndex_PendingLimitReached_Refused()
    {
        var cluster = new TestCluster(3, c => c with { MaxPendingReads = 2 });
        cluster.Elect(1);
        cluster.Isolate(1);
        Assert.True(cluster[1].ReadIndex(1));
        Assert.True(cluster[1].ReadIndex(2));
        Assert.False(cluster[1].ReadIndex(3));
    }

    [Fact]
    public void ReadIndex_WithoutQuorumCheckBug_CutOffLeaderAnswers()
    {
        var cluster = new TestCluster(3, c => c with { CheckQuorum = false, Bugs = RaftBugs.ReadWithoutQuorumCheck });
        cluster.Elect(1);
        cluster.Isolate(1);
        Assert.True(cluster[1].ReadIndex(100));
        cluster.Process();
        Assert.Single(cluster.Node(1).ReadStates);
    }
}
