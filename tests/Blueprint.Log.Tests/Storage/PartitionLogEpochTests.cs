using Blueprint.Log.Kafka;
using Blueprint.Log.Records;
using Blueprint.Log.Storage;
using static Blueprint.Log.Tests.Storage.Batches;

namespace Blueprint.Log.Tests.Storage;

/// <summary>Leader epochs: stamped on leader appends, kept in <c>leader-epoch-checkpoint</c>, answered as OffsetForLeaderEpoch.</summary>
public sealed class PartitionLogEpochTests
{
    [Fact]
    public async Task AppendAsync_WithLeaderEpoch_StampsTheStoredBatchesNotTheCallers()
    {
        await using var harness = LogHarness.Open();
        byte[] two = Concat(Values(1, "a"), Values(1, "b", "c"));

        await harness.Log.AppendAsync(Values(1, "default"), Cancel);
        await harness.Log.AppendAsync(two, 7, Cancel);

        Assert.Equal(-1, RecordBatchHeader.Parse(two).PartitionLeaderEpoch);
        Assert.Equal([0, 7, 7], harness.ReadBatches().Select(b => b.Header.PartitionLeaderEpoch));
        Assert.Equal(7, harness.Log.LatestEpoch);
        Assert.Equal("0\n2\n0 0\n7 1\n", File.ReadAllText(CheckpointPath(harness)));
        await harness.ReopenAsync();
        Assert.Equal([0, 7, 7], harness.ReadBatches().Select(b => b.Header.PartitionLeaderEpoch));
        Assert.Equal([new EpochEntry(0, 0), new EpochEntry(7, 1)], harness.Log.EpochEntries);
    }

    [Fact]
    public async Task AppendAsync_EpochBelowTheLatest_IsFencedAndNothingIsWritten()
    {
        await using var harness = LogHarness.Open();
        await harness.Log.AppendAsync(Values(1, "a"), 3, Cancel);

        var older = await Assert.ThrowsAsync<RecordRejectedException>(async () => await harness.Log.AppendAsync(Values(1, "b"), 2, Cancel));
        var unreplicated = await Assert.ThrowsAsync<RecordRejectedException>(async () => await harness.Log.AppendAsync(Values(1, "b"), Cancel));
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(async () => await harness.Log.AppendAsync(Values(1, "b"), -1, Cancel));

        Assert.Equal(ErrorCode.FencedLeaderEpoch, older.Code);
        Assert.Equal(ErrorCode.FencedLeaderEpoch, unreplicated.Code);
        Assert.Equal(1, harness.Log.LogEndOffset);
        Assert.Equal(1, (await harness.Log.AppendAsync(Values(1, "b"), 3, Cancel)).BaseOffset);
        Assert.Equal([new EpochEntry(3, 0)], harness.Log.EpochEntries);
    }

    [Theory]
    [InlineData(0, 0, 4)]
    [InlineData(1, 0, 4)]
    [InlineData(2, 2, 8)]
    [InlineData(3, 2, 8)]
    [InlineData(4, 2, 8)]
    [InlineData(5, 5, 10)]
    [InlineData(6, 5, 10)]
    [InlineData(-1, -1, -1)]
    public async Task EndOffsetForEpoch_EpochsWithGaps_AnswersTheFloorEpochAndTheNextStart(int requested, int epoch, long endOffset)
    {
        await using var harness = LogHarness.Open();
        foreach (int leaderEpoch in new[] { 0, 0, 2, 2, 5 })
        {
            await harness.Log.AppendAsync(Values(1, "x", "y"), leaderEpoch, Cancel);
        }

        Assert.Equal((epoch, endOffset), harness.Log.EndOffsetForEpoch(requested));
    }

    [Fact]
    public async Task EndOffsetForEpoch_BelowTheFirstEpoch_AnswersTheFirstStartOffset()
    {
        await using var harness = LogHarness.Open();
        Assert.Equal((-1, -1L), harness.Log.EndOffsetForEpoch(0));
        Assert.Equal(-1, harness.Log.LatestEpoch);

        // Two records from before epochs were stamped, then epochs 3 and 6.
        await harness.Log.AppendReplicatedAsync(Concat(Stamped(0, -1, "old", "old"), Stamped(2, 3, "a", "b"), Stamped(4, 6, "c")), Cancel);

        Assert.Equal([new EpochEntry(3, 2), new EpochEntry(6, 4)], harness.Log.EpochEntries);
        Assert.Equal((2, 2L), harness.Log.EndOffsetForEpoch(2));
        Assert.Equal((0, 2L), harness.Log.EndOffsetForEpoch(0));
        Assert.Equal((3, 4L), harness.Log.EndOffsetForEpoch(3));
        Assert.Equal((6, 5L), harness.Log.EndOffsetForEpoch(9));
    }

