using System.Buffers;
using Blueprint.Log.Records;
using Blueprint.Log.Storage;
using static Blueprint.Log.Tests.Storage.Batches;

namespace Blueprint.Log.Tests.Storage;

public sealed class PartitionLogReadTests
{
    private static readonly PartitionLogConfig Tiny = new() { SegmentBytes = 300, IndexIntervalBytes = 100, Fsync = FsyncPolicy.Interval, FsyncInterval = TimeSpan.FromHours(1) };

    [Fact]
    public async Task Read_AcrossManySegments_ReturnsEveryRecordInOrder()
    {
        await using var harness = LogHarness.Open(Tiny);
        var expected = new List<string>();
        for (int i = 0; i < 60; i++)
        {
            await harness.Log.AppendAsync(Values(i, $"v{i}a", $"v{i}b"), Cancel);
            expected.AddRange([$"v{i}a", $"v{i}b"]);
        }

        Assert.True(harness.Log.SegmentBaseOffsets.Length >= 20, $"{harness.Log.SegmentBaseOffsets.Length} segments");
        Assert.Equal(expected, TextValues(harness.ReadAll()));
        Assert.Equal(expected, TextValues(harness.ReadAll(maxBytes: 1)));
        Assert.Equal(Enumerable.Range(0, 120).Select(i => (long)i), harness.ReadAll().Select(r => r.Offset));

        await harness.ReopenAsync();
        Assert.Equal(expected, TextValues(harness.ReadAll()));
        Assert.Equal(expected.Skip(77), TextValues(harness.ReadAll(from: 77)).Skip(1));
    }

    [Fact]
    public async Task Read_OffsetInsideABatch_StartsWithThatWholeBatch()
    {
        await using var harness = LogHarness.Open();
        await harness.Log.AppendAsync(Values(1, "0", "1", "2", "3", "4"), Cancel);
        await harness.Log.AppendAsync(Values(1, "5", "6", "7", "8", "9"), Cancel);
        await harness.Log.AppendAsync(Values(1, "10"), Cancel);

        var batches = harness.ReadBatches(from: 7);

        Assert.Equal([5L, 10], batches.Select(b => b.Header.BaseOffset));
        Assert.Equal(["5", "6", "7", "8", "9", "10"], TextValues(batches.SelectMany(b => b.Records)));
    }

    [Fact]
    public async Task Read_UpperBound_StopsBeforeTheBatchThatReachesIt()
    {
        await using var harness = LogHarness.Open();
        await harness.Log.AppendAsync(Values(1, "0", "1", "2"), Cancel);
        await harness.Log.AppendAsync(Values(1, "3", "4", "5"), Cancel);
        await harness.Log.AppendAsync(Values(1, "6", "7", "8"), Cancel);

        Assert.Equal([0L, 3], BaseOffsets(harness.Log, 0, int.MaxValue, upperBound: 6));
        Assert.Equal([0L], BaseOffsets(harness.Log, 0, int.MaxValue, upperBound: 5));
        Assert.Empty(BaseOffsets(harness.Log, 4, int.MaxValue, upperBound: 5));
        Assert.Empty(BaseOffsets(harness.Log, 6, int.MaxValue, upperBound: 6));
        Assert.Equal([0L, 3, 6], BaseOffsets(harness.Log, 0, int.MaxValue, upperBound: 9));
    }

    [Fact]
    public async Task Read_MaxBytes_TakesWholeBatchesButAlwaysTheFirst()
    {
        await using var harness = LogHarness.Open();
        var big = Values(1, new string('b', 500));
        var small = Values(1, "s");
        await harness.Log.AppendAsync(big, Cancel);
        await harness.Log.AppendAsync(small, Cancel);
        await harness.Log.AppendAsync(small, Cancel);

        Assert.Equal([0L], BaseOffsets(harness.Log, 0, maxBytes: 10, long.MaxValue));
        Assert.Equal([0L], BaseOffsets(harness.Log, 0, maxBytes: 0, long.MaxValue));
        Assert.Equal([0L, 1], BaseOffsets(harness.Log, 0, maxBytes: big.Length + small.Length + 5, long.MaxValue));
        Assert.Equal([1L, 2], BaseOffsets(harness.Log, 1, maxBytes: (2 * small.Length) + 60, long.MaxValue));
        Assert.Equal([1L], BaseOffsets(harness.Log, 1, maxBytes: (2 * small.Length) - 1, long.MaxValue));
    }

