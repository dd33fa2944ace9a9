using Blueprint.Core.Raft;
using Blueprint.Raft.Hosting.Wal;
using static Blueprint.Raft.Hosting.Tests.Wal.WalTestKit;

namespace Blueprint.Raft.Hosting.Tests.Wal;

/// <summary>The storage contract on the file WAL: each write is there after a reopen, as on <see cref="MemoryRaftStorage"/>.</summary>
public sealed class FileRaftStorageTests
{
    [Fact]
    public void Open_NewDirectory_BootstrapsLikeMemoryStorage()
    {
        using var temp = new TempDirectory();
        using (var storage = FileRaftStorage.Open(temp.Path, [3, 1, 2]))
        {
            Assert.Equal(Describe(new MemoryRaftStorage([3, 1, 2])), Describe(storage));
        }

        // Bootstrap voters are ignored once the directory holds a WAL.
        Assert.Equal(Describe(new MemoryRaftStorage([1, 2, 3])), Reopened(temp.Path));
        Assert.Single(Directory.GetFiles(temp.Sub("wal"), "*.wal"));
        Assert.Equal(["0000000000000000-0000000000000000.snap"], Directory.GetFiles(temp.Sub("snap")).Select(Path.GetFileName));
    }

    [Fact]
    public void Reopen_AfterAppendOverwriteHardStateSnapshot_SameStateAsMemoryStorage()
    {
        using var temp = new TempDirectory();
        var model = new MemoryRaftStorage([1, 2, 3]);
        using (var storage = FileRaftStorage.Open(temp.Path, [1, 2, 3]))
        {
            foreach (IRaftStorage s in new IRaftStorage[] { model, storage })
            {
                s.Append(Entries(1, 10, 1));
                s.Append(Entries(6, 8, 2));
                s.SaveHardState(new HardState(2, 3, 5));
                s.SaveSnapshot(Snapshot(4, 1, 1, 2, 3));
                s.Append([Entry(9, 2)]);
            }

            Assert.Equal(Describe(model), Describe(storage));
        }

        Assert.Equal([5L, 6, 7, 8, 9], model.LoadEntries().Select(e => e.Index));
        Assert.Equal(Describe(model), Reopened(temp.Path));
    }

    [Fact]
    public async Task PrewriteSnapshot_FromAnotherThread_ThenSaveRecordsItWithoutWritingAgain()
    {
        using var temp = new TempDirectory();
        var model = new MemoryRaftStorage([1]);
        var snapshot = Snapshot(6, 1, 1);
        int syncs = 0;
        using (var storage = FileRaftStorage.Open(temp.Path, [1], options: null, () => Interlocked.Increment(ref syncs)))
        {
            storage.Append(Entries(1, 10, 1));
            model.Append(Entries(1, 10, 1));
            await Task.Run(() => storage.PrewriteSnapshot(snapshot), TestContext.Current.CancellationToken);
            Assert.Contains("0000000000000001-0000000000000006.snap", Directory.GetFiles(temp.Sub("snap")).Select(Path.GetFileName));

            // Written ahead, but not recorded: the storage still holds every entry.
            Assert.Equal(0, storage.Snapshot.Metadata.Index);
            int afterPrewrite = syncs;
            storage.SaveSnapshot(snapshot);
            model.SaveSnapshot(snapshot);

            // Recording costs the log record and the clean-up's directory syncs, not a second file write (file + directory).
            Assert.Equal(6, storage.Snapshot.Metadata.Index);
            Assert.True(syncs - afterPrewrite <= 3, $"{syncs - afterPrewrite} syncs to record a snapshot written ahead");
            Assert.Equal(Describe(model), Describe(storage));
        }

        Assert.Equal(Describe(model), Reopened(temp.Path));
    }

    [Fact]
    public void PrewriteSnapshot_OvertakenByNewerSnapshot_FileWrittenAheadIsRemoved()
    {
        using var temp = new TempDirectory();
        using (var storage = FileRaftStorage.Open(temp.Path, [1]))
        {
            storage.Append(Entries(1, 10, 1));
            var ours = Snapshot(5, 1, 1);
            storage.PrewriteSnapshot(ours);

            // The leader's snapshot lands first; recording ours afterwards changes nothing and drops its file.
            storage.SaveSnapshot(Snapshot(8, 1, 1));
            storage.SaveSnapshot(ours);
            Assert.Equal(8, storage.Snapshot.Metadata.Index);
            var files = Directory.GetFiles(temp.Sub("snap")).Select(Path.GetFileName).Order().ToList();

            // The overtaken file is gone and never took the place of the older recorded snapshot recovery may fall back to.
            Assert.Equal(["0000000000000000-0000000000000000.snap", "0000000000000001-0000000000000008.snap"], files);
        }

        Assert.Contains("snap=8/1/", Reopened(temp.Path), StringComparison.Ordinal);
    }

