using System.Buffers;
using System.Buffers.Binary;
using System.Text;
using Blueprint.Log.Records;
using Blueprint.Log.Storage;
using Microsoft.Extensions.Time.Testing;

namespace Blueprint.Log.Tests.Storage;

/// <summary>A partition log in a fresh directory with a fake clock, reopened or "killed" at will.</summary>
internal sealed class LogHarness : IAsyncDisposable
{
    public static readonly DateTimeOffset Start = DateTimeOffset.FromUnixTimeMilliseconds(1_700_000_000_000);

    private readonly TempDirectory _directory = new("blueprint-log");

    private LogHarness(PartitionLogConfig config)
    {
        Config = config;
        Log = PartitionLog.Open(_directory.Path, config, Time);
    }

    public FakeTimeProvider Time { get; } = new(Start);

    public PartitionLogConfig Config { get; set; }

    public PartitionLog Log { get; private set; }

    public string Directory => _directory.Path;

    public long NowMs => Time.GetUtcNow().ToUnixTimeMilliseconds();

    public static LogHarness Open(PartitionLogConfig? config = null) => new(config ?? new PartitionLogConfig());

    /// <summary>Closes the log cleanly and opens it again.</summary>
    public async Task ReopenAsync()
    {
        await Log.DisposeAsync();
        Log = PartitionLog.Open(Directory, Config, Time);
    }

    /// <summary>Drops the log like a killed process (no flush, no snapshot); call <see cref="OpenAgain"/> after editing files.</summary>
    public void Kill() => Log.Abandon();

    public void OpenAgain() => Log = PartitionLog.Open(Directory, Config, Time);

    public string SegmentPath(long baseOffset, string extension = ".log") => Path.Combine(Directory, $"{baseOffset:D20}{extension}");

    /// <summary>What a fetch from <paramref name="offset"/> returns: whole batches as stored, up to <paramref name="maxBytes"/> (the first always whole).</summary>
    public byte[] Fetch(long offset, int maxBytes = 1 << 20)
    {
        var writer = new ArrayBufferWriter<byte>();
        Log.Read(offset, maxBytes, long.MaxValue, writer);
        return writer.WrittenSpan.ToArray();
    }

    /// <summary>Every record from <paramref name="from"/> (default: the log start) to the end, reading in chunks of <paramref name="maxBytes"/>.</summary>
    public List<LogRecord> ReadAll(long? from = null, int maxBytes = 1 << 20) => ReadBatches(from, maxBytes).SelectMany(b => b.Records).ToList();

    /// <summary>Every batch from <paramref name="from"/> to the end, with its header and records.</summary>
    public List<(RecordBatchHeader Header, IReadOnlyList<LogRecord> Records)> ReadBatches(long? from = null, int maxBytes = 1 << 20)
    {
        var batches = new List<(RecordBatchHeader, IReadOnlyList<LogRecord>)>();
        long offset = from ?? Log.LogStartOffset;
        while (offset < Log.LogEndOffset)
        {
            var writer = new ArrayBufferWriter<byte>();
            int read = Log.Read(offset, maxBytes, long.MaxValue, writer);
            Assert.Equal(read, writer.WrittenCount);
            if (read == 0)
            {
                break;
            }

            var memory = writer.WrittenMemory;
            int position = 0;
            while (position < memory.Length)
            {
                var header = RecordBatchHeader.Parse(memory.Span[position..]);
                Assert.True(header.HasValidCrc(memory.Span[position..]), $"batch at offset {header.BaseOffset} fails its CRC");
                batches.Add((header, RecordBatchReader.ReadRecords(memory.Slice(position, header.TotalSize), 1 << 24)));
                offset = header.LastOffset + 1;
                position += header.TotalSize;
            }
        }

        return batches;
    }

    public async ValueTask DisposeAsync()
    {
        await Log.DisposeAsync();
        _directory.Dispose();
    }
}

/// <summary>Record batches for tests.</summary>
internal static class Batches
{
    /// <summary>The test's cancellation token.</summary>
    public static CancellationToken Cancel => TestContext.Current.CancellationToken;

    /// <summary>A batch of keyless records with these values, all at <paramref name="timestamp"/>.</summary>
    public static byte[] Values(long timestamp, params string[] values)
    {
        var builder = new RecordBatchBuilder();
        foreach (string value in values)
        {
            builder.Add(timestamp, null, Bytes(value));
        }

        return builder.Build();
    }

    /// <summary>A batch of keyed records (null value: a tombstone).</summary>
    public static byte[] Keyed(long timestamp, CompressionType compression, params (string Key, string? Value)[] records)
    {
        var builder = new RecordBatchBuilder(compression);
        foreach (var (key, value) in records)
        {
            builder.Add(timestamp, Bytes(key), value is null ? null : Bytes(value));
        }

        return builder.Build();
    }

    /// <summary>An idempotent producer's batch of <paramref name="count"/> records.</summary>
    public static byte[] Idempotent(long producerId, short epoch, int baseSequence, int count = 1, string value = "x")
    {
        var builder = new RecordBatchBuilder { ProducerId = producerId, ProducerEpoch = epoch, BaseSequence = baseSequence };
        for (int i = 0; i < count; i++)
        {
            builder.Add(1_000, null, Bytes($"{value}{i}"));
        }

        return builder.Build();
    }

    /// <summary>A batch as a leader stores it: offsets from <paramref name="baseOffset"/>, stamped with <paramref name="leaderEpoch"/>.</summary>
    public static byte[] Stamped(long baseOffset, int leaderEpoch, params string[] values)
    {
        var builder = new RecordBatchBuilder { BaseOffset = baseOffset, PartitionLeaderEpoch = leaderEpoch };
        foreach (string value in values)
        {
            builder.Add(1_000, null, Bytes(value));
        }

        return builder.Build();
    }

    /// <summary>Batches one after another, as one request or fetch response carries them.</summary>
    public static byte[] Concat(params byte[][] batches) => [.. batches.SelectMany(b => b)];

    /// <summary>Recomputes the CRC after a test edits a batch's header.</summary>
    public static byte[] Reseal(byte[] batch)
    {
        BinaryPrimitives.WriteUInt32BigEndian(batch.AsSpan(17), Crc32C.Compute(batch.AsSpan(21)));
        return batch;
    }

    public static ReadOnlyMemory<byte> Bytes(string text) => Encoding.UTF8.GetBytes(text);

    public static string? Text(ReadOnlyMemory<byte>? bytes) => bytes is { } b ? Encoding.UTF8.GetString(b.Span) : null;

    public static string[] TextValues(IEnumerable<LogRecord> records) => records.Select(r => Text(r.Value)!).ToArray();
}
