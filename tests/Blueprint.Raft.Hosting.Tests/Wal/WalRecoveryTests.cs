using Blueprint.Core.Raft;
using Blueprint.Raft.Hosting.Wal;
using static Blueprint.Raft.Hosting.Tests.Wal.WalTestKit;

namespace Blueprint.Raft.Hosting.Tests.Wal;

/// <summary>Recovery: a torn tail is cut off, damage elsewhere is an error naming the file, a crash loses nothing acknowledged.</summary>
public sealed class WalRecoveryTests
{
    [Fact]
    public void Open_LastRecordTornAtEveryOffset_KeepsRecordsBeforeAndTruncatesFile()
    {
        using var temp = new TempDirectory();
        string source = temp.Sub("source");
        var model = new MemoryRaftStorage([1]);
        string segment;
        long goodBytes;
        long fullBytes;
        using (var storage = FileRaftStorage.Open(source, [1]))
        {
            for (long index = 1; index <= 5; index++)
            {
                var ready = new Ready { Entries = [Entry(index, 1)], HardState = new HardState(1, 1, index) };
                storage.Persist(ready);
                model.Persist(ready);
            }

            segment = storage.SegmentFiles[^1];
            goodBytes = new FileInfo(segment).Length;
            storage.Append([Entry(6, 1, dataBytes: 40)]);
            fullBytes = new FileInfo(segment).Length;
        }

        string expected = Describe(model);
        Assert.Equal(WalFormat.HeaderBytes + WalFormat.EntryFixedBytes + 40, fullBytes - goodBytes);
        for (long cut = goodBytes; cut < fullBytes; cut++)
        {
            string copy = temp.Sub($"cut-{cut}");
            CopyDirectory(source, copy);
            string copySegment = Path.Combine(copy, "wal", Path.GetFileName(segment));
            using (var file = new FileStream(copySegment, FileMode.Open))
            {
                file.SetLength(cut);
            }

            using (var storage = FileRaftStorage.Open(copy, [1]))
            {
                Assert.Equal(expected, Describe(storage));
                Assert.Equal(cut - goodBytes, storage.Recovery.TruncatedBytes);
            }

            Assert.Equal(goodBytes, new FileInfo(copySegment).Length);
            Directory.Delete(copy, recursive: true);
        }

        Assert.Contains("6/1/Normal", Reopened(source), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("zeros", 4096)]
    [InlineData("zeros", 5)]
    [InlineData("garbage", 3)]
    [InlineData("garbage", 200)]
    [InlineData("flip", 0)]
    public void Open_TailZerosGarbageOrFlippedByte_TruncatedToLastGoodRecord(string damage, int bytes)
    {
        using var temp = new TempDirectory();
        var model = new MemoryRaftStorage([1]);
        string segment;
        long goodBytes;
        using (var storage = FileRaftStorage.Open(temp.Path, [1]))
        {
            storage.Append(Entries(1, 3, 1));
            model.Append(Entries(1, 3, 1));
            storage.SaveHardState(new HardState(1, 1, 3));
            model.SaveHardState(new HardState(1, 1, 3));
            segment = storage.SegmentFiles[^1];
            goodBytes = new FileInfo(segment).Length;
            if (damage == "flip")
            {
                storage.Append([Entry(4, 1)]);
            }
        }

        using (var file = new FileStream(segment, FileMode.Open))
        {
            if (damage == "flip")
            {
                file.Position = goodBytes + WalFormat.HeaderBytes + 3;
                int value = file.ReadByte();
                file.Position--;
                file.WriteByte((byte)(value ^ 0x10));
            }
            else
            {
                file.Seek(0, SeekOrigin.End);
                var tail = new byte[bytes];
                if (damage == "garbage")
                {
                    new Random(bytes).NextBytes(tail);
                }

                file.Write(tail);
            }
        }

        Assert.Equal(Describe(model), Reopened(temp.Path));
        Assert.Equal(goodBytes, new FileInfo(segment).Length);
    }

    [Fact]
    public void Open_CorruptRecordInNonLastSegment_ThrowsNamingFileAndOffset()
    {
        using var temp = new TempDirectory();
        string first;
        using (var storage = FileRaftStorage.Open(temp.Path, [1], SmallSegments))
        {
            for (long index = 1; index <= 60; index++)
            {
                storage.Append([Entry(index, 1, 200)]);
            }

            Assert.True(storage.SegmentFiles.Count >= 3);
            first = storage.SegmentFiles[0];
        }

        using (var file = new FileStream(first, FileMode.Open))
        {
            file.Position = file.Length / 2;
            int value = file.ReadByte();
            file.Position--;
            file.WriteByte((byte)~value);
        }

        long length = new FileInfo(first).Length;
        var error = Assert.Throws<InvalidDataException>(() => FileRaftStorage.Open(temp.Path, [1], SmallSegments));
        Assert.Contains(Path.GetFileName(first), error.Message, StringComparison.Ordinal);
        Assert.Contains("damaged at offset", error.Message, StringComparison.Ordinal);
        Assert.Equal(length, new FileInfo(first).Length);
    }

    [Fact]
    public void Open_MiddleSegmentMissing_Throws()
    {
        using var temp = new TempDirectory();
        string middle;
        using (var storage = FileRaftStorage.Open(temp.Path, [1], SmallSegments))
        {
            for (long index = 1; index <= 60; index++)
            {
                storage.Append([Entry(index, 1, 200)]);
            }

            middle = storage.SegmentFiles[1];
        }

        File.Delete(middle);
        var error = Assert.Throws<InvalidDataException>(() => FileRaftStorage.Open(temp.Path, [1], SmallSegments));
        Assert.Contains("missing", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Open_NewestSnapshotCorruptWalHoldsEntries_FallsBackToOlderSnapshot()
    {
        using var temp = new TempDirectory();
        using (var storage = FileRaftStorage.Open(temp.Path, [1]))
        {
            storage.Append(Entries(1, 10, 1));
            storage.SaveSnapshot(Snapshot(4, 1, 1));
            storage.SaveSnapshot(Snapshot(8, 1, 1));
            storage.SaveHardState(new HardState(1, 1, 10));
        }

        string newest = Path.Combine(temp.Path, "snap", "0000000000000001-0000000000000008.snap");
        Corrupt(newest);
        using var reopened = FileRaftStorage.Open(temp.Path, [1]);
        var expected = new MemoryRaftStorage([1]);
        expected.Append(Entries(1, 10, 1));
        expected.SaveSnapshot(Snapshot(4, 1, 1));
        expected.SaveHardState(new HardState(1, 1, 10));
        Assert.Equal(Describe(expected), Describe(reopened));
        Assert.Equal(newest, reopened.Recovery.SnapshotFallbackFrom);
    }

    [Fact]
    public void Open_NewestSnapshotCorruptNoEntriesForOlder_ThrowsNamingFile()
    {
        using var temp = new TempDirectory();
        using (var storage = FileRaftStorage.Open(temp.Path, [1]))
        {
            storage.Append(Entries(1, 3, 1));

            // A leader's snapshot the log does not hold: later entries are dropped, so nothing can replace it.
            storage.SaveSnapshot(Snapshot(20, 3, 1));
            storage.Append(Entries(21, 22, 3));
        }

        string newest = Path.Combine(temp.Path, "snap", "0000000000000003-0000000000000014.snap");
        Corrupt(newest);
        var error = Assert.Throws<InvalidDataException>(() => FileRaftStorage.Open(temp.Path, [1]));
        Assert.Contains(newest, error.Message, StringComparison.Ordinal);
        Assert.Contains("CRC", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Open_CopyAfterEveryFsync_HoldsEverythingAcknowledged()
    {
        using var temp = new TempDirectory();
        string source = temp.Sub("source");
        var options = SmallSegments;
        var model = new MemoryRaftStorage([1]);
        var acknowledged = new List<string> { Describe(model) };
        var copies = new List<(string Path, int Acknowledged)>();
        void Copy()
        {
            string copy = temp.Sub($"crash-{copies.Count}");
            CopyDirectory(source, copy);
            copies.Add((copy, acknowledged.Count - 1));
        }

        using (var storage = FileRaftStorage.Open(source, [1], options, Copy))
        {
            var random = new Random(42);
            long term = 1;
            for (int step = 0; step < 60; step++)
            {
                var ready = NextReady(random, model, ref term, step);
                storage.Persist(ready);
                model.Persist(ready);
                acknowledged.Add(Describe(model));
            }
        }

        Assert.True(copies.Count > 60, $"{copies.Count} fsync boundaries");
        Assert.Contains(copies, c => Directory.GetFiles(Path.Combine(c.Path, "wal")).Length > 1);
        foreach (var (path, count) in copies)
        {
            string state = Reopened(path, options, [1]);
            string[] allowed = [.. acknowledged.Skip(count).Take(2)];
            Assert.True(allowed.Contains(state), $"copy {path} after {count} acknowledged writes holds {state}");
        }
    }

    [Fact]
    public void Save_CommitIndexAlone_IsWrittenWithoutFsyncAndACrashLosesOnlyIt()
    {
        using var temp = new TempDirectory();
        string source = temp.Sub("source");
        int syncs = 0;
        string segment;
        long syncedBytes;
        int beforeClose;
        using (var storage = FileRaftStorage.Open(source, [1], options: null, () => syncs++))
        {
            storage.Persist(new Ready { Entries = Entries(1, 3, 1), HardState = new HardState(1, 1, 0) });
            int afterEntries = syncs;
            segment = storage.SegmentFiles[^1];
            syncedBytes = new FileInfo(segment).Length;

            storage.SaveHardState(new HardState(1, 1, 3));
            Assert.Equal(afterEntries, syncs);
            Assert.True(new FileInfo(segment).Length > syncedBytes, "the commit record is written");

            // A crash that loses what was not fsynced: the entries and the term stay, the commit index goes back.
            string crashed = temp.Sub("crashed");
            CopyDirectory(source, crashed);
            using (var file = new FileStream(Path.Combine(crashed, "wal", Path.GetFileName(segment)), FileMode.Open))
            {
                file.SetLength(syncedBytes);
            }

            var expected = new MemoryRaftStorage([1]);
            expected.Persist(new Ready { Entries = Entries(1, 3, 1), HardState = new HardState(1, 1, 0) });
            Assert.Equal(Describe(expected), Reopened(crashed));

            storage.SaveHardState(new HardState(2, 0, 3));
            Assert.Equal(afterEntries + 1, syncs);
            storage.SaveHardState(new HardState(2, 1, 3));
            Assert.Equal(afterEntries + 2, syncs);
            storage.Persist(new Ready { Entries = [Entry(4, 2)] });
            Assert.Equal(afterEntries + 3, syncs);
            storage.SaveHardState(new HardState(2, 1, 4));
            Assert.Equal(afterEntries + 3, syncs);
            beforeClose = syncs;
        }

        // Closing fsyncs the commit record it had left behind.
        Assert.Equal(beforeClose + 1, syncs);
        Assert.Contains("hs=HardState { Term = 2, Vote = 1, Commit = 4 }", Reopened(source), StringComparison.Ordinal);
    }

    private static Ready NextReady(Random random, MemoryRaftStorage model, ref long term, int step)
    {
        long offset = model.Snapshot.Metadata.Index + 1;
        if (step % 17 == 16 && model.LastIndex >= offset)
        {
            long index = random.NextInt64(offset, model.LastIndex + 1);
            return new Ready { Snapshot = Snapshot(index, model.LoadEntries()[(int)(index - offset)].Term, 1) };
        }

        if (step % 9 == 8)
        {
            term++;
        }

        long first = Math.Max(offset, model.LastIndex + 1 - random.Next(0, 3));
        return new Ready
        {
            Entries = Entries(first, first + random.Next(0, 4), term, dataBytes: random.Next(0, 300)),
            HardState = new HardState(term, 1, Math.Max(model.HardState.Commit, first - 1)),
        };
    }

    private static void Corrupt(string path)
    {
        byte[] bytes = File.ReadAllBytes(path);
        bytes[^1] ^= 0xFF;
        File.WriteAllBytes(path, bytes);
    }
}
