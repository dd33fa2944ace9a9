using Blueprint.Core.Raft;

namespace Blueprint.Raft.Tests.Core;

/// <summary>Leader election (paper §5.2, §5.4.1) with pre-vote and check-quorum (thesis §9.6).</summary>
public sealed class ElectionTests
{
    private static int RunUntilLeader(TestCluster cluster, int ticksMax = 100)
    {
        for (int tick = 0; tick < ticksMax; tick++)
        {
            cluster.TickAll();
            cluster.Stabilize();
            var leaders = cluster.Ids.Where(id => cluster[id].Role == RaftRole.Leader).ToList();
            if (leaders.Count > 0)
            {
                return Assert.Single(leaders);
            }
        }

        Assert.Fail("no leader elected");
        return 0;
    }

    /// <summary>n3 misses an entry n1 and n2 hold; with n1 gone, n3 asks n2 for its vote.</summary>
    private static TestCluster StaleCandidateCampaigns(RaftBugs bugs)
    {
        var cluster = new TestCluster(3, c => c with { Bugs = bugs });
        cluster.Elect(1);
        cluster.Isolate(3);
        Assert.True(cluster.Propose(1, 11).IsAccepted);
        cluster.Stabilize();
        cluster.Heal();
        cluster.Isolate(1);
        cluster.Elect(3);
        return cluster;
    }

    [Fact]
    public void Election_FollowersTimeOut_ExactlyOneLeaderWithinTwoTimeouts_Paper5_2()
    {
        var cluster = new TestCluster(5);
        int leader = RunUntilLeader(cluster, ticksMax: 2 * 10 + 1);
        Assert.All(cluster.Ids, id => Assert.Equal(leader, cluster[id].LeaderId));
        Assert.All(cluster.Ids, id => Assert.Equal(cluster[leader].Term, cluster[id].Term));
    }

    [Fact]
    public void Election_NewLeader_CommitsEmptyEntryOfItsTerm_Paper5_4_2()
    {
        var cluster = new TestCluster(3);
        cluster.Elect(2);
        var entry = cluster[2].EntryAt(cluster[2].CommitIndex);
        Assert.Equal(EntryKind.Empty, entry.Kind);
        Assert.Equal(cluster[2].Term, entry.Term);
    }

    [Fact]
    public void Election_CandidateWithStaleLog_LosesToUpToDateVoters_Paper5_4_1()
    {
        var cluster = StaleCandidateCampaigns(RaftBugs.None);
        Assert.NotEqual(RaftRole.Leader, cluster[3].Role);
        cluster.Elect(2);
        Assert.Equal(RaftRole.Leader, cluster[2].Role);
    }

    [Fact]
    public void Election_VoteWithoutLogCheckBug_ElectsStaleCandidate()
    {
        var cluster = StaleCandidateCampaigns(RaftBugs.VoteWithoutLogCheck);
        Assert.Equal(RaftRole.Leader, cluster[3].Role);
    }

    [Fact]
    public void Election_VoteSurvivesRestart_NoSecondVoteInTerm_PaperFigure2()
    {
        var cluster = new TestCluster(3);
        cluster.Elect(1);
        long term = cluster[1].Term;
        cluster.Restart(2);
        Assert.Equal(term, cluster[2].Term);
        Assert.Equal(1, cluster[2].Vote);
    }

    [Fact]
    public void Election_VoteNotPersistedBug_RestartForgetsVote()
    {
        var cluster = new TestCluster(3, c => c with { Bugs = RaftBugs.VoteNotPersisted });
        cluster.Elect(1);
        cluster.Restart(2);
        Assert.Equal(RaftNode.None, cluster[2].Vote);
    }

    [Fact]
    public void PreVote_PartitionedNodeCampaigns_DoesNotRaiseAnyTerm_Thesis9_6()
    {
        var cluster = new TestCluster(3);
        cluster.Elect(1);
        long term = cluster[1].Term;
        cluster.Isolate(3);
        for (int i = 0; i < 100; i++)
        {
            cluster.Tick(3);
            cluster.Stabilize();
        }

        Assert.Equal(term, cluster[3].Term);
        cluster.Heal();
        cluster.TickAll();
        cluster.Stabilize();
        Assert.Equal(RaftRole.Leader, cluster[1].Role);
        Assert.Equal(term, cluster[1].Term);
    }

    [Fact]
    public void PreVote_Off_PartitionedNodeRaisesItsTermAndDeposesLeaderOnReturn_Thesis9_6()
    {
        var cluster = new TestCluster(3, c => c with { PreVote = false, CheckQuorum = false });
        cluster.Elect(1);
        long term = cluster[1].Term;
        cluster.Isolate(3);
        cluster.Tick(3, 100);
        cluster.Stabilize();
        Assert.True(cluster[3].Term > term);
        cluster.Heal();
        cluster.Tick(3, 20);
        cluster.Stabilize();
        Assert.True(cluster[1].Term > term);
    }

    [Fact]
    public void CheckQuorum_LeaderCutOff_StepsDownAfterElectionTimeout_Thesis6_2()
    {
        var cluster = new TestCluster(3);
        cluster.Elect(1);
        cluster.Isolate(1);
        cluster.Tick(1, 2 * 10);
        Assert.Equal(RaftRole.Follower, cluster[1].Role);
    }

    [Fact]
    public void CheckQuorum_FollowerHearingLeader_IgnoresVoteRequest_Thesis9_6()
    {
        var cluster = new TestCluster(3);
        cluster.Elect(1);
        long term = cluster[1].Term;
        var n2 = cluster[2];
        n2.Step(new Message { Type = MessageType.Vote, From = 3, To = 2, Term = term + 1, Index = 100, LogTerm = term });
        Assert.Equal(term, n2.Term);
        Assert.Equal(1, n2.LeaderId);
    }
}
