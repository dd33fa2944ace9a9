using System.Buffers.Binary;
using Blueprint.Log.Kafka;
using Blueprint.Log.Records;
using Blueprint.Log.Storage;
using static Blueprint.Log.Tests.Storage.Batches;

namespace Blueprint.Log.Tests.Storage;

public sealed class PartitionLogAppendTests
{
    [Fact]
    public async Task AppendAsync_Batches_GetConsecutiveOffsets()
    {
        await using var harness = LogHarness.Open();

        var first = await harness.Log.AppendAsync(Values(1, "a", "b", "c"), Cancel);
        var second = await harness.Log.AppendAsync(Values(2, "d", "e"), Cancel);

        Assert.Equal((0L, 2L, false), (first.BaseOffset, first.LastOffset, first.Duplicate));
        Assert.Equal((3L, 4L, false), (second.BaseOffset, second.LastOffset, second.Duplicate));
        Assert.Equal(harness.NowMs, second.LogAppendTime);
        Assert.Equal(5, harness.Log.LogEndOffset);
        Assert.Equal(0, harness.Log.LogStartOffset);
        var records = harness.ReadAll();
        Assert.Equal(["a", "b", "c", "d", "e"], TextValues(records));
        Assert.Equal([0L, 1, 2, 3, 4], records.Select(r => r.Offset));
    }

    [Fact]
    public async Task AppendAsync_SeveralBatchesInOneInput_GivesThemSuccessiveOffsets()
    {
        await using var harness = LogHarness.Open();
        await harness.Log.AppendAsync(Values(1, "first"), Cancel);

        var result = await harness.Log.AppendAsync(Values(1, "a", "b").Concat(Values(1, "c")).Concat(Values(1, "d", "e", "f")).ToArray(), Cancel);

        Assert.Equal((1L, 6L), (result.BaseOffset, result.LastOffset));
        var batches = harness.ReadBatches();
        Assert.Equal([0L, 1, 3, 4], batches.Select(b => b.Header.BaseOffset));
        Assert.Equal(["first", "a", "b", "c", "d", "e", "f"], TextValues(batches.SelectMany(b => b.Records)));
    }

    [Fact]
    public async Task AppendAsync_OneCorruptBatchAmongValidOnes_RejectsAllAndWritesNothing()
    {
        await using var harness = LogHarness.Open();
        var corrupt = Values(1, "bad");
        corrupt[^1] ^= 0x40;

        var e = await Assert.ThrowsAsync<RecordRejectedException>(async () => await harness.Log.AppendAsync(Values(1, "good").Concat(corrupt).ToArray(), Cancel));

        Assert.Equal(ErrorCode.CorruptMessage, e.Code);
        Assert.Equal(0, harness.Log.LogEndOffset);
        Assert.Equal(0, harness.Log.SizeBytes);
        var next = await harness.Log.AppendAsync(Values(1, "after"), Cancel);
        Assert.Equal(0, next.BaseOffset);
        Assert.Equal(["after"], TextValues(harness.ReadAll()));
    }

    [Fact]
    public async Task AppendAsync_PartialInput_IsCorruptMessage()
    {
        await using var harness = LogHarness.Open();
        var batch = Values(1, "value");

        var cutInBody = await Assert.ThrowsAsync<RecordRejectedException>(async () => await harness.Log.AppendAsync(batch.AsMemory(0, batch.Length - 1), Cancel));
        var cutInHeader = await Assert.ThrowsAsync<RecordRejectedException>(async () => await harness.Log.AppendAsync(batch.Concat(batch.Take(30)).ToArray(), Cancel));

        Assert.Equal(ErrorCode.CorruptMessage, cutInBody.Code);
        Assert.Equal(ErrorCode.CorruptMessage, cutInHeader.Code);
        Assert.Equal(0, harness.Log.LogEndOffset);
    }

    [Fact]
    public async Task AppendAsync_BatchOverTheLimit_IsMessageTooLarge()
    {
        await using var harness = LogHarness.Open(new PartitionLogConfig { MaxBatchBytes = 200 });
        var large = Values(1, new string('x', 300));

        var e = await Assert.ThrowsAsync<RecordRejectedException>(async () => await harness.Log.AppendAsync(large, Cancel));

        Assert.Equal(ErrorCode.MessageTooLarge, e.Code);
        Assert.Equal(0, harness.Log.SizeBytes);
    }

    [Fact]
    public async Task AppendAsync_InconsistentHeaders_AreInvalidRecord()
    {
        await using var harness = LogHarness.Open();

        var oldMagic = Values(1, "a");
        oldMagic[16] = 1;
        var noRecords = Reseal(WithInt32(Values(1, "a"), 57, 0));
        var wrongDelta = Reseal(WithInt32(Values(1, "a", "b"), 23, 5));
        var sequenceless = Reseal(WithInt64(Values(1, "a"), 43, 9));

        foreach (var batch in new[] { oldMagic, noRecords, wrongDelta, sequenceless })
        {
            var e = await Assert.ThrowsAsync<RecordRejectedException>(async () => await harness.Log.AppendAsync(batch, Cancel));
            Assert.Equal(ErrorCode.InvalidRecord, e.Code);
        }

        Assert.Equal(0, harness.Log.SizeBytes);
    }

