using System.Buffers.Binary;
using Blueprint.Log.Kafka;
using Blueprint.Log.Records;
using Blueprint.Log.Storage;
using static Blueprint.Log.Tests.Storage.Batches;

namespace Blueprint.Log.Tests.Storage;

/// <summary>A follower's log built from a leader's fetch output by <see cref="PartitionLog.AppendReplicatedAsync"/>.</summary>
public sealed class PartitionLogReplicaTests
{
    private static readonly PartitionLogConfig Small = new() { SegmentBytes = 250, IndexIntervalBytes = 60 };

    [Fact]
    public async Task AppendReplicatedAsync_LeaderFetchOutput_FollowerIsByteIdentical()
    {
        await using var leader = LogHarness.Open(Small);
        await using var follower = LogHarness.Open(Small);
        for (int i = 0; i < 24; i++)
        {
            int epoch = i < 6 ? 0 : i < 15 ? 2 : 5;
            var batch = i % 3 == 0 ? Idempotent(producerId: 40 + (i % 2), epoch: 0, baseSequence: i / 6, value: $"p{i}") : Values(1_000 + i, $"v{i}");
            await leader.Log.AppendAsync(batch, epoch, Cancel);
        }

        // Fetches of 1000 bytes span several 250-byte segments: the follower splits them as the leader rolled.
        int fetches = await ReplicateAsync(leader, follower, fetchBytes: 1000);

        Assert.True(fetches > 1);
        Assert.True(leader.Log.SegmentBaseOffsets.Length > 4);
        AssertSameLog(leader, follower);
        Assert.Equal([new EpochEntry(0, 0), new EpochEntry(2, 6), new EpochEntry(5, 15)], follower.Log.EpochEntries);

        follower.Kill();
        follower.OpenAgain();
        AssertSameLog(leader, follower);
        Assert.Equal(leader.Log.EpochEntries, follower.Log.EpochEntries);
    }

    [Fact]
    public async Task AppendReplicatedAsync_FetchOfSeveralSegments_RollsExactlyWhereTheLeaderRolled()
    {
        var config = new PartitionLogConfig { SegmentBytes = 2 * Values(1, "v0").Length };
        await using var leader = LogHarness.Open(config);
        await using var follower = LogHarness.Open(config);
        for (int i = 0; i < 7; i++)
        {
            await leader.Log.AppendAsync(Values(1, $"v{i}"), Cancel);
        }

        var result = await follower.Log.AppendReplicatedAsync(leader.Fetch(0), Cancel);

        Assert.Equal((0L, 6L), (result.BaseOffset, result.LastOffset));
        Assert.Equal([0L, 2, 4, 6], follower.Log.SegmentBaseOffsets);
        AssertSameLog(leader, follower);
    }

    [Fact]
    public async Task AppendReplicatedAsync_TrailingPartialBatch_TakesTheWholeOnesAndTheRestLater()
    {
        await using var leader = LogHarness.Open();
        await using var follower = LogHarness.Open();
        for (int i = 0; i < 3; i++)
        {
            await leader.Log.AppendAsync(Values(1, $"a{i}", $"b{i}"), 1, Cancel);
        }

        byte[] all = leader.Fetch(0);
        int firstBatch = RecordBatchHeader.Parse(all).TotalSize;

        var taken = await follower.Log.AppendReplicatedAsync(all.AsMemory(0, (2 * firstBatch) + 30), Cancel);
        var headerOnly = await follower.Log.AppendReplicatedAsync(all.AsMemory(2 * firstBatch, RecordBatchHeader.Size + 1), Cancel);
        var rest = await follower.Log.AppendReplicatedAsync(all.AsMemory(2 * firstBatch), Cancel);

        Assert.Equal((0L, 3L, false), (taken.BaseOffset, taken.LastOffset, taken.Duplicate));
        Assert.Equal((4L, 3L), (headerOnly.BaseOffset, headerOnly.LastOffset));
        Assert.Equal((4L, 5L), (rest.BaseOffset, rest.LastOffset));
        Assert.Equal(all, follower.Fetch(0));
    }

