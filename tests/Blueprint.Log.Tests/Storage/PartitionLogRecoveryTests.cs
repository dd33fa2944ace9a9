using Blueprint.Log.Storage;
using static Blueprint.Log.Tests.Storage.Batches;

namespace Blueprint.Log.Tests.Storage;

public sealed class PartitionLogRecoveryTests
{
    [Fact]
    public async Task Open_TornTail_RecoversEveryWholeBatchAndAppendsContinue()
    {
        await using var harness = LogHarness.Open();
        var ends = new List<long>();
        for (int i = 0; i < 10; i++)
        {
            await harness.Log.AppendAsync(Values(i, $"v{i}"), Cancel);
            ends.Add(harness.Log.SizeBytes);
        }

        harness.Kill();
        using (var file = new FileStream(harness.SegmentPath(0), FileMode.Open))
        {
            file.SetLength(ends[7] + 20);
        }

        harness.OpenAgain();

        Assert.Equal(8, harness.Log.LogEndOffset);
        Assert.Equal(20, harness.Log.RecoveredBytesTruncated);
        Assert.Equal(ends[7], new FileInfo(harness.SegmentPath(0)).Length);
        Assert.Equal(8, (await harness.Log.AppendAsync(Values(99, "after"), Cancel)).BaseOffset);
        Assert.Equal(["v0", "v1", "v2", "v3", "v4", "v5", "v6", "v7", "after"], TextValues(harness.ReadAll()));
    }

    [Fact]
    public async Task Open_FlippedByteInTheTail_CutsAtTheFirstInvalidBatch()
    {
        await using var harness = LogHarness.Open();
        var ends = new List<long>();
        for (int i = 0; i < 10; i++)
        {
            await harness.Log.AppendAsync(Values(i, $"value{i}"), Cancel);
            ends.Add(harness.Log.SizeBytes);
        }

        harness.Kill();
        using (var file = new FileStream(harness.SegmentPath(0), FileMode.Open))
        {
            file.Position = ends[5] - 3;
            int b = file.ReadByte();
            file.Position = ends[5] - 3;
            file.WriteByte((byte)(b ^ 0x10));
        }

        harness.OpenAgain();

        Assert.Equal(5, harness.Log.LogEndOffset);
        Assert.Equal(ends[9] - ends[4], harness.Log.RecoveredBytesTruncated);
        Assert.Equal(["value0", "value1", "value2", "value3", "value4"], TextValues(harness.ReadAll()));
        Assert.Equal(5, (await harness.Log.AppendAsync(Values(99, "after"), Cancel)).BaseOffset);
    }

    [Fact]
    public async Task Open_TornTailAfterRolls_KeepsClosedSegmentsAndCutsOnlyTheTail()
    {
        var config = new PartitionLogConfig { SegmentBytes = 250, IndexIntervalBytes = 64 };
        await using var harness = LogHarness.Open(config);
        for (int i = 0; i < 20; i++)
        {
            await harness.Log.AppendAsync(Values(i, $"v{i}", $"w{i}"), Cancel);
        }

        long tail = harness.Log.SegmentBaseOffsets[^1];
        harness.Kill();
        using (var file = new FileStream(harness.SegmentPath(tail), FileMode.Open))
        {
            file.SetLength(file.Length - 1);
        }

        harness.OpenAgain();

        Assert.Equal(38, harness.Log.LogEndOffset);
        Assert.Equal(Enumerable.Range(0, 19).SelectMany(i => new[] { $"v{i}", $"w{i}" }), TextValues(harness.ReadAll()));
        Assert.Equal(38, (await harness.Log.AppendAsync(Values(0, "again"), Cancel)).BaseOffset);
    }

    [Fact]
    public async Task Open_EmptyTailSegmentAfterAnInterruptedRoll_ContinuesAtItsBaseOffset()
    {
        var batch = Values(1, "abc");
        await using var harness = LogHarness.Open(new PartitionLogConfig { SegmentBytes = batch.Length });
        await harness.Log.AppendAsync(batch, Cancel);
        await harness.Log.AppendAsync(batch, Cancel);
        harness.Kill();
        File.WriteAllBytes(harness.SegmentPath(1), []);

        harness.OpenAgain();

        Assert.Equal(1, harness.Log.LogEndOffset);
        Assert.Equal([0L, 1], harness.Log.SegmentBaseOffsets);
        Assert.Equal(1, (await harness.Log.AppendAsync(batch, Cancel)).BaseOffset);
    }