    [Fact]
    public async Task Read_OutsideTheLog_ThrowsAndAtTheEndReturnsNothing()
    {
        await using var harness = LogHarness.Open();
        await harness.Log.AppendAsync(Values(1, "a", "b"), Cancel);
        var writer = new ArrayBufferWriter<byte>();

        var e = Assert.Throws<OffsetOutOfRangeException>(() => harness.Log.Read(3, 100, long.MaxValue, writer));
        Assert.Throws<OffsetOutOfRangeException>(() => harness.Log.Read(-1, 100, long.MaxValue, writer));

        Assert.Equal(3, e.Offset);
        Assert.Equal(0, harness.Log.Read(2, 100, long.MaxValue, writer));
        Assert.Equal(0, writer.WrittenCount);
    }

    [Fact]
    public async Task Read_WhileAnotherThreadAppends_SeesOnlyWholeValidBatches()
    {
        await using var harness = LogHarness.Open(Tiny with { SegmentBytes = 4_000 });
        const int BatchCount = 400;
        var appender = Task.Run(async () =>
        {
            for (int i = 0; i < BatchCount; i++)
            {
                await harness.Log.AppendAsync(Values(i, $"value-{i}"));
            }
        }, Cancel);

        long next = 0;
        var reader = Task.Run(() =>
        {
            while (next < BatchCount)
            {
                var writer = new ArrayBufferWriter<byte>();
                harness.Log.Read(next, 700, long.MaxValue, writer);
                int position = 0;
                while (position < writer.WrittenCount)
                {
                    var header = RecordBatchHeader.Parse(writer.WrittenSpan[position..]);
                    Assert.True(header.HasValidCrc(writer.WrittenSpan[position..]));
                    Assert.Equal(next, header.BaseOffset);
                    Assert.Equal($"value-{next}", Text(RecordBatchReader.ReadRecords(writer.WrittenMemory.Slice(position, header.TotalSize), 1024)[0].Value));
                    next = header.LastOffset + 1;
                    position += header.TotalSize;
                }
            }
        }, Cancel);

        await Task.WhenAll(appender, reader).WaitAsync(TimeSpan.FromSeconds(60), Cancel);
        Assert.Equal(BatchCount, next);
    }

    [Fact]
    public async Task Read_WarmFetchAcrossSegments_AllocatesNothing()
    {
        await using var harness = LogHarness.Open(Tiny);
        for (int i = 0; i < 40; i++)
        {
            await harness.Log.AppendAsync(Values(i, $"v{i}a", $"v{i}b"), Cancel);
        }

        var writer = new ArrayBufferWriter<byte>(64 * 1024);
        long[] offsets = [0, 17, 41, 79];
        foreach (long offset in offsets)
        {
            harness.Log.Read(offset, 1_000, long.MaxValue, writer);
            writer.ResetWrittenCount();
        }

        long before = GC.GetAllocatedBytesForCurrentThread();
        int total = 0;
        foreach (long offset in offsets)
        {
            total += harness.Log.Read(offset, 1_000, long.MaxValue, writer);
            writer.ResetWrittenCount();
        }

        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.True(total > 3_000, $"{total} bytes read");
        Assert.Equal(0, allocated);
    }

    [Fact]
    public async Task OffsetForTimestamp_FindsTheFirstRecordAtOrAfter()
    {
        await using var harness = LogHarness.Open(Tiny);
        for (int i = 0; i < 30; i++)
        {
            var builder = new RecordBatchBuilder().Add(1_000 * i, null, Bytes($"a{i}")).Add((1_000 * i) + 500, null, Bytes($"b{i}"));
            await harness.Log.AppendAsync(builder.Build(), Cancel);
        }

        Assert.True(harness.Log.SegmentBaseOffsets.Length > 5);
        for (int pass = 0; pass < 2; pass++)
        {
            Assert.Equal((0L, 0L), harness.Log.OffsetForTimestamp(-5));
            Assert.Equal((14L, 7_000L), harness.Log.OffsetForTimestamp(7_000));
            Assert.Equal((15L, 7_500L), harness.Log.OffsetForTimestamp(7_001));
            Assert.Equal((16L, 8_000L), harness.Log.OffsetForTimestamp(7_501));
            Assert.Equal((59L, 29_500L), harness.Log.OffsetForTimestamp(29_500));
            Assert.Null(harness.Log.OffsetForTimestamp(29_501));
            await harness.ReopenAsync();
        }
    }

    private static long[] BaseOffsets(PartitionLog log, long offset, int maxBytes, long upperBound)
    {
        var writer = new ArrayBufferWriter<byte>();
        int read = log.Read(offset, maxBytes, upperBound, writer);
        Assert.Equal(read, writer.WrittenCount);
        var offsets = new List<long>();
        int position = 0;
        while (position < read)
        {
            var header = RecordBatchHeader.Parse(writer.WrittenSpan[position..]);
            offsets.Add(header.BaseOffset);
            position += header.TotalSize;
        }

        Assert.Equal(read, position);
        return [.. offsets];
    }
}