    [Fact]
    public async Task AppendReplicatedAsync_NotAtTheLogEnd_IsRefusedAndNothingIsWritten()
    {
        await using var follower = LogHarness.Open();
        await follower.Log.AppendReplicatedAsync(Stamped(0, 0, "a", "b"), Cancel);
        long size = follower.Log.SizeBytes;

        var gap = await Assert.ThrowsAsync<RecordRejectedException>(async () => await follower.Log.AppendReplicatedAsync(Stamped(3, 0, "d"), Cancel));
        var overlap = await Assert.ThrowsAsync<RecordRejectedException>(async () => await follower.Log.AppendReplicatedAsync(Stamped(1, 0, "b"), Cancel));
        var gapInside = await Assert.ThrowsAsync<RecordRejectedException>(async () => await follower.Log.AppendReplicatedAsync(Concat(Stamped(2, 0, "c"), Stamped(4, 0, "e")), Cancel));
        var backInside = await Assert.ThrowsAsync<RecordRejectedException>(async () => await follower.Log.AppendReplicatedAsync(Concat(Stamped(2, 0, "c", "d"), Stamped(3, 0, "d")), Cancel));

        Assert.Equal(ErrorCode.OffsetOutOfRange, gap.Code);
        Assert.Equal(ErrorCode.OffsetOutOfRange, overlap.Code);
        Assert.Equal(ErrorCode.OffsetOutOfRange, gapInside.Code);
        Assert.Equal(ErrorCode.OffsetOutOfRange, backInside.Code);
        Assert.Contains("start at offset 3, not at the log end 2", gap.Message, StringComparison.Ordinal);
        Assert.Equal((2L, size), (follower.Log.LogEndOffset, follower.Log.SizeBytes));
        Assert.Equal(2, (await follower.Log.AppendReplicatedAsync(Stamped(2, 0, "c"), Cancel)).BaseOffset);
    }

    [Fact]
    public async Task AppendReplicatedAsync_DamagedBatch_IsRefusedAndNothingIsWritten()
    {
        await using var leader = LogHarness.Open();
        await using var follower = LogHarness.Open();
        await leader.Log.AppendAsync(Values(1, "first"), Cancel);
        await leader.Log.AppendAsync(Values(1, "second"), Cancel);
        byte[] fetched = leader.Fetch(0);
        byte[] flipped = (byte[])fetched.Clone();
        flipped[^2] ^= 0x01;
        byte[] badMagic = (byte[])fetched.Clone();
        badMagic[RecordBatchHeader.Parse(fetched).TotalSize + 16] = 1;
        byte[] tooLarge = (byte[])fetched.Clone();
        BinaryPrimitives.WriteInt32BigEndian(tooLarge.AsSpan(8), 2 << 20);

        var crc = await Assert.ThrowsAsync<RecordRejectedException>(async () => await follower.Log.AppendReplicatedAsync(flipped, Cancel));
        var magic = await Assert.ThrowsAsync<RecordRejectedException>(async () => await follower.Log.AppendReplicatedAsync(badMagic, Cancel));
        var size = await Assert.ThrowsAsync<RecordRejectedException>(async () => await follower.Log.AppendReplicatedAsync(tooLarge, Cancel));

        Assert.Equal(ErrorCode.CorruptMessage, crc.Code);
        Assert.Equal(ErrorCode.InvalidRecord, magic.Code);
        Assert.Equal(ErrorCode.MessageTooLarge, size.Code);
        Assert.Equal((0L, 0L), (follower.Log.LogEndOffset, follower.Log.SizeBytes));
        Assert.Empty(follower.Log.EpochEntries);
        Assert.Equal(1, (await follower.Log.AppendReplicatedAsync(fetched, Cancel)).LastOffset);
    }