    [Fact]
    public async Task Open_StrayFilesOfInterruptedWork_AreRemoved()
    {
        await using var harness = LogHarness.Open(new PartitionLogConfig { SegmentBytes = 200 });
        for (int i = 0; i < 6; i++)
        {
            await harness.Log.AppendAsync(Values(i, $"v{i}"), Cancel);
        }

        await harness.Log.DisposeAsync();
        string[] strays =
        [
            harness.SegmentPath(0) + ".cleaned",
            harness.SegmentPath(0, ".index") + ".cleaned",
            harness.SegmentPath(6, ".snapshot") + ".tmp",
            harness.SegmentPath(12345, ".index"),
            harness.SegmentPath(12345, ".timeindex"),
        ];
        foreach (string stray in strays)
        {
            File.WriteAllBytes(stray, [1, 2, 3]);
        }

        harness.OpenAgain();

        Assert.All(strays, s => Assert.False(File.Exists(s), s));
        Assert.Equal(["v0", "v1", "v2", "v3", "v4", "v5"], TextValues(harness.ReadAll()));
    }

    [Fact]
    public async Task Open_DamagedOrMissingIndexesOfClosedSegments_AreRebuilt()
    {
        await using var harness = LogHarness.Open(new PartitionLogConfig { SegmentBytes = 2_000, IndexIntervalBytes = 64 });
        for (int i = 0; i < 60; i++)
        {
            await harness.Log.AppendAsync(Values(1_000 * i, $"v{i}"), Cancel);
        }

        var bases = harness.Log.SegmentBaseOffsets;
        Assert.True(bases.Length >= 3);
        await harness.Log.DisposeAsync();
        File.WriteAllBytes(harness.SegmentPath(bases[0], ".index"), [0, 0, 0, 9, 0, 0, 0x7F, 0xFF, 1]);
        File.Delete(harness.SegmentPath(bases[1], ".timeindex"));
        File.WriteAllBytes(harness.SegmentPath(bases[1], ".index"), [0, 0, 0, 5, 0, 0, 0, 0]);

        harness.OpenAgain();

        for (int offset = 0; offset < 60; offset += 7)
        {
            Assert.Equal($"v{offset}", TextValues(harness.ReadAll(from: offset))[0]);
        }

        Assert.Equal((25L, 25_000L), harness.Log.OffsetForTimestamp(24_001));
        Assert.True(new FileInfo(harness.SegmentPath(bases[0], ".index")).Length % 8 == 0);
    }

    [Fact]
    public async Task DisposeAsync_ThenOpen_GivesTheSameLog()
    {
        await using var harness = LogHarness.Open(new PartitionLogConfig { SegmentBytes = 300 });
        for (int i = 0; i < 12; i++)
        {
            await harness.Log.AppendAsync(Values(i, $"v{i}"), Cancel);
        }

        var before = harness.ReadAll().Select(r => (r.Offset, Text(r.Value))).ToList();
        long size = harness.Log.SizeBytes;

        await harness.ReopenAsync();

        Assert.Equal(0, harness.Log.RecoveredBytesTruncated);
        Assert.Equal(12, harness.Log.LogEndOffset);
        Assert.Equal(size, harness.Log.SizeBytes);
        Assert.Equal(before, harness.ReadAll().Select(r => (r.Offset, Text(r.Value))).ToList());
    }

    [Fact]
    public async Task DisposeAsync_Twice_IsHarmlessAndLaterCallsAreRefused()
    {
        await using var harness = LogHarness.Open();
        await harness.Log.AppendAsync(Values(1, "a"), Cancel);

        await harness.Log.DisposeAsync();
        await harness.Log.DisposeAsync();

        await Assert.ThrowsAsync<ObjectDisposedException>(async () => await harness.Log.AppendAsync(Values(1, "b"), Cancel));
        Assert.Throws<ObjectDisposedException>(() => harness.Log.Read(0, 100, long.MaxValue, new System.Buffers.ArrayBufferWriter<byte>()));
        Assert.True(File.Exists(harness.SegmentPath(1, ".snapshot")));
        harness.OpenAgain();
        Assert.Equal(["a"], TextValues(harness.ReadAll()));
    }
}
