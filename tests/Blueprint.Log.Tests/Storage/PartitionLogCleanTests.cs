using Blueprint.Log.Records;
using Blueprint.Log.Storage;
using static Blueprint.Log.Tests.Storage.Batches;

namespace Blueprint.Log.Tests.Storage;

public sealed class PartitionLogCleanTests
{
    [Fact]
    public async Task AppendAsync_SegmentBytesReached_RollsToANewSegmentAtTheNextOffset()
    {
        var batch = Values(1, "abc", "def");
        await using var harness = LogHarness.Open(new PartitionLogConfig { SegmentBytes = 2 * batch.Length });

        for (int i = 0; i < 5; i++)
        {
            await harness.Log.AppendAsync(batch, Cancel);
        }

        Assert.Equal([0L, 4, 8], harness.Log.SegmentBaseOffsets);
        Assert.True(File.Exists(harness.SegmentPath(0, ".index")));
        Assert.True(File.Exists(harness.SegmentPath(0, ".timeindex")));
        Assert.True(File.Exists(harness.SegmentPath(4, ".snapshot")));
        Assert.Equal(5 * batch.Length, harness.Log.SizeBytes);
    }

    [Fact]
    public async Task AppendAsync_SegmentAgeReached_RollsOnTheNextAppend()
    {
        await using var harness = LogHarness.Open(new PartitionLogConfig { SegmentAge = TimeSpan.FromHours(1) });
        await harness.Log.AppendAsync(Values(1, "a", "b"), Cancel);

        harness.Time.Advance(TimeSpan.FromMinutes(59));
        await harness.Log.AppendAsync(Values(1, "c"), Cancel);
        Assert.Equal([0L], harness.Log.SegmentBaseOffsets);

        harness.Time.Advance(TimeSpan.FromMinutes(1));
        await harness.Log.AppendAsync(Values(1, "d"), Cancel);
        Assert.Equal([0L, 3], harness.Log.SegmentBaseOffsets);

        // The new segment's age counts from its own first append.
        harness.Time.Advance(TimeSpan.FromMinutes(30));
        await harness.Log.AppendAsync(Values(1, "e"), Cancel);
        Assert.Equal([0L, 3], harness.Log.SegmentBaseOffsets);
    }

    [Fact]
    public async Task CleanAsync_RetentionAge_DeletesExpiredClosedSegmentsAndMovesTheStart()
    {
        var batch = Values(0, "xxxxx");
        await using var harness = LogHarness.Open(new PartitionLogConfig { SegmentBytes = 2 * batch.Length, RetentionAge = TimeSpan.FromDays(1) });
        long old = harness.NowMs - (long)TimeSpan.FromDays(3).TotalMilliseconds;
        for (int i = 0; i < 4; i++)
        {
            await harness.Log.AppendAsync(Values(old + i, $"old{i}"), Cancel);
        }

        for (int i = 0; i < 4; i++)
        {
            await harness.Log.AppendAsync(Values(harness.NowMs, $"new{i}"), Cancel);
        }

        Assert.Equal([0L, 2, 4, 6], harness.Log.SegmentBaseOffsets);
        long sizeBefore = harness.Log.SizeBytes;

        long freed = await harness.Log.CleanAsync(Cancel);

        Assert.Equal([4L, 6], harness.Log.SegmentBaseOffsets);
        Assert.Equal(4, harness.Log.LogStartOffset);
        Assert.Equal(sizeBefore - freed, harness.Log.SizeBytes);
        Assert.Equal(4 * Values(old, "old0").Length, freed);
        Assert.False(File.Exists(harness.SegmentPath(0)));
        Assert.False(File.Exists(harness.SegmentPath(2, ".index")));
        Assert.Throws<OffsetOutOfRangeException>(() => harness.Log.Read(3, 100, long.MaxValue, new System.Buffers.ArrayBufferWriter<byte>()));
        Assert.Equal(["new0", "new1", "new2", "new3"], TextValues(harness.ReadAll()));

        await harness.ReopenAsync();
        Assert.Equal(4, harness.Log.LogStartOffset);
        Assert.Equal(0, await harness.Log.CleanAsync(Cancel));
    }

    [Fact]
    public async Task CleanAsync_EverythingExpired_KeepsTheActiveSegment()
    {
        var batch = Values(0, "xxxxx");
        await using var harness = LogHarness.Open(new PartitionLogConfig { SegmentBytes = 2 * batch.Length, RetentionAge = TimeSpan.FromHours(1) });
        for (int i = 0; i < 5; i++)
        {
            await harness.Log.AppendAsync(Values(harness.NowMs, $"v{i}"), Cancel);
        }

        harness.Time.Advance(TimeSpan.FromHours(2));
        await harness.Log.CleanAsync(Cancel);

        Assert.Equal([4L], harness.Log.SegmentBaseOffsets);
        Assert.Equal(4, harness.Log.LogStartOffset);
        Assert.Equal(5, harness.Log.LogEndOffset);
        Assert.Equal(5, (await harness.Log.AppendAsync(Values(harness.NowMs, "v5"), Cancel)).BaseOffset);
        Assert.Equal(["v4", "v5"], TextValues(harness.ReadAll()));
    }

    [Fact]
    public async Task CleanAsync_RetentionBytes_DeletesOldestWhileTheRestStaysOverTheLimit()
    {
        var batch = Values(0, "xxxxx");
        await using var harness = LogHarness.Open(new PartitionLogConfig { SegmentBytes = 2 * batch.Length, RetentionAge = null, RetentionBytes = 5 * batch.Length });
        for (int i = 0; i < 10; i++)
        {
            await harness.Log.AppendAsync(Values(0, "xxxxx"), Cancel);
        }

        long freed = await harness.Log.CleanAsync(Cancel);

        // 10 batches in 5 segments of 2: dropping two segments leaves 6 batches; a third would leave 4 < 5.
        Assert.Equal([4L, 6, 8], harness.Log.SegmentBaseOffsets);
        Assert.Equal(4 * batch.Length, freed);
        Assert.Equal(6 * batch.Length, harness.Log.SizeBytes);
    }

