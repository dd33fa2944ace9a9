using Blueprint.Core.Raft;

namespace Blueprint.Raft.Tests.Core;

/// <summary>Snapshots, log compaction and InstallSnapshot (paper §7).</summary>
public sealed class SnapshotTests
{
    [Fact]
    public void Compact_AppliedPrefix_DropsEntriesAndKeepsTermOfLastOne_Paper7()
    {
        var cluster = new TestCluster(3);
        cluster.Elect(1);
        for (long command = 1; command <= 5; command++)
        {
            cluster.Propose(1, command);
        }

        cluster.Stabilize();
        var n1 = cluster[1];
        long applied = n1.AppliedIndex;
        long term = n1.TermAt(applied);
        var snapshot = n1.Compact(applied, new byte[] { 1, 2, 3 });
        cluster.Node(1).Storage.SaveSnapshot(snapshot);
        Assert.Equal(applied, n1.SnapshotIndex);
        Assert.Equal(term, n1.TermAt(applied));
        Assert.Equal(-1, n1.TermAt(applied - 1));
        Assert.Equal([1, 2, 3], snapshot.Metadata.Voters);
        Assert.Empty(cluster.Node(1).Storage.LoadEntries());
    }

    [Fact]
    public void Compact_PastAppliedIndex_Throws()
    {
        var cluster = new TestCluster(3);
        cluster.Elect(1);
        Assert.Throws<ArgumentOutOfRangeException>(() => cluster[1].Compact(cluster[1].AppliedIndex + 1, ReadOnlyMemory<byte>.Empty));
    }

    [Fact]
    public void InstallSnapshot_FollowerBehindCompactedLog_ReceivesSnapshotThenEntries_Paper7()
    {
        var cluster = new TestCluster(3);
        cluster.Elect(1);
        cluster.Isolate(3);
        for (long command = 1; command <= 10; command++)
        {
            cluster.Propose(1, command);
        }

        cluster.Stabilize();
        var snapshot = cluster[1].Compact(cluster[1].AppliedIndex, new byte[] { 42 });
        cluster.Node(1).Storage.SaveSnapshot(snapshot);
        cluster.Propose(1, 11);
        cluster.Stabilize();
        cluster.Heal();
        for (int i = 0; i < 5; i++)
        {
            cluster.Tick(1);
            cluster.Stabilize();
        }

        var n3 = cluster.Node(3);
        Assert.Equal(1, n3.SnapshotsInstalled);
        Assert.Equal(snapshot.Metadata.Index, n3.Storage.Snapshot.Metadata.Index);
        Assert.Equal(42, n3.Storage.Snapshot.Data.Span[0]);
        Assert.Equal([11L], n3.AppliedCommands);
        Assert.Equal(cluster[1].CommitIndex, cluster[3].CommitIndex);

        // After a restart the follower starts from the snapshot and its entries.
        cluster.Restart(3);
        Assert.Equal(snapshot.Metadata.Index, cluster[3].SnapshotIndex);
        Assert.Equal(cluster[1].LastIndex, cluster[3].LastIndex);
    }

    [Fact]
    public void InstallSnapshot_FollowerAlreadyHoldingIt_KeepsLogAndOnlyCommits_Paper7()
    {
        var cluster = new TestCluster(3);
        cluster.Elect(1);
        cluster.Propose(1, 1);
        cluster.Stabilize();
        var n2 = cluster[2];
        long last = n2.LastIndex;
        var metadata = new SnapshotMetadata(last, n2.TermAt(last), [1, 2, 3]);
        n2.Step(new Message { Type = MessageType.InstallSnapshot, From = 1, To = 2, Term = n2.Term, Snapshot = new Snapshot(metadata, ReadOnlyMemory<byte>.Empty) });
        var ready = n2.Ready();
        Assert.Null(ready.Snapshot);
        Assert.Equal(last, n2.CommitIndex);
    }
}
