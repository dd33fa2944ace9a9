using Blueprint.Core.Raft;

namespace Blueprint.Raft.Tests.Storage;

/// <summary>The storage contract, on the in-memory implementation.</summary>
public sealed class MemoryRaftStorageTests
{
    private static LogEntry Entry(long index, long term) => new(index, term, EntryKind.Normal, new byte[] { (byte)index });

    [Fact]
    public void Append_OverlappingEntries_TruncatesFromFirstIndex()
    {
        var storage = new MemoryRaftStorage([1]);
        storage.Append([Entry(1, 1), Entry(2, 1), Entry(3, 1)]);
        storage.Append([Entry(2, 2)]);
        Assert.Equal([Entry(1, 1).Index, 2], storage.LoadEntries().Select(e => e.Index));
        Assert.Equal(2, storage.LoadEntries()[1].Term);
    }

    [Fact]
    public void Append_WithGap_Throws()
    {
        var storage = new MemoryRaftStorage([1]);
        Assert.Throws<ArgumentException>(() => storage.Append([Entry(3, 1)]));
    }

    [Fact]
    public void SaveSnapshot_HoldingItsLastEntry_KeepsLaterEntries()
    {
        var storage = new MemoryRaftStorage([1]);
        storage.Append([Entry(1, 1), Entry(2, 1), Entry(3, 1)]);
        storage.SaveSnapshot(new Snapshot(new SnapshotMetadata(2, 1, [1]), ReadOnlyMemory<byte>.Empty));
        Assert.Equal([3L], storage.LoadEntries().Select(e => e.Index));
        Assert.Equal(3, storage.LastIndex);
    }

    [Fact]
    public void SaveSnapshot_NotMatchingLog_DropsAllEntries_OlderSnapshotIgnored()
    {
        var storage = new MemoryRaftStorage([1]);
        storage.Append([Entry(1, 1), Entry(2, 1)]);
        storage.SaveSnapshot(new Snapshot(new SnapshotMetadata(2, 5, [1]), ReadOnlyMemory<byte>.Empty));
        Assert.Empty(storage.LoadEntries());
        storage.SaveSnapshot(new Snapshot(new SnapshotMetadata(1, 1, [1]), ReadOnlyMemory<byte>.Empty));
        Assert.Equal(2, storage.Snapshot.Metadata.Index);
    }

    [Fact]
    public void Persist_Ready_WritesSnapshotEntriesThenHardState()
    {
        var storage = new MemoryRaftStorage([1]);
        storage.Persist(new Ready { Entries = [Entry(1, 1)], HardState = new HardState(1, 1, 1) });
        Assert.Equal(new HardState(1, 1, 1), storage.HardState);
        Assert.Single(storage.LoadEntries());
    }

    [Fact]
    public void RaftConfig_InvalidValues_EveryProblemReportedAtOnce()
    {
        var config = new RaftConfig { Id = 0, ElectionTimeoutTicks = 1, HeartbeatTicks = 0, LeaseRead = true, CheckQuorum = false, MaxEntriesPerMessage = 0 };
        var problems = config.Problems();
        Assert.Equal(6, problems.Count);
        var error = Assert.Throws<ArgumentException>(() => new RaftNode(config, new MemoryRaftStorage([1]), new Random(1)));
        Assert.Contains("MaxEntriesPerMessage = 0", error.Message, StringComparison.Ordinal);
    }
}
