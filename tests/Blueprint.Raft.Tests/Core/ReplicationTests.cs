using Blueprint.Core.Raft;

namespace Blueprint.Raft.Tests.Core;

/// <summary>Log replication and the consistency check (paper §5.3).</summary>
public sealed class ReplicationTests
{
    /// <summary>n1 leads, appends <paramref name="count"/> entries nobody else gets, and is cut off while n2 takes over.</summary>
    private static TestCluster OldLeaderCutOffWithEntries(int count)
    {
        var cluster = new TestCluster(3);
        cluster.Elect(1);
        cluster.Isolate(1);
        for (long command = 100; command < 100 + count; command++)
        {
            cluster.Propose(1, command);
        }

        cluster.Process();
        cluster.Heal();
        cluster.Isolate(1);
        cluster.Elect(2);
        return cluster;
    }

    [Fact]
    public void Replication_ProposalOnLeader_CommittedAndAppliedEverywhereInOrder_Paper5_3()
    {
        var cluster = new TestCluster(3);
        cluster.Elect(1);
        for (long command = 1; command <= 5; command++)
        {
            Assert.True(cluster.Propose(1, command).IsAccepted);
        }

        cluster.Stabilize();
        cluster.Tick(1);
        cluster.Stabilize();
        Assert.All(cluster.Ids, id => Assert.Equal([1L, 2, 3, 4, 5], cluster.Node(id).AppliedCommands));
    }

    [Fact]
    public void Replication_ProposalOnFollower_RefusedNotLeader()
    {
        var cluster = new TestCluster(3);
        cluster.Elect(1);
        Assert.Equal(ProposeOutcome.NotLeader, cluster.Propose(2, 1).Outcome);
    }

    [Fact]
    public void Replication_UncommittedLimit_RefusesWithFull()
    {
        var cluster = new TestCluster(3, c => c with { MaxUncommittedEntries = 2 });
        cluster.Elect(1);
        cluster.Isolate(1);
        Assert.True(cluster.Propose(1, 1).IsAccepted);
        Assert.True(cluster.Propose(1, 2).IsAccepted);
        Assert.Equal(ProposeOutcome.Full, cluster.Propose(1, 3).Outcome);
    }

    [Fact]
    public void Replication_FollowerWithConflictingSuffix_IsOverwrittenByLeader_Paper5_3Figure7()
    {
        var cluster = OldLeaderCutOffWithEntries(5);
        Assert.True(cluster.Propose(2, 7).IsAccepted);
        cluster.Stabilize();
        cluster.Heal();
        for (int i = 0; i < 5; i++)
        {
            cluster.Tick(2);
            cluster.Stabilize();
        }

        Assert.Equal(cluster[2].LastIndex, cluster[1].LastIndex);
        Assert.DoesNotContain(100L, cluster.Node(1).AppliedCommands);
        Assert.Contains(7L, cluster.Node(1).AppliedCommands);
    }

    [Fact]
    public void Replication_ConflictSpanningATerm_BacksOffPastTheTermInOneRoundTrip_Paper5_3FastBackoff()
    {
        var cluster = OldLeaderCutOffWithEntries(20);
        for (long command = 200; command < 220; command++)
        {
            cluster.Propose(2, command);
        }

        cluster.Stabilize();
        cluster.Elect(3);
        cluster.Heal();
        cluster.Queue.Clear();
        cluster.Tick(3);

        // n3 starts at its last index; one rejection's hint skips all of n1's twenty conflicting term-1 entries.
        int rejections = 0;
        for (int round = 0; round < 10; round++)
        {
            cluster.Process();
            rejections += cluster.Queue.Count(m => m.Type == MessageType.AppendResponse && m.Reject && m.From == 1);
            cluster.DeliverOnce();
        }

        Assert.Equal(1, rejections);
        Assert.Equal(cluster[3].LastIndex, cluster[1].LastIndex);
        Assert.Equal(cluster[3].TermAt(cluster[3].LastIndex), cluster[1].TermAt(cluster[1].LastIndex));
    }

    /// <summary>Hands n2 an AppendEntries whose prevLogTerm does not match its last entry; returns n2 and its last index before.</summary>
    private static (RaftNode Node, long LastBefore) StepMismatchedAppend(RaftBugs bugs)
    {
        var cluster = new TestCluster(3, c => c with { Bugs = bugs });
        cluster.Elect(1);
        var n2 = cluster[2];
        long last = n2.LastIndex;
        n2.Step(new Message
        {
            Type = MessageType.Append,
            From = 1,
            To = 2,
            Term = n2.Term,
            Index = last,
            LogTerm = n2.Term + 5,
            Entries = [new LogEntry(last + 1, n2.Term, EntryKind.Normal, new byte[8])],
        });
        return (n2, last);
    }

    [Fact]
    public void Replication_AppendWithMismatchedPrevious_IsRejected_Paper5_3ConsistencyCheck()
    {
        var (n2, last) = StepMismatchedAppend(RaftBugs.None);
        Assert.Equal(last, n2.LastIndex);
        var ready = n2.Ready();
        Assert.Contains(ready.Messages, m => m.Type == MessageType.AppendResponse && m.Reject);
    }

    [Fact]
    public void Replication_SkipLogMatchingBug_AcceptsMismatchedPrevious()
    {
        var (n2, last) = StepMismatchedAppend(RaftBugs.SkipLogMatchingCheck);
        Assert.Equal(last + 1, n2.LastIndex);
    }

    [Fact]
    public void Ready_EntriesPersistedBeforeMessages_RestartKeepsAcknowledgedEntries()
    {
        var cluster = new TestCluster(3);
        cluster.Elect(1);
        Assert.True(cluster.Propose(1, 9).IsAccepted);
        cluster.Stabilize();
        long acknowledged = cluster[2].LastIndex;
        cluster.Restart(2);
        Assert.Equal(acknowledged, cluster[2].LastIndex);
        Assert.Equal(acknowledged, cluster.Node(2).Storage.LastIndex);
    }
}
