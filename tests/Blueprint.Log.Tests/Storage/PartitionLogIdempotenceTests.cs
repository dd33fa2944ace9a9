using Blueprint.Log.Kafka;
using Blueprint.Log.Storage;
using static Blueprint.Log.Tests.Storage.Batches;

namespace Blueprint.Log.Tests.Storage;

public sealed class PartitionLogIdempotenceTests
{
    [Fact]
    public async Task AppendAsync_RetriedBatch_ReturnsItsOriginalOffsetsWithoutWriting()
    {
        await using var harness = LogHarness.Open();
        await harness.Log.AppendAsync(Values(1, "before"), Cancel);
        var batch = Idempotent(producerId: 7, epoch: 0, baseSequence: 0, count: 3);

        var first = await harness.Log.AppendAsync(batch, Cancel);
        long size = harness.Log.SizeBytes;
        var retry = await harness.Log.AppendAsync(batch, Cancel);

        Assert.Equal((1L, 3L, false), (first.BaseOffset, first.LastOffset, first.Duplicate));
        Assert.Equal((1L, 3L, true), (retry.BaseOffset, retry.LastOffset, retry.Duplicate));
        Assert.Equal(size, harness.Log.SizeBytes);
        Assert.Equal(4, harness.Log.LogEndOffset);
        Assert.Equal(4, (await harness.Log.AppendAsync(Idempotent(7, 0, 3), Cancel)).BaseOffset);
    }

    [Fact]
    public async Task AppendAsync_RetryOfOneOfTheLastFiveBatches_IsADuplicate_OlderIsOutOfOrder()
    {
        await using var harness = LogHarness.Open();
        var batches = Enumerable.Range(0, 6).Select(i => Idempotent(7, 0, baseSequence: 2 * i, count: 2)).ToArray();
        foreach (var batch in batches)
        {
            await harness.Log.AppendAsync(batch, Cancel);
        }

        var retry = await harness.Log.AppendAsync(batches[1], Cancel);
        var tooOld = await Assert.ThrowsAsync<RecordRejectedException>(async () => await harness.Log.AppendAsync(batches[0], Cancel));

        Assert.Equal((2L, 3L, true), (retry.BaseOffset, retry.LastOffset, retry.Duplicate));
        Assert.Equal(ErrorCode.OutOfOrderSequenceNumber, tooOld.Code);
        Assert.Equal(12, harness.Log.LogEndOffset);
    }

    [Fact]
    public async Task AppendAsync_SequenceGap_IsOutOfOrderAndNothingIsWritten()
    {
        await using var harness = LogHarness.Open();
        await harness.Log.AppendAsync(Idempotent(7, 0, 0, count: 2), Cancel);

        var gap = await Assert.ThrowsAsync<RecordRejectedException>(async () => await harness.Log.AppendAsync(Idempotent(7, 0, 5), Cancel));
        var overlap = await Assert.ThrowsAsync<RecordRejectedException>(async () => await harness.Log.AppendAsync(Idempotent(7, 0, 1), Cancel));

        Assert.Equal(ErrorCode.OutOfOrderSequenceNumber, gap.Code);
        Assert.Equal(ErrorCode.OutOfOrderSequenceNumber, overlap.Code);
        Assert.Equal(2, harness.Log.LogEndOffset);
        Assert.Equal(2, (await harness.Log.AppendAsync(Idempotent(7, 0, 2), Cancel)).BaseOffset);
    }

