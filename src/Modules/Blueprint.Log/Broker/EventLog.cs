using System.Buffers;
using Blueprint.Core.Hashing;
using Blueprint.Log.Groups;
using Blueprint.Log.Kafka;
using Blueprint.Log.Records;
using Blueprint.Log.Storage;

namespace Blueprint.Log.Broker;

/// <summary>
/// <see cref="IEventLog"/> on this node's broker: the same topics, partitions and committed offsets that Kafka clients
/// see, without the wire. Appends are v2 record batches built here (uncompressed), so a Kafka consumer reads them as
/// any producer's.
/// </summary>
public sealed class EventLog(LogBroker broker, TimeProvider time) : IEventLog
{
    /// <summary>Gets or sets the most bytes one read takes from a partition's log (at least one batch is read).</summary>
    internal int ReadBytesMax { get; set; } = 1 << 20;

    private int nextKeyless = -1;

    /// <inheritdoc />
    public async ValueTask EnsureTopicAsync(string topic, int partitions, IReadOnlyDictionary<string, string>? configs = null, CancellationToken cancellationToken = default)
    {
        var created = await broker.CreateTopicAsync(topic, partitions, -1, configs ?? new Dictionary<string, string>(), cancellationToken).ConfigureAwait(false);
        if (created.Error is not (ErrorCode.None or ErrorCode.TopicAlreadyExists))
        {
            throw new ArgumentException(created.Message, nameof(topic));
        }
    }

    /// <inheritdoc />
    public int PartitionCount(string topic) => broker.Topics.TryGet(topic, out var found) ? found.Partitions.Count : 0;

    /// <inheritdoc />
    public async ValueTask<LogPosition> AppendAsync(string topic, IReadOnlyList<LogMessage> records, int? partition = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(records);
        if (records.Count == 0)
        {
            throw new ArgumentException("append at least one record", nameof(records));
        }

        var target = Topic(topic);
        var index = partition ?? (records[0].Key is { } key
            ? Murmur2.Partition(key, target.Partitions.Count)
            : (int)((uint)Interlocked.Increment(ref nextKeyless) % (uint)target.Partitions.Count));
        if (index < 0 || index >= target.Partitions.Count)
        {
            throw new ArgumentOutOfRangeException(nameof(partition), $"topic '{topic}' has partitions 0 to {target.Partitions.Count - 1}");
        }

        var builder = new RecordBatchBuilder();
        var now = time.GetUtcNow();
        foreach (var record in records)
        {
            builder.Add(
                (record.Timestamp ?? now).ToUnixTimeMilliseconds(),
                record.Key,
                record.Value,
                record.Headers?.Select(header => new RecordHeader(header.Key, header.Value)).ToList());
        }

        try
        {
            var result = await target.Partitions[index].AppendAsync(builder.Build(), cancellationToken).ConfigureAwait(false);
            return new LogPosition(index, result.BaseOffset, result.LastOffset);
        }
        catch (RecordRejectedException e)
        {
            throw new InvalidOperationException($"the log refused the batch ({e.Code}): {e.Message}", e);
        }
    }

    /// <inheritdoc />
    public async ValueTask<IReadOnlyList<LogEntry>> ReadAsync(string topic, int partition, long offset, int maxRecords, TimeSpan maxWait, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxRecords);
        var source = Partition(topic, partition);
        var deadline = time.GetUtcNow() + maxWait;
        var buffer = new ArrayBufferWriter<byte>(64 * 1024);
        while (true)
        {
            var appended = source.Appended;
            var start = source.Log.LogStartOffset;
            var end = source.Log.LogEndOffset;
            if (offset < start || offset > end)
            {
                throw new ArgumentOutOfRangeException(nameof(offset), $"offset {offset} is outside [{start}, {end}] of {topic}-{partition}");
            }

            var highWatermark = source.HighWatermark;
            if (offset < highWatermark)
            {
                buffer.ResetWrittenCount();
                source.Log.Read(offset, ReadBytesMax, highWatermark, buffer);
                var entries = RecordBatchReader.ReadRecords(buffer.WrittenMemory, broker.Options.MaxMessageBytes * 4)
                    .Where(record => record.Offset >= offset)
                    .Take(maxRecords)
                    .Select(record => new LogEntry(
                        partition,
                        record.Offset,
                        DateTimeOffset.FromUnixTimeMilliseconds(record.Timestamp),
                        record.Key?.ToArray(),
                        record.Value?.ToArray(),
                        [.. record.Headers.Select(header => new KeyValuePair<string, byte[]?>(header.Key, header.Value?.ToArray()))]))
                    .ToList();
                if (entries.Count > 0)
                {
                    return entries;
                }

                // A compacted log may have no record at or after the offset in the batches read (compaction keeps a
                // batch's offsets but may empty its tail): go on after the last batch read, never past records not read.
                offset = Math.Max(offset + 1, NextAfter(buffer.WrittenSpan));
                continue;
            }

            var remaining = deadline - time.GetUtcNow();
            if (remaining <= TimeSpan.Zero)
            {
                return [];
            }

            await Task.WhenAny(appended, Task.Delay(remaining, time, cancellationToken)).ConfigureAwait(false);
            cancellationToken.ThrowIfCancellationRequested();
        }
    }

    /// <inheritdoc />
    public (long Start, long End) Offsets(string topic, int partition)
    {
        var source = Partition(topic, partition);
        return (source.Log.LogStartOffset, source.HighWatermark);
    }

    /// <inheritdoc />
    public async ValueTask CommitAsync(string group, string topic, int partition, long nextOffset, CancellationToken cancellationToken = default)
    {
        Partition(topic, partition);
        var results = await broker.Groups.CommitOffsetsAsync(
            new OffsetCommitCall(group, GenerationId: -1, MemberId: "", GroupInstanceId: null, [new OffsetCommitEntry(topic, partition, nextOffset, -1, null)]),
            cancellationToken).ConfigureAwait(false);
        foreach (var result in results)
        {
            if (result.Error != ErrorCode.None)
            {
                throw new InvalidOperationException($"the commit of {group} on {topic}-{partition} was refused: {result.Error}");
            }
        }
    }

    /// <inheritdoc />
    public long? Committed(string group, string topic, int partition)
    {
        var result = broker.Groups.FetchOffsets(group, [(topic, [partition])]);
        var offset = result.Offsets.Count > 0 ? result.Offsets[0].Offset : -1;
        return offset < 0 ? null : offset;
    }

    /// <summary>The offset after the last whole batch in <paramref name="batches"/>.</summary>
    private static long NextAfter(ReadOnlySpan<byte> batches)
    {
        long next = -1;
        while (RecordBatchHeader.TryParse(batches, out var header) && header.TotalSize <= batches.Length)
        {
            next = header.LastOffset + 1;
            batches = batches[header.TotalSize..];
        }

        return next;
    }

    private Topic Topic(string topic) =>
        broker.Topics.TryGet(topic, out var found) ? found : throw new InvalidOperationException($"there is no topic '{topic}'; create it with EnsureTopicAsync");

    private Partition Partition(string topic, int partition)
    {
        var found = Topic(topic);
        return partition >= 0 && partition < found.Partitions.Count
            ? found.Partitions[partition]
            : throw new ArgumentOutOfRangeException(nameof(partition), $"topic '{topic}' has partitions 0 to {found.Partitions.Count - 1}");
    }
}