    [Fact]
    public async Task AppendAsync_CompressedBatch_IsStoredAsItCame()
    {
        await using var harness = LogHarness.Open();
        await harness.Log.AppendAsync(Values(1, "a", "b"), Cancel);
        var zstd = new RecordBatchBuilder(CompressionType.Zstd).Add(5, Bytes("k"), Bytes(new string('z', 2_000))).Add(6, null, Bytes("tail")).Build();

        await harness.Log.AppendAsync(zstd, Cancel);

        var stored = new System.Buffers.ArrayBufferWriter<byte>();
        harness.Log.Read(2, 1 << 20, long.MaxValue, stored);
        var expected = (byte[])zstd.Clone();
        BinaryPrimitives.WriteInt64BigEndian(expected, 2);
        BinaryPrimitives.WriteInt32BigEndian(expected.AsSpan(12), 0); // the leader epoch the append stamps
        Assert.Equal(expected, stored.WrittenSpan.ToArray());
        Assert.Equal(["a", "b", new string('z', 2_000), "tail"], TextValues(harness.ReadAll()));
    }

    [Fact]
    public async Task AppendAsync_DecompressionBomb_IsRejectedAsCorrupt()
    {
        await using var harness = LogHarness.Open(new PartitionLogConfig { MaxDecompressedBatchBytes = 10_000 });
        var bomb = new RecordBatchBuilder(CompressionType.Lz4).Add(1, null, Bytes(new string('0', 200_000))).Build();
        Assert.True(bomb.Length < 2_000);

        var e = await Assert.ThrowsAsync<RecordRejectedException>(async () => await harness.Log.AppendAsync(bomb, Cancel));

        Assert.Equal(ErrorCode.CorruptMessage, e.Code);
        Assert.Equal(0, harness.Log.SizeBytes);
    }

    [Fact]
    public async Task AppendAsync_CompactedLogRecordWithoutKey_IsInvalidRecord()
    {
        await using var harness = LogHarness.Open(new PartitionLogConfig { Compact = true });

        var e = await Assert.ThrowsAsync<RecordRejectedException>(async () => await harness.Log.AppendAsync(Values(1, "no key"), Cancel));
        var ok = await harness.Log.AppendAsync(Keyed(1, CompressionType.Gzip, ("k", "v")), Cancel);

        Assert.Equal(ErrorCode.InvalidRecord, e.Code);
        Assert.Equal(0, ok.BaseOffset);
    }

    [Fact]
    public async Task AppendAsync_MoreBytesThanASegment_IsRecordListTooLarge()
    {
        await using var harness = LogHarness.Open(new PartitionLogConfig { SegmentBytes = 150 });

        var e = await Assert.ThrowsAsync<RecordRejectedException>(async () => await harness.Log.AppendAsync(Values(1, "a").Concat(Values(1, "b")).Concat(Values(1, "c")).ToArray(), Cancel));

        Assert.Equal(ErrorCode.RecordListTooLarge, e.Code);
    }

    [Fact]
    public async Task AppendAsync_EmptyInput_IsInvalidRecord()
    {
        await using var harness = LogHarness.Open();

        var e = await Assert.ThrowsAsync<RecordRejectedException>(async () => await harness.Log.AppendAsync(ReadOnlyMemory<byte>.Empty, Cancel));

        Assert.Equal(ErrorCode.InvalidRecord, e.Code);
    }

    [Fact]
    public void Open_InvalidSettings_NamesEveryProblem()
    {
        using var directory = new TempDirectory("blueprint-log");
        var config = new PartitionLogConfig { SegmentBytes = 10, IndexIntervalBytes = -1, MaxDecompressedBatchBytes = 0, SegmentAge = TimeSpan.Zero };

        var e = Assert.Throws<ArgumentException>(() => PartitionLog.Open(directory.Path, config, TimeProvider.System));

        Assert.Contains("SegmentBytes", e.Message, StringComparison.Ordinal);
        Assert.Contains("IndexIntervalBytes", e.Message, StringComparison.Ordinal);
        Assert.Contains("MaxDecompressedBatchBytes", e.Message, StringComparison.Ordinal);
        Assert.Contains("SegmentAge", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Open_DirectoryAlreadyOpen_IsRefused()
    {
        await using var harness = LogHarness.Open();

        Assert.ThrowsAny<IOException>(() => PartitionLog.Open(harness.Directory, harness.Config, harness.Time));
        await harness.Log.AppendAsync(Values(1, "still works"), Cancel);
        Assert.Equal(1, harness.Log.LogEndOffset);
    }

    private static byte[] WithInt32(byte[] batch, int position, int value)
    {
        BinaryPrimitives.WriteInt32BigEndian(batch.AsSpan(position), value);
        return batch;
    }

    private static byte[] WithInt64(byte[] batch, int position, long value)
    {
        BinaryPrimitives.WriteInt64BigEndian(batch.AsSpan(position), value);
        return batch;
    }
}