    [Fact]
    public async Task AppendAsync_Epochs_OlderIsFencedAndANewOneStartsAtZero()
    {
        await using var harness = LogHarness.Open();
        await harness.Log.AppendAsync(Idempotent(7, epoch: 1, baseSequence: 0), Cancel);

        var older = await Assert.ThrowsAsync<RecordRejectedException>(async () => await harness.Log.AppendAsync(Idempotent(7, epoch: 0, baseSequence: 1), Cancel));
        var newNotAtZero = await Assert.ThrowsAsync<RecordRejectedException>(async () => await harness.Log.AppendAsync(Idempotent(7, epoch: 2, baseSequence: 1), Cancel));
        var newAtZero = await harness.Log.AppendAsync(Idempotent(7, epoch: 2, baseSequence: 0), Cancel);
        var olderAgain = await Assert.ThrowsAsync<RecordRejectedException>(async () => await harness.Log.AppendAsync(Idempotent(7, epoch: 1, baseSequence: 1), Cancel));

        Assert.Equal(ErrorCode.InvalidProducerEpoch, older.Code);
        Assert.Equal(ErrorCode.OutOfOrderSequenceNumber, newNotAtZero.Code);
        Assert.Equal((1L, false), (newAtZero.BaseOffset, newAtZero.Duplicate));
        Assert.Equal(ErrorCode.InvalidProducerEpoch, olderAgain.Code);
    }

    [Fact]
    public async Task AppendAsync_UnknownProducer_MayStartAtAnySequence_AndProducersAreIndependent()
    {
        await using var harness = LogHarness.Open();

        var unknown = await harness.Log.AppendAsync(Idempotent(7, 3, baseSequence: 42), Cancel);
        var other = await harness.Log.AppendAsync(Idempotent(8, 0, baseSequence: 0), Cancel);
        var next = await harness.Log.AppendAsync(Idempotent(7, 3, baseSequence: 43), Cancel);

        Assert.Equal([0L, 1, 2], new[] { unknown.BaseOffset, other.BaseOffset, next.BaseOffset });
    }

    [Fact]
    public async Task AppendAsync_RepeatedSequenceInsideOneAppend_IsRejected()
    {
        await using var harness = LogHarness.Open();
        var batch = Idempotent(7, 0, 0);

        var e = await Assert.ThrowsAsync<RecordRejectedException>(async () => await harness.Log.AppendAsync(batch.Concat(batch).ToArray(), Cancel));

        Assert.Equal(ErrorCode.DuplicateSequenceNumber, e.Code);
        Assert.Equal(0, harness.Log.LogEndOffset);
    }

    [Theory]
    [InlineData(false, false)]
    [InlineData(true, false)]
    [InlineData(true, true)]
    public async Task AppendAsync_RetryAfterReopen_IsStillADuplicate(bool killed, bool withoutSnapshots)
    {
        await using var harness = LogHarness.Open(new PartitionLogConfig { SegmentBytes = 200 });
        var batches = Enumerable.Range(0, 12).Select(i => Idempotent(7, 0, baseSequence: i, value: $"b{i}")).ToArray();
        var offsets = new List<long>();
        foreach (var batch in batches)
        {
            offsets.Add((await harness.Log.AppendAsync(batch, Cancel)).BaseOffset);
            await harness.Log.AppendAsync(Values(1, "noise"), Cancel);
        }

        Assert.True(harness.Log.SegmentBaseOffsets.Length > 4);
        if (killed)
        {
            harness.Kill();
            if (withoutSnapshots)
            {
                foreach (string snapshot in Directory.EnumerateFiles(harness.Directory, "*.snapshot"))
                {
                    File.Delete(snapshot);
                }
            }

            harness.OpenAgain();
        }
        else
        {
            await harness.ReopenAsync();
        }

        for (int i = 7; i < 12; i++)
        {
            var retry = await harness.Log.AppendAsync(batches[i], Cancel);
            Assert.True(retry.Duplicate, $"batch {i}");
            Assert.Equal(offsets[i], retry.BaseOffset);
        }

        long end = harness.Log.LogEndOffset;
        var gap = await Assert.ThrowsAsync<RecordRejectedException>(async () => await harness.Log.AppendAsync(Idempotent(7, 0, 13), Cancel));
        Assert.Equal(ErrorCode.OutOfOrderSequenceNumber, gap.Code);
        Assert.Equal(end, (await harness.Log.AppendAsync(Idempotent(7, 0, 12), Cancel)).BaseOffset);
    }
}
