using Blueprint.Core.Raft;

namespace Blueprint.Raft.Tests.Core;

/// <summary>The commit rule of paper §5.4.2, in the situation of its Figure 8.</summary>
public sealed class CommitRuleTests
{
    /// <summary>
    /// Figure 8 with three nodes: n1 leads term 1 and keeps entry 2 to itself; n3 leads term 2 and writes its own entry
    /// 2 without replicating it; n1 leads term 3 and copies its old entry 2 to n2, one entry per message. Entry 2 now
    /// sits on a majority, yet n3 (last term 2, beating n2's 1) can still win and overwrite it.
    /// </summary>
    private static TestCluster Figure8(RaftBugs bugs)
    {
        var cluster = new TestCluster(3, c => c with { MaxEntriesPerMessage = 1, Bugs = bugs });
        cluster.Elect(1);
        cluster.Isolate(1);
        Assert.Equal(2, cluster.Propose(1, 10).Index);
        cluster.Process();
        cluster.Heal();
        cluster.Restart(1);

        cluster.Isolate(1);
        WinWithoutReplicating(cluster, 3);
        Assert.Equal(3, cluster.Propose(3, 30).Index);
        cluster.Process();
        cluster.Queue.Clear();
        cluster.Heal();
        cluster.Restart(3);
        cluster.Isolate(3);

        WinWithoutReplicating(cluster, 1);
        var n1 = cluster[1];
        Assert.Equal(3, n1.Term);
        n1.Tick();
        for (int i = 0; i < 10; i++)
        {
            // n1's own term-3 entry never arrives: only its old entry 2 reaches n2.
            // Probes that n2 rejects still go through; the message that would carry entry 3 after a match does not.
            cluster.Drop(m => m.Type == MessageType.Append && m.Entries.Any(e => e.Term == 3) && cluster[m.To].TermAt(m.Index) == m.LogTerm);
            cluster.DeliverOnce();
        }

        Assert.Equal(1, cluster[2].TermAt(2));
        return cluster;
    }

    private static void WinWithoutReplicating(TestCluster cluster, int id)
    {
        Win(cluster, id);
        cluster.Queue.Clear();
    }

    private static void Win(TestCluster cluster, int id)
    {
        // A restarted node may first campaign in a term its peers already voted in; it then tries the next one.
        var node = cluster[id];
        cluster.ElectWithoutCommitting(id);
        for (int tick = 0; tick < 40 && node.Role != RaftRole.Leader; tick++)
        {
            node.Tick();
            cluster.DeliverOnce();
            cluster.DeliverOnce();
        }

        Assert.Equal(RaftRole.Leader, node.Role);
    }

    [Fact]
    public void Commit_OldTermEntryOnMajority_IsNotCommittedAndMayBeOverwritten_Paper5_4_2Figure8()
    {
        var cluster = Figure8(RaftBugs.None);
        Assert.Equal(1, cluster[1].CommitIndex);

        // n1 crashes; n3 comes back and wins with n2's vote, replacing entry 2: no committed entry was lost.
        cluster.Heal();
        cluster.Isolate(1);
        cluster.Restart(3);
        cluster.Tick(2, 10); // n2 stops hearing from n1 for an election timeout
        Win(cluster, 3);
        cluster.Stabilize();
        Assert.Equal(2, cluster[2].TermAt(2));
        Assert.Equal(30L, TestCluster.Command(cluster[2].EntryAt(3)));
    }

    [Fact]
    public void Commit_CountingBug_CommitsOldTermEntry_Figure8()
    {
        var cluster = Figure8(RaftBugs.CommitOldTermByCount);
        Assert.Equal(2, cluster[1].CommitIndex);
        Assert.Contains(10L, cluster.Node(1).AppliedCommands);
    }
}