    [Fact]
    public async Task CleanAsync_NoRetentionLimits_DeletesNothing()
    {
        var batch = Values(0, "xxxxx");
        await using var harness = LogHarness.Open(new PartitionLogConfig { SegmentBytes = 2 * batch.Length, RetentionAge = null });
        for (int i = 0; i < 6; i++)
        {
            await harness.Log.AppendAsync(batch, Cancel);
        }

        harness.Time.Advance(TimeSpan.FromDays(3650));
        Assert.Equal(0, await harness.Log.CleanAsync(Cancel));
        Assert.Equal(3, harness.Log.SegmentBaseOffsets.Length);
    }

    [Theory]
    [InlineData(CompressionType.None)]
    [InlineData(CompressionType.Gzip)]
    [InlineData(CompressionType.Zstd)]
    public async Task CleanAsync_Compact_KeepsTheLatestRecordPerKeyWithItsOffset(CompressionType codec)
    {
        await using var harness = LogHarness.Open(new PartitionLogConfig { Compact = true, SegmentBytes = 400, IndexIntervalBytes = 50 });
        var appended = new List<(long Offset, string Key, string? Value)>();
        var random = new Random(11);
        for (int i = 0; i < 40; i++)
        {
            var records = Enumerable.Range(0, 3).Select(r => ($"k{random.Next(5)}", r == 2 && i % 7 == 0 ? null : $"v{i}.{r}")).ToArray();
            var result = await harness.Log.AppendAsync(Keyed(1_000 + i, codec, records), Cancel);
            appended.AddRange(records.Select((record, r) => (result.BaseOffset + r, record.Item1, record.Item2)));
        }

        var segmentsBefore = harness.Log.SegmentBaseOffsets;
        long activeBase = segmentsBefore[^1];
        long sizeBefore = harness.Log.SizeBytes;
        Assert.True(segmentsBefore.Length > 5);

        long freed = await harness.Log.CleanAsync(Cancel);

        var latest = appended.GroupBy(r => r.Key).ToDictionary(g => g.Key, g => g.Max(r => r.Offset));
        var expected = appended.Where(r => r.Offset >= activeBase || latest[r.Key] == r.Offset).ToList();
        var batches = harness.ReadBatches();
        var actual = batches.SelectMany(b => b.Records).Select(r => (r.Offset, Text(r.Key)!, Text(r.Value))).ToList();
        Assert.Equal(expected, actual);
        Assert.True(freed > 0);
        Assert.Equal(sizeBefore - freed, harness.Log.SizeBytes);
        Assert.Equal(segmentsBefore, harness.Log.SegmentBaseOffsets);
        Assert.Equal(appended.Count, harness.Log.LogEndOffset);
        Assert.All(batches, b => Assert.Equal(codec, b.Header.Compression));
        Assert.DoesNotContain(Directory.EnumerateFiles(harness.Directory), f => f.EndsWith(".cleaned", StringComparison.Ordinal));

        Assert.Equal(0, await harness.Log.CleanAsync(Cancel));
        await harness.ReopenAsync();
        Assert.Equal(expected, harness.ReadAll().Select(r => (r.Offset, Text(r.Key)!, Text(r.Value))).ToList());
        Assert.Equal(appended.Count, (await harness.Log.AppendAsync(Keyed(1, codec, ("k0", "after")), Cancel)).BaseOffset);
    }

    [Fact]
    public async Task CleanAsync_CompactedBatch_KeepsItsOffsetRangeAndProducerFields()
    {
        await using var harness = LogHarness.Open(new PartitionLogConfig { Compact = true, SegmentBytes = 120 });
        var builder = new RecordBatchBuilder { ProducerId = 9, ProducerEpoch = 1, BaseSequence = 0 }
            .Add(1, Bytes("a"), Bytes("old a"))
            .Add(2, Bytes("b"), Bytes("only b"))
            .Add(3, Bytes("c"), Bytes("old c"));
        await harness.Log.AppendAsync(builder.Build(), Cancel);
        await harness.Log.AppendAsync(Keyed(4, CompressionType.None, ("a", "new a"), ("c", "new c")), Cancel);
        await harness.Log.AppendAsync(Keyed(5, CompressionType.None, ("z", "active")), Cancel);
        Assert.Equal(3, harness.Log.SegmentBaseOffsets.Length);

        await harness.Log.CleanAsync(Cancel);

        var first = harness.ReadBatches()[0];
        Assert.Equal((0L, 2L), (first.Header.BaseOffset, first.Header.LastOffset));
        Assert.Equal((9L, (short)1, 0), (first.Header.ProducerId, first.Header.ProducerEpoch, first.Header.BaseSequence));
        Assert.Equal((1, 2), (first.Header.RecordCount, first.Header.LastOffsetDelta));
        Assert.Equal([1L], first.Records.Select(r => r.Offset));
        Assert.Equal("only b", Text(first.Records[0].Value));

        // The producer's retry still counts as a duplicate: its state does not depend on the compacted bytes.
        var retry = await harness.Log.AppendAsync(builder.Build(), Cancel);
        Assert.True(retry.Duplicate);
        Assert.Equal((0L, 2L), (retry.BaseOffset, retry.LastOffset));
    }
}