    [Fact]
    public async Task AppendReplicatedAsync_ThenLeaderAppendOfARetry_IsADuplicateWithTheOriginalOffsets()
    {
        await using var leader = LogHarness.Open();
        await using var follower = LogHarness.Open();
        var batches = Enumerable.Range(0, 3).Select(i => Idempotent(producerId: 8, epoch: 0, baseSequence: 2 * i, count: 2)).ToArray();
        await leader.Log.AppendAsync(Values(1, "plain"), 4, Cancel);
        foreach (var batch in batches)
        {
            await leader.Log.AppendAsync(batch, 4, Cancel);
        }

        await ReplicateAsync(leader, follower, fetchBytes: 100);

        // The follower becomes the leader of epoch 5; the producer retries its last batch there.
        var retry = await follower.Log.AppendAsync(batches[2], 5, Cancel);
        var gap = await Assert.ThrowsAsync<RecordRejectedException>(async () => await follower.Log.AppendAsync(Idempotent(8, 0, 7), 5, Cancel));
        var next = await follower.Log.AppendAsync(Idempotent(8, 0, 6), 5, Cancel);

        Assert.Equal((5L, 6L, true), (retry.BaseOffset, retry.LastOffset, retry.Duplicate));
        Assert.Equal(ErrorCode.OutOfOrderSequenceNumber, gap.Code);
        Assert.Equal((7L, false), (next.BaseOffset, next.Duplicate));
        Assert.Equal([new EpochEntry(4, 0), new EpochEntry(5, 7)], follower.Log.EpochEntries);
    }

    [Fact]
    public async Task AppendReplicatedAsync_EpochBelowRecordsAlreadyInTheLog_IsFenced()
    {
        await using var follower = LogHarness.Open();
        await follower.Log.AppendReplicatedAsync(Stamped(0, 3, "a"), Cancel);
        await follower.Log.AppendReplicatedAsync(Stamped(1, 5, "b"), Cancel);

        var older = await Assert.ThrowsAsync<RecordRejectedException>(async () => await follower.Log.AppendReplicatedAsync(Stamped(2, 4, "c"), Cancel));
        var backInside = await Assert.ThrowsAsync<RecordRejectedException>(async () => await follower.Log.AppendReplicatedAsync(Concat(Stamped(2, 6, "c"), Stamped(3, 5, "d")), Cancel));
        var unstamped = await Assert.ThrowsAsync<RecordRejectedException>(async () => await follower.Log.AppendReplicatedAsync(Stamped(2, -1, "c"), Cancel));

        Assert.Equal(ErrorCode.FencedLeaderEpoch, older.Code);
        Assert.Equal(ErrorCode.FencedLeaderEpoch, backInside.Code);
        Assert.Equal(ErrorCode.FencedLeaderEpoch, unstamped.Code);
        Assert.Equal(2, follower.Log.LogEndOffset);
        Assert.Equal([new EpochEntry(3, 0), new EpochEntry(5, 1)], follower.Log.EpochEntries);
    }

