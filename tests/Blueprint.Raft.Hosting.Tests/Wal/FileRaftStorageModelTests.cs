using Blueprint.Core.Raft;
using Blueprint.Raft.Hosting.Wal;
using CsCheck;
using static Blueprint.Raft.Hosting.Tests.Wal.WalTestKit;

namespace Blueprint.Raft.Hosting.Tests.Wal;

/// <summary>Model-based: random operation sequences on the WAL and on <see cref="MemoryRaftStorage"/> leave the same state, across reopens.</summary>
public sealed class FileRaftStorageModelTests
{
    private static readonly WalOptions Options = new() { SegmentBytes = WalOptions.SegmentBytesMin, Fsync = false };

    private static readonly Gen<(int Kind, int A, int B, int C)[]> Operations =
        Gen.Select(Gen.Int[0, 6], Gen.Int[0, 1000], Gen.Int[0, 1000], Gen.Int[0, 1000]).Array[0, 80];

    [Fact]
    public void RandomOperations_ReopenedWal_MatchesMemoryStorage()
    {
        Operations.Sample(
            operations =>
            {
                using var temp = new TempDirectory();
                var model = new MemoryRaftStorage([1, 2, 3]);
                var storage = FileRaftStorage.Open(temp.Path, [1, 2, 3], Options);
                try
                {
                    foreach (var (kind, a, b, c) in operations)
                    {
                        if (kind == 6)
                        {
                            storage.Dispose();
                            storage = FileRaftStorage.Open(temp.Path, [7], Options);
                        }
                        else
                        {
                            var ready = ReadyFor(model, kind, a, b, c);
                            model.Persist(ready);
                            storage.Persist(ready);
                        }

                        Assert.Equal(Describe(model), Describe(storage));
                    }
                }
                finally
                {
                    storage.Dispose();
                }

                Assert.Equal(Describe(model), Reopened(temp.Path, Options));
            },
            iter: 150);
    }

    /// <summary>A valid Ready for the model's current state: appends (possibly overwriting), hard states, snapshots (matching the log or not), or all at once.</summary>
    private static Ready ReadyFor(MemoryRaftStorage model, int kind, int a, int b, int c)
    {
        long offset = model.Snapshot.Metadata.Index + 1;
        long last = model.LastIndex;
        long term = model.LoadEntries() is { Count: > 0 } entries ? entries[^1].Term : model.Snapshot.Metadata.Term;
        switch (kind)
        {
            case 0 or 1:
                {
                    long first = offset + (a % (last - offset + 2));
                    return new Ready { Entries = Entries(first, first + (b % 5), term + (c % 2), dataBytes: c % 60) };
                }

            case 2:
                return new Ready { HardState = new HardState(a % 10, b % 4, c % 30) };
            case 3 or 4:
                {
                    long index = a % (last + 3);
                    long entryTerm = index >= offset && index <= last ? model.LoadEntries()[(int)(index - offset)].Term : term;
                    var snapshot = new Snapshot(new SnapshotMetadata(index, entryTerm + (b % 3 == 0 ? 1 : 0), [1, 2, 3]), new byte[c % 40]);
                    return new Ready { Snapshot = snapshot };
                }

            default:
                {
                    // A leader's snapshot past the log, the entries after it and a hard state in one Ready.
                    long index = last + 1 + (a % 3);
                    var snapshot = new Snapshot(new SnapshotMetadata(index, term + 1, [1, 2]), new byte[] { (byte)b });
                    return new Ready
                    {
                        Snapshot = snapshot,
                        Entries = Entries(index + 1, index + 1 + (b % 3), term + 1),
                        HardState = new HardState(term + 1, 0, index),
                    };
                }
        }
    }
}