    [Fact]
    public void Save_OneBatch_SnapshotEntriesHardStateInOrder()
    {
        using var temp = new TempDirectory();
        var model = new MemoryRaftStorage([1]);
        using (var storage = FileRaftStorage.Open(temp.Path, [1]))
        {
            storage.Append(Entries(1, 3, 1));
            model.Append(Entries(1, 3, 1));

            // A leader's snapshot past the log, then the entries that follow it, then the hard state: one Ready.
            var ready = new Ready { Snapshot = Snapshot(7, 3, 1), Entries = Entries(8, 9, 3), HardState = new HardState(3, 0, 9) };
            storage.Persist(ready);
            model.Persist(ready);
            Assert.Equal(Describe(model), Describe(storage));
        }

        Assert.Equal(Describe(model), Reopened(temp.Path));
        Assert.Contains("entries=[8/3", Describe(model), StringComparison.Ordinal);
    }

    [Fact]
    public void Persist_BatchStorage_CallsSaveOnceAndNoSingleWrites()
    {
        var storage = new RecordingBatchStorage();
        storage.Persist(new Ready { Snapshot = Snapshot(1, 1, 1), Entries = [Entry(2, 1)], HardState = new HardState(1, 1, 2) });
        storage.Persist(new Ready());
        Assert.Equal(["Save(hs=True, entries=1, snap=True)"], storage.Calls);
    }

    [Fact]
    public void Append_Refused_WritesNothing()
    {
        using var temp = new TempDirectory();
        using (var storage = FileRaftStorage.Open(temp.Path, [1], new WalOptions { RecordBytesMax = 4096 }))
        {
            storage.Append(Entries(1, 2, 1));
            var gap = Assert.Throws<ArgumentException>(() => storage.Append([Entry(4, 1)]));
            Assert.Contains("do not fit a log holding 1..2", gap.Message, StringComparison.Ordinal);
            var notConsecutive = Assert.Throws<ArgumentException>(() => storage.Append([Entry(3, 1), Entry(5, 1)]));
            Assert.Contains("consecutive", notConsecutive.Message, StringComparison.Ordinal);
            var tooLong = Assert.Throws<ArgumentException>(() => storage.Append([Entry(3, 1), Entry(4, 1, dataBytes: 5000)]));
            Assert.Contains("RecordBytesMax (4096)", tooLong.Message, StringComparison.Ordinal);
            Assert.Equal(2, storage.LastIndex);
        }

        Assert.Equal(Describe(Model(s => s.Append(Entries(1, 2, 1)))), Reopened(temp.Path));
    }

    [Fact]
    public void Open_InvalidOptions_EveryProblemReported()
    {
        using var temp = new TempDirectory();
        var error = Assert.Throws<ArgumentException>(() => FileRaftStorage.Open(temp.Path, [1], new WalOptions { SegmentBytes = 10, RecordBytesMax = 0 }));
        Assert.Contains("SegmentBytes = 10", error.Message, StringComparison.Ordinal);
        Assert.Contains("RecordBytesMax = 0", error.Message, StringComparison.Ordinal);
        Assert.False(Directory.Exists(temp.Sub("wal")));
    }

    [Fact]
    public void Open_DirectoryAlreadyOpen_ThrowsLocked()
    {
        using var temp = new TempDirectory();
        using var first = FileRaftStorage.Open(temp.Path, [1]);
        first.Append([Entry(1, 1)]);
        var error = Assert.Throws<IOException>(() => FileRaftStorage.Open(temp.Path, [1]));
        Assert.Contains("is locked", error.Message, StringComparison.Ordinal);
        first.Dispose();
        Assert.Equal(Describe(Model(s => s.Append([Entry(1, 1)]))), Reopened(temp.Path));
    }

    [Fact]
    public void Append_PastSegmentBytes_RollsSegments_ReopenReadsAll()
    {
        using var temp = new TempDirectory();
        var model = new MemoryRaftStorage([1]);
        using (var storage = FileRaftStorage.Open(temp.Path, [1], SmallSegments))
        {
            for (long index = 1; index <= 100; index++)
            {
                storage.Persist(new Ready { Entries = [Entry(index, 1, 200)], HardState = new HardState(1, 1, index - 1) });
                model.Persist(new Ready { Entries = [Entry(index, 1, 200)], HardState = new HardState(1, 1, index - 1) });
            }

            // 100 records of about 230 bytes in 4 KiB segments.
            Assert.InRange(storage.SegmentFiles.Count, 5, 7);
            Assert.All(storage.SegmentFiles.SkipLast(1), f => Assert.InRange(new FileInfo(f).Length, WalOptions.SegmentBytesMin, WalOptions.SegmentBytesMin + 300));
        }

        Assert.Equal(Describe(model), Reopened(temp.Path, SmallSegments));
    }

