using System.Buffers;
using Blueprint.Log.Records;
using Blueprint.Log.Storage;
using CsCheck;
using static Blueprint.Log.Tests.Storage.Batches;

namespace Blueprint.Log.Tests.Storage;

/// <summary>
/// The log against a model that is only the list of batches (base offset and values): random scripts of appends,
/// reads, timestamp lookups, truncations, clean reopens and kills, with segments small enough to roll often.
/// </summary>
public sealed class PartitionLogModelTests
{
    private static readonly PartitionLogConfig Config = new()
    {
        SegmentBytes = 300,
        IndexIntervalBytes = 90,
        Fsync = FsyncPolicy.Interval,
        FsyncInterval = TimeSpan.FromHours(1),
    };

    /// <summary>(kind, a, b): decoded by <see cref="RunStepAsync"/>.</summary>
    private static readonly Gen<(int Kind, int A, int B)[]> Scripts =
        Gen.Select(Gen.Int[0, 12], Gen.Int[0, 1_000], Gen.Int[0, 100]).Array[1, 40];

    [Fact]
    public async Task Log_RandomScript_MatchesTheModelThroughReopensAndKills()
    {
        await Scripts.SampleAsync(
            async script =>
            {
                var model = new Model();
                await using var harness = LogHarness.Open(Config);
                foreach (var step in script)
                {
                    await RunStepAsync(harness, model, step);
                    Assert.Equal(model.End, harness.Log.LogEndOffset);
                }

                AssertMatches(harness, model);
                harness.Kill();
                harness.OpenAgain();
                AssertMatches(harness, model);
            },
            iter: 100);
    }

    [Fact]
    public async Task Model_LogThatLosesATailBatch_IsCaught()
    {
        var model = new Model();
        await using var harness = LogHarness.Open(Config);
        for (int i = 0; i < 4; i++)
        {
            await RunStepAsync(harness, model, (0, i, 10));
        }

        // A log that drops its last batch behind the model's back must fail the comparison.
        await harness.Log.TruncateAsync(model.Batches[^1].Base, Cancel);

        Assert.ThrowsAny<Exception>(() => AssertMatches(harness, model));
    }

    private static async Task RunStepAsync(LogHarness harness, Model model, (int Kind, int A, int B) step)
    {
        var (kind, a, b) = step;
        switch (kind)
        {
            case <= 5:
                {
                    var values = Enumerable.Range(0, 1 + (a % 4)).Select(i => $"v{model.Counter++}-{new string('p', b % 40)}").ToArray();
                    long timestamp = model.Counter * 10;
                    var result = await harness.Log.AppendAsync(Values(timestamp, values), Cancel);
                    Assert.Equal(model.End, result.BaseOffset);
                    model.Batches.Add((result.BaseOffset, timestamp, values));
                    break;
                }

            case 6:
                await harness.ReopenAsync();
                break;
            case 7:
                harness.Kill();
                harness.OpenAgain();
                break;
            case 8:
                AssertRead(harness.Log, model, a % (model.End + 1), (b * 10) + 1);
                break;
            case 9:
                {
                    long offset = a % (model.End + 1);
                    await harness.Log.TruncateAsync(offset, Cancel);
                    model.Batches.RemoveAll(x => x.Base + x.Values.Length > offset);
                    break;
                }

            default:
                {
                    long target = a;
                    var expected = model.Batches.Where(x => x.Timestamp >= target).Select(x => ((long Offset, long Timestamp)?)(x.Base, x.Timestamp)).FirstOrDefault();
                    Assert.Equal(expected, harness.Log.OffsetForTimestamp(target));
                    break;
                }
        }
    }

    private static void AssertRead(PartitionLog log, Model model, long offset, int maxBytes)
    {
        var writer = new ArrayBufferWriter<byte>();
        int read = log.Read(offset, maxBytes, long.MaxValue, writer);
        if (offset == model.End)
        {
            Assert.Equal(0, read);
            return;
        }

        int index = model.Batches.FindIndex(x => x.Base + x.Values.Length > offset);
        int position = 0;
        while (position < read)
        {
            var header = RecordBatchHeader.Parse(writer.WrittenSpan[position..]);
            var expected = model.Batches[index++];
            Assert.Equal(expected.Base, header.BaseOffset);
            Assert.Equal(expected.Values, TextValues(RecordBatchReader.ReadRecords(writer.WrittenMemory.Slice(position, header.TotalSize), 1 << 20)));
            position += header.TotalSize;
            Assert.True(position <= maxBytes || position == header.TotalSize, $"read {position} bytes past the {maxBytes} asked");
        }

        Assert.Equal(read, position);
        Assert.True(read > 0);
    }

    private static void AssertMatches(LogHarness harness, Model model)
    {
        Assert.Equal(model.End, harness.Log.LogEndOffset);
        var records = harness.ReadAll();
        Assert.Equal(model.Batches.SelectMany(x => x.Values.Select((_, i) => x.Base + i)), records.Select(r => r.Offset));
        Assert.Equal(model.Batches.SelectMany(x => x.Values), TextValues(records));
    }

    private sealed class Model
    {
        public List<(long Base, long Timestamp, string[] Values)> Batches { get; } = [];

        public int Counter { get; set; }

        public long End => Batches.Count == 0 ? 0 : Batches[^1].Base + Batches[^1].Values.Length;
    }
}
