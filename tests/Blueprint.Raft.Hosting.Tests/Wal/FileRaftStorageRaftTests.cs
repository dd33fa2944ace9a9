using System.Buffers.Binary;
using Blueprint.Core.Raft;
using Blueprint.Raft.Hosting.Wal;

namespace Blueprint.Raft.Hosting.Tests.Wal;

/// <summary>A Raft node persisting every Ready to the WAL restarts from it with its term, vote, commit index and log.</summary>
public sealed class FileRaftStorageRaftTests
{
    [Fact]
    public void SingleVoter_CommitsPersistsAndRestarts_TermVoteCommitAndEntriesSurvive()
    {
        using var temp = new TempDirectory();
        var config = new RaftConfig { Id = 1 };
        long term;
        long commit;
        long lastIndex;
        var applied = new List<LogEntry>();
        using (var storage = FileRaftStorage.Open(temp.Path, [1]))
        {
            var node = new RaftNode(config, storage, new Random(1));
            for (int tick = 0; tick < 100 && node.Role != RaftRole.Leader; tick++)
            {
                node.Tick();
                Drain(node, storage, applied);
            }

            Assert.Equal(RaftRole.Leader, node.Role);
            for (long command = 1; command <= 20; command++)
            {
                Assert.True(node.Propose(Command(command)).IsAccepted);
                if (command % 3 == 0)
                {
                    Drain(node, storage, applied);
                }
            }

            Drain(node, storage, applied);
            storage.SaveSnapshot(node.Compact(10, new byte[] { 10 }));
            term = node.Term;
            commit = node.CommitIndex;
            lastIndex = node.LastIndex;
            Assert.Equal(lastIndex, commit);
        }

        Assert.Equal(Enumerable.Range(1, 20).Select(i => (long)i), applied.Where(e => e.Kind == EntryKind.Normal).Select(e => BinaryPrimitives.ReadInt64LittleEndian(e.Data.Span)));
        using (var reopened = FileRaftStorage.Open(temp.Path, [1]))
        {
            var restarted = new RaftNode(config, reopened, new Random(2));
            Assert.Equal(term, restarted.Term);
            Assert.Equal(1, restarted.Vote);
            Assert.Equal(commit, restarted.CommitIndex);
            Assert.Equal(lastIndex, restarted.LastIndex);
            Assert.Equal(10, restarted.SnapshotIndex);
            Assert.Equal([10], reopened.Snapshot.Data.ToArray());
            var restored = Enumerable.Range(11, (int)(lastIndex - 10)).Select(i => restarted.EntryAt(i)).ToList();
            Assert.Equal(applied.Where(e => e.Index > 10).Select(e => Convert.ToHexString(e.Data.Span)), restored.Select(e => Convert.ToHexString(e.Data.Span)));

            // The restarted node elects itself again in a later term and keeps committing on top of the recovered log.
            for (int tick = 0; tick < 100 && restarted.Role != RaftRole.Leader; tick++)
            {
                restarted.Tick();
                Drain(restarted, reopened, applied);
            }

            Assert.True(restarted.Propose(Command(21)).IsAccepted);
            Drain(restarted, reopened, applied);
            Assert.True(restarted.Term > term);
            Assert.Equal(restarted.LastIndex, restarted.CommitIndex);
            Assert.Equal(lastIndex + 2, restarted.LastIndex);
        }

        using var again = FileRaftStorage.Open(temp.Path, [1]);
        Assert.Equal(lastIndex + 2, again.LastIndex);
        Assert.Equal(lastIndex + 2, again.HardState.Commit);
    }

    private static byte[] Command(long command)
    {
        var data = new byte[sizeof(long)];
        BinaryPrimitives.WriteInt64LittleEndian(data, command);
        return data;
    }

    private static void Drain(RaftNode node, FileRaftStorage storage, List<LogEntry> applied)
    {
        while (node.HasReady())
        {
            var ready = node.Ready();
            storage.Persist(ready);
            Assert.Empty(ready.Messages);
            applied.AddRange(ready.CommittedEntries);
            node.Advance();
        }
    }
}