    [Fact]
    public void SaveSnapshot_Twice_RemovesSegmentsCoveredByOlderKeptSnapshot()
    {
        using var temp = new TempDirectory();
        var model = new MemoryRaftStorage([1]);
        using (var storage = FileRaftStorage.Open(temp.Path, [1], SmallSegments))
        {
            for (long index = 1; index <= 100; index++)
            {
                storage.Append([Entry(index, 1, 200)]);
                model.Append([Entry(index, 1, 200)]);
            }

            var before = storage.SegmentFiles;
            storage.SaveSnapshot(Snapshot(50, 1, 1));
            model.SaveSnapshot(Snapshot(50, 1, 1));

            // The bootstrap snapshot at 0 is the older kept one: only segments without entries could go.
            Assert.Equal(before, storage.SegmentFiles);
            storage.SaveSnapshot(Snapshot(90, 1, 1));
            model.SaveSnapshot(Snapshot(90, 1, 1));
            var after = storage.SegmentFiles;
            Assert.True(after.Count < before.Count - 1, $"{after.Count} segments left of {before.Count}");
            Assert.Equal(before[^1], after[^1]);
            Assert.All(before.Except(after), f => Assert.False(File.Exists(f)));
            Assert.Equal(
                ["0000000000000001-0000000000000032.snap", "0000000000000001-000000000000005a.snap"],
                Directory.GetFiles(temp.Sub("snap")).Select(Path.GetFileName).Order());
        }

        Assert.Equal(Describe(model), Reopened(temp.Path, SmallSegments));
        Assert.StartsWith("hs=HardState { Term = 0, Vote = 0, Commit = 0 } snap=90/1/[1]", Describe(model), StringComparison.Ordinal);
    }

    [Fact]
    public void SaveSnapshot_Older_IsIgnoredLikeMemoryStorage()
    {
        using var temp = new TempDirectory();
        var model = Model(s =>
        {
            s.Append(Entries(1, 5, 1));
            s.SaveSnapshot(Snapshot(4, 1, 1));
            s.SaveSnapshot(Snapshot(2, 1, 1));
        });
        using (var storage = FileRaftStorage.Open(temp.Path, [1]))
        {
            storage.Append(Entries(1, 5, 1));
            storage.SaveSnapshot(Snapshot(4, 1, 1));
            storage.SaveSnapshot(Snapshot(2, 1, 1));
            Assert.Equal(4, storage.Snapshot.Metadata.Index);
        }

        Assert.Equal(Describe(model), Reopened(temp.Path));
    }

    [Fact]
    public void Dispose_ThenUse_ThrowsObjectDisposed()
    {
        using var temp = new TempDirectory();
        var storage = FileRaftStorage.Open(temp.Path, [1]);
        storage.Dispose();
        Assert.Throws<ObjectDisposedException>(() => storage.Append([Entry(1, 1)]));
    }

    [Fact]
    public void Crc32C_KnownVector_MatchesCastagnoli()
    {
        // The check value of CRC-32C (RFC 3720 appendix B.4): a CRC-32 (IEEE) here would give CBF43926.
        Assert.Equal(0xE3069283u, WalFormat.Crc("123456789"u8));
    }

    private static MemoryRaftStorage Model(Action<MemoryRaftStorage> operations)
    {
        var model = new MemoryRaftStorage([1]);
        operations(model);
        return model;
    }

    private sealed class RecordingBatchStorage : IBatchRaftStorage
    {
        public List<string> Calls { get; } = [];

        public HardState HardState => default;

        public Snapshot Snapshot => Snapshot(0, 0);

        public IReadOnlyList<LogEntry> LoadEntries() => [];

        public void SaveHardState(HardState hardState) => Calls.Add("SaveHardState");

        public void Append(IReadOnlyList<LogEntry> entries) => Calls.Add("Append");

        public void SaveSnapshot(Snapshot snapshot) => Calls.Add("SaveSnapshot");

        public void Save(HardState? hardState, IReadOnlyList<LogEntry> entries, Snapshot? snapshot) =>
            Calls.Add($"Save(hs={hardState is not null}, entries={entries.Count}, snap={snapshot is not null})");
    }
}