    [Fact]
    public async Task Open_AfterCleanCloseOrKill_KeepsTheEpochs()
    {
        await using var harness = LogHarness.Open(new PartitionLogConfig { SegmentBytes = 200 });
        for (int i = 0; i < 9; i++)
        {
            await harness.Log.AppendAsync(Values(1, $"v{i}"), i / 3 * 2, Cancel);
        }

        EpochEntry[] expected = [new(0, 0), new(2, 3), new(4, 6)];
        Assert.Equal(expected, harness.Log.EpochEntries);

        await harness.ReopenAsync();
        Assert.Equal(expected, harness.Log.EpochEntries);
        harness.Kill();
        harness.OpenAgain();
        Assert.Equal(expected, harness.Log.EpochEntries);
        Assert.Equal((2, 6L), harness.Log.EndOffsetForEpoch(3));
    }

    [Fact]
    public async Task Open_TornTailInALaterEpoch_DropsItsEntry()
    {
        await using var harness = LogHarness.Open();
        var ends = new List<long>();
        foreach (int epoch in new[] { 0, 2, 2, 5 })
        {
            await harness.Log.AppendAsync(Values(1, "x", "y"), epoch, Cancel);
            ends.Add(harness.Log.SizeBytes);
        }

        harness.Kill();
        using (var file = new FileStream(harness.SegmentPath(0), FileMode.Open))
        {
            file.SetLength(ends[2] + 30);
        }

        harness.OpenAgain();

        Assert.Equal(6, harness.Log.LogEndOffset);
        Assert.Equal([new EpochEntry(0, 0), new EpochEntry(2, 2)], harness.Log.EpochEntries);
        Assert.Equal((2, 6L), harness.Log.EndOffsetForEpoch(5));
        Assert.Equal("0\n2\n0 0\n2 2\n", File.ReadAllText(CheckpointPath(harness)));
        Assert.Equal(6, (await harness.Log.AppendAsync(Values(1, "z"), 3, Cancel)).BaseOffset);
        Assert.Equal([new EpochEntry(0, 0), new EpochEntry(2, 2), new EpochEntry(3, 6)], harness.Log.EpochEntries);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("garbage")]
    [InlineData("0\n2\n4 0\n2 5\n")]
    [InlineData("0\n3\n0 0\n2 2\n")]
    public async Task Open_CheckpointMissingOrDamaged_RebuildsItFromTheBatches(string? checkpoint)
    {
        await using var harness = LogHarness.Open(new PartitionLogConfig { SegmentBytes = 200 });
        foreach (int epoch in new[] { 1, 1, 1, 4, 4, 9 })
        {
            await harness.Log.AppendAsync(Values(1, "x", "y"), epoch, Cancel);
        }

        harness.Kill();
        File.Delete(CheckpointPath(harness));
        if (checkpoint is not null)
        {
            File.WriteAllText(CheckpointPath(harness), checkpoint);
        }

        harness.OpenAgain();

        Assert.True(harness.Log.SegmentBaseOffsets.Length > 2);
        Assert.Equal([new EpochEntry(1, 0), new EpochEntry(4, 6), new EpochEntry(9, 10)], harness.Log.EpochEntries);
        Assert.Equal("0\n3\n1 0\n4 6\n9 10\n", File.ReadAllText(CheckpointPath(harness)));
    }

    [Fact]
    public async Task TruncateAsync_DropsTheEpochsFromThereAndACrashBeforeTheCheckpointIsReconciled()
    {
        await using var harness = LogHarness.Open(new PartitionLogConfig { SegmentBytes = 200 });
        foreach (int epoch in new[] { 0, 0, 2, 2, 5 })
        {
            await harness.Log.AppendAsync(Values(1, "x", "y"), epoch, Cancel);
        }

        string before = File.ReadAllText(CheckpointPath(harness));

        await harness.Log.TruncateAsync(9, Cancel);
        Assert.Equal(8, harness.Log.LogEndOffset);
        Assert.Equal([new EpochEntry(0, 0), new EpochEntry(2, 4)], harness.Log.EpochEntries);
        Assert.Equal((2, 8L), harness.Log.EndOffsetForEpoch(5));

        await harness.Log.TruncateAsync(4, Cancel);
        Assert.Equal([new EpochEntry(0, 0)], harness.Log.EpochEntries);
        Assert.Equal((0, 4L), harness.Log.EndOffsetForEpoch(2));

        // A crash after the log was cut but before the checkpoint was rewritten: opening drops the stale entries.
        harness.Kill();
        File.WriteAllText(CheckpointPath(harness), before);
        harness.OpenAgain();
        Assert.Equal(4, harness.Log.LogEndOffset);
        Assert.Equal([new EpochEntry(0, 0)], harness.Log.EpochEntries);
        Assert.Equal("0\n1\n0 0\n", File.ReadAllText(CheckpointPath(harness)));
    }

