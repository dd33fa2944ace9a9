using Blueprint.Log.Storage;
using static Blueprint.Log.Tests.Storage.Batches;

namespace Blueprint.Log.Tests.Storage;

public sealed class PartitionLogTruncateTests
{
    private static readonly PartitionLogConfig Small = new() { SegmentBytes = 250, IndexIntervalBytes = 50 };

    [Theory]
    [InlineData(14, 14)]
    [InlineData(15, 14)]
    [InlineData(39, 38)]
    [InlineData(1, 0)]
    public async Task TruncateAsync_AcrossSegments_RemovesEveryOffsetFromThere(long offset, long expectedEnd)
    {
        await using var harness = LogHarness.Open(Small);
        for (int i = 0; i < 20; i++)
        {
            await harness.Log.AppendAsync(Values(1_000 * i, $"{2 * i}", $"{(2 * i) + 1}"), Cancel);
        }

        await harness.Log.TruncateAsync(offset, Cancel);

        Assert.Equal(expectedEnd, harness.Log.LogEndOffset);
        Assert.All(harness.Log.SegmentBaseOffsets, b => Assert.True(b <= expectedEnd));
        Assert.Equal(Enumerable.Range(0, (int)expectedEnd).Select(i => $"{i}"), TextValues(harness.ReadAll()));
        Assert.Equal(expectedEnd, (await harness.Log.AppendAsync(Values(0, "new"), Cancel)).BaseOffset);
        Assert.Null(harness.Log.OffsetForTimestamp((1_000 * (expectedEnd / 2)) + 1));

        harness.Kill();
        harness.OpenAgain();
        Assert.Equal(expectedEnd + 1, harness.Log.LogEndOffset);
        Assert.Equal(Enumerable.Range(0, (int)expectedEnd).Select(i => $"{i}").Append("new"), TextValues(harness.ReadAll()));
    }

    [Fact]
    public async Task TruncateAsync_ToTheStart_EmptiesTheLog()
    {
        await using var harness = LogHarness.Open(Small);
        for (int i = 0; i < 10; i++)
        {
            await harness.Log.AppendAsync(Values(1, $"v{i}"), Cancel);
        }

        await harness.Log.TruncateAsync(0, Cancel);

        Assert.Equal((0L, 0L, 0L), (harness.Log.LogStartOffset, harness.Log.LogEndOffset, harness.Log.SizeBytes));
        Assert.Equal([0L], harness.Log.SegmentBaseOffsets);
        Assert.Equal(0, (await harness.Log.AppendAsync(Values(1, "fresh"), Cancel)).BaseOffset);
        await harness.ReopenAsync();
        Assert.Equal(["fresh"], TextValues(harness.ReadAll()));
    }

    [Fact]
    public async Task TruncateAsync_PastTheEnd_ChangesNothing()
    {
        await using var harness = LogHarness.Open(Small);
        await harness.Log.AppendAsync(Values(1, "a", "b"), Cancel);

        await harness.Log.TruncateAsync(2, Cancel);
        await harness.Log.TruncateAsync(50, Cancel);

        Assert.Equal(2, harness.Log.LogEndOffset);
        Assert.Equal(["a", "b"], TextValues(harness.ReadAll()));
    }

    [Fact]
    public async Task TruncateAsync_ProducerState_ForgetsTheRemovedBatches()
    {
        await using var harness = LogHarness.Open(Small);
        var batches = Enumerable.Range(0, 8).Select(i => Idempotent(5, 0, baseSequence: i, value: $"b{i}")).ToArray();
        foreach (var batch in batches)
        {
            await harness.Log.AppendAsync(batch, Cancel);
        }

        await harness.Log.TruncateAsync(6, Cancel);

        var kept = await harness.Log.AppendAsync(batches[5], Cancel);
        var removed = await harness.Log.AppendAsync(batches[6], Cancel);
        Assert.True(kept.Duplicate);
        Assert.Equal(5, kept.BaseOffset);
        Assert.False(removed.Duplicate);
        Assert.Equal(6, removed.BaseOffset);
    }
}