    [Fact]
    public async Task AppendReplicatedAsync_CompactedLeaderWithHoles_CompactedFollowerIsByteIdentical()
    {
        var config = new PartitionLogConfig { Compact = true, SegmentBytes = 100 };
        await using var leader = LogHarness.Open(config);
        await using var follower = LogHarness.Open(config);
        await using var plain = LogHarness.Open(config with { Compact = false });
        await leader.Log.AppendAsync(Keyed(1, CompressionType.None, ("a", "1"), ("b", "1")), Cancel);
        await leader.Log.AppendAsync(Keyed(2, CompressionType.None, ("a", "2")), 1, Cancel);
        await leader.Log.AppendAsync(Keyed(3, CompressionType.None, ("c", "1")), 1, Cancel);
        await leader.Log.AppendAsync(Keyed(4, CompressionType.None, ("a", "3")), 2, Cancel);
        await leader.Log.AppendAsync(Keyed(5, CompressionType.None, ("z", "1")), 2, Cancel);
        await leader.Log.CleanAsync(Cancel);
        var headers = leader.ReadBatches().Select(b => (b.Header.BaseOffset, b.Header.LastOffset, b.Header.RecordCount)).ToList();
        Assert.Equal([(0L, 1L, 1), (3L, 3L, 1), (4L, 4L, 1), (5L, 5L, 1)], headers);

        await ReplicateAsync(leader, follower, fetchBytes: 1 << 20);
        var refused = await Assert.ThrowsAsync<RecordRejectedException>(async () => await plain.Log.AppendReplicatedAsync(leader.Fetch(0), Cancel));

        Assert.Equal(leader.Fetch(0), follower.Fetch(0));
        Assert.Equal(6, follower.Log.LogEndOffset);
        Assert.Equal([new EpochEntry(0, 0), new EpochEntry(1, 3), new EpochEntry(2, 4)], follower.Log.EpochEntries);
        Assert.Equal(ErrorCode.OffsetOutOfRange, refused.Code);
        Assert.Equal(0, plain.Log.LogEndOffset);
    }

    [Fact]
    public async Task TruncateFullyAndStartAtAsync_PastTheEnd_StartsEmptyThereWithNoProducersOrEpochs()
    {
        await using var follower = LogHarness.Open(Small);
        var batch = Idempotent(producerId: 3, epoch: 0, baseSequence: 0);
        await follower.Log.AppendAsync(batch, 2, Cancel);
        for (int i = 0; i < 6; i++)
        {
            await follower.Log.AppendAsync(Values(1, $"v{i}"), 2, Cancel);
        }

        await follower.Log.TruncateFullyAndStartAtAsync(100, Cancel);

        Assert.Equal((100L, 100L, 0L), (follower.Log.LogStartOffset, follower.Log.LogEndOffset, follower.Log.SizeBytes));
        Assert.Equal([100L], follower.Log.SegmentBaseOffsets);
        Assert.Equal(-1, follower.Log.LatestEpoch);
        Assert.Empty(Directory.EnumerateFiles(follower.Directory, "*.snapshot"));
        Assert.Equal(100, (await follower.Log.AppendReplicatedAsync(Stamped(100, 1, "x"), Cancel)).BaseOffset);
        var again = await follower.Log.AppendAsync(batch, 2, Cancel);
        Assert.Equal((101L, false), (again.BaseOffset, again.Duplicate));

        follower.Kill();
        follower.OpenAgain();
        Assert.Equal((100L, 102L), (follower.Log.LogStartOffset, follower.Log.LogEndOffset));
        Assert.Equal([new EpochEntry(1, 100), new EpochEntry(2, 101)], follower.Log.EpochEntries);
    }

    /// <summary>Fetches from the leader at the follower's end and appends, until the follower catches up; returns the fetches.</summary>
    private static async Task<int> ReplicateAsync(LogHarness leader, LogHarness follower, int fetchBytes)
    {
        int fetches = 0;
        while (follower.Log.LogEndOffset < leader.Log.LogEndOffset)
        {
            byte[] fetched = leader.Fetch(follower.Log.LogEndOffset, fetchBytes);
            var result = await follower.Log.AppendReplicatedAsync(fetched, Cancel);
            Assert.Equal(RecordBatchHeader.Parse(fetched).BaseOffset, result.BaseOffset);
            Assert.Equal(follower.Log.LogEndOffset, result.LastOffset + 1);
            fetches++;
        }

        return fetches;
    }

    private static void AssertSameLog(LogHarness leader, LogHarness follower)
    {
        Assert.Equal(leader.Log.LogEndOffset, follower.Log.LogEndOffset);
        Assert.Equal(leader.Log.SegmentBaseOffsets, follower.Log.SegmentBaseOffsets);
        Assert.Equal(leader.Log.SizeBytes, follower.Log.SizeBytes);
        Assert.Equal(leader.Fetch(0, int.MaxValue), follower.Fetch(0, int.MaxValue));
    }
}