    [Fact]
    public async Task CleanAsync_RetentionDeletesSegments_MovesTheFirstEpochToTheLogStart()
    {
        var batch = Values(1, "x");
        var config = new PartitionLogConfig { SegmentBytes = 2 * batch.Length, RetentionAge = null, RetentionBytes = 3 * batch.Length };
        await using var harness = LogHarness.Open(config);
        foreach (int epoch in new[] { 0, 0, 1, 1, 1, 3, 4 })
        {
            await harness.Log.AppendAsync(Values(1, "x"), epoch, Cancel);
        }

        string before = File.ReadAllText(CheckpointPath(harness));

        await harness.Log.CleanAsync(Cancel);

        EpochEntry[] expected = [new(1, 4), new(3, 5), new(4, 6)];
        Assert.Equal(4, harness.Log.LogStartOffset);
        Assert.Equal(expected, harness.Log.EpochEntries);
        Assert.Equal((0, 4L), harness.Log.EndOffsetForEpoch(0));
        Assert.Equal((1, 5L), harness.Log.EndOffsetForEpoch(2));

        // A crash after the segments went but before the checkpoint was rewritten: opening clips it again.
        harness.Kill();
        File.WriteAllText(CheckpointPath(harness), before);
        harness.OpenAgain();
        Assert.Equal(expected, harness.Log.EpochEntries);
        await harness.ReopenAsync();
        Assert.Equal(expected, harness.Log.EpochEntries);
    }

    [Theory]
    [InlineData(2)]
    [InlineData(100)]
    public async Task TruncateFullyAndStartAtAsync_CrashBeforeTheCheckpointIsEmptied_OpensWithoutTheOldEpochs(long offset)
    {
        await using var harness = LogHarness.Open(new PartitionLogConfig { SegmentBytes = 200 });
        foreach (int epoch in new[] { 1, 1, 4, 4 })
        {
            await harness.Log.AppendAsync(Values(1, "x", "y"), epoch, Cancel);
        }

        string before = File.ReadAllText(CheckpointPath(harness));

        await harness.Log.TruncateFullyAndStartAtAsync(offset, Cancel);
        Assert.Equal("0\n0\n", File.ReadAllText(CheckpointPath(harness)));
        harness.Kill();
        File.WriteAllText(CheckpointPath(harness), before);
        harness.OpenAgain();

        Assert.Equal((offset, offset), (harness.Log.LogStartOffset, harness.Log.LogEndOffset));
        Assert.Empty(harness.Log.EpochEntries);
        Assert.Equal((-1, -1L), harness.Log.EndOffsetForEpoch(4));
    }

    [Fact]
    public async Task AppendReplicatedAsync_LatestEpochWithoutRecords_GivesWayToAnOlderOne()
    {
        var batch = Values(1, "x");
        var config = new PartitionLogConfig { SegmentBytes = 2 * batch.Length, RetentionAge = null, RetentionBytes = 0 };
        await using var harness = LogHarness.Open(config);
        foreach (int epoch in new[] { 2, 2, 5 })
        {
            await harness.Log.AppendAsync(Values(1, "x"), epoch, Cancel);
        }

        // The epoch-5 tail is torn away, then retention deletes every record: epoch 2 stays, at the empty log's start.
        harness.Kill();
        using (var file = new FileStream(harness.SegmentPath(2), FileMode.Open))
        {
            file.SetLength(10);
        }

        harness.OpenAgain();
        await harness.Log.CleanAsync(Cancel);
        Assert.Equal((2L, 2L), (harness.Log.LogStartOffset, harness.Log.LogEndOffset));
        Assert.Equal([new EpochEntry(2, 2)], harness.Log.EpochEntries);

        await harness.Log.AppendReplicatedAsync(Stamped(2, 1, "from the leader"), Cancel);

        Assert.Equal([new EpochEntry(1, 2)], harness.Log.EpochEntries);
        Assert.Equal(3, harness.Log.LogEndOffset);
    }

    private static string CheckpointPath(LogHarness harness) => Path.Combine(harness.Directory, "leader-epoch-checkpoint");
}
