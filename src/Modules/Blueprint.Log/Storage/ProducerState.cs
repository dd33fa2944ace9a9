// Written by hand: the partition log is the subject of this module and no library provides a Kafka log.
// Rules: Kafka's idempotent producer (KIP-98), as ProducerStateManager and ProducerAppendInfo apply them.
using Blueprint.Log.Kafka;
using Blueprint.Log.Records;

namespace Blueprint.Log.Storage;

/// <summary>The sequence range and offsets of one batch an idempotent producer wrote.</summary>
internal readonly record struct BatchMetadata(int FirstSequence, int LastSequence, long FirstOffset, long LastOffset);

/// <summary>What the log knows of one idempotent producer: its epoch and its last few batches.</summary>
internal sealed class ProducerEntry
{
    /// <summary>Batches remembered per producer: the most a producer keeps in flight (max.in.flight.requests.per.connection).</summary>
    public const int BatchesMax = 5;

    private readonly List<BatchMetadata> _batches = new(BatchesMax);

    public ProducerEntry(short epoch)
    {
        Epoch = epoch;
    }

    public short Epoch { get; private set; }

    /// <summary>The last offset this producer wrote (for choosing whom to forget when there are too many).</summary>
    public long LastOffset { get; private set; } = -1;

    public IReadOnlyList<BatchMetadata> Batches => _batches;

    /// <summary>The last sequence number written, or -1 when no batch is remembered.</summary>
    public int LastSequence => _batches.Count == 0 ? -1 : _batches[^1].LastSequence;

    public ProducerEntry Clone()
    {
        var copy = new ProducerEntry(Epoch) { LastOffset = LastOffset };
        copy._batches.AddRange(_batches);
        return copy;
    }

    public BatchMetadata? FindDuplicate(int firstSequence, int lastSequence)
    {
        foreach (var batch in _batches)
        {
            if (batch.FirstSequence == firstSequence && batch.LastSequence == lastSequence)
            {
                return batch;
            }
        }

        return null;
    }

    /// <summary>Takes in a batch: a newer epoch forgets the older epoch's batches.</summary>
    public void Apply(short epoch, BatchMetadata? batch, long lastOffset)
    {
        if (epoch != Epoch)
        {
            Epoch = epoch;
            _batches.Clear();
        }

        if (batch is { } metadata)
        {
            if (_batches.Count == BatchesMax)
            {
                _batches.RemoveAt(0);
            }

            _batches.Add(metadata);
        }

        LastOffset = Math.Max(LastOffset, lastOffset);
    }

    internal void Restore(long lastOffset, IEnumerable<BatchMetadata> batches)
    {
        LastOffset = lastOffset;
        _batches.Clear();
        foreach (var batch in batches)
        {
            if (_batches.Count == BatchesMax)
            {
                _batches.RemoveAt(0);
            }

            _batches.Add(batch);
        }
    }
}

/// <summary>The verdict on one batch of an idempotent producer.</summary>
internal readonly record struct SequenceCheck(ErrorCode Error, string? Reason, BatchMetadata? Duplicate)
{
    public static SequenceCheck Accept => default;

    public static SequenceCheck Reject(ErrorCode error, string reason) => new(error, reason, null);
}

/// <summary>
/// Per producer id, the epoch and the sequence ranges of the last <see cref="ProducerEntry.BatchesMax"/> batches, as
/// Kafka's ProducerStateManager keeps them: a retried batch already in the log is a duplicate (answered with its
/// original offsets), a sequence that does not follow the last one is out of order, an older epoch is fenced, and a
/// new epoch starts at sequence 0. A producer the log does not know may start anywhere (its state may have been
/// removed with old segments). Only the appender (under the log's append lock) uses it.
/// </summary>
internal sealed class ProducerStateManager
{
    /// <summary>The most producers remembered; past it the least recently active tenth is forgotten.</summary>
    public const int ProducersMax = 100_000;

    private readonly Dictionary<long, ProducerEntry> _producers = [];

    public int Count => _producers.Count;

    public IReadOnlyDictionary<long, ProducerEntry> Producers => _producers;

    /// <summary>
    /// Judges the batches of one append in order against the state plus the earlier batches of the same append
    /// (kept in <paramref name="pending"/>, applied by <see cref="Commit"/> once the batches are written).
    /// </summary>
    public SequenceCheck Check(in RecordBatchHeader header, Dictionary<long, ProducerEntry> pending, long firstOffset, long lastOffset)
    {
        if (!header.HasProducerId)
        {
            return SequenceCheck.Accept;
        }

        var entry = pending.GetValueOrDefault(header.ProducerId) ?? _producers.GetValueOrDefault(header.ProducerId);
        var verdict = header.IsControl ? CheckEpoch(entry, header) : CheckSequence(entry, header);
        if (verdict.Error != ErrorCode.None || verdict.Duplicate is not null)
        {
            return verdict;
        }

        if (!pending.TryGetValue(header.ProducerId, out var updated))
        {
            updated = entry?.Clone() ?? new ProducerEntry(header.ProducerEpoch);
            pending[header.ProducerId] = updated;
        }

        updated.Apply(header.ProducerEpoch, header.IsControl ? null : new BatchMetadata(header.BaseSequence, header.LastSequence, firstOffset, lastOffset), lastOffset);
        return verdict;
    }

    /// <summary>Makes the state of a written append the current state.</summary>
    public void Commit(Dictionary<long, ProducerEntry> pending)
    {
        foreach (var (producerId, entry) in pending)
        {
            _producers[producerId] = entry;
        }

        if (_producers.Count > ProducersMax)
        {
            EvictLeastRecent();
        }
    }

    /// <summary>Takes in a batch found in the log (recovery, truncation): no checks, an older epoch is ignored.</summary>
    public void Replay(in RecordBatchHeader header)
    {
        if (!header.HasProducerId)
        {
            return;
        }

        if (!_producers.TryGetValue(header.ProducerId, out var entry))
        {
            entry = new ProducerEntry(header.ProducerEpoch);
            _producers[header.ProducerId] = entry;
        }
        else if (header.ProducerEpoch < entry.Epoch)
        {
            return;
        }

        entry.Apply(header.ProducerEpoch, header.IsControl ? null : new BatchMetadata(header.BaseSequence, header.LastSequence, header.BaseOffset, header.LastOffset), header.LastOffset);
        if (_producers.Count > ProducersMax)
        {
            EvictLeastRecent();
        }
    }

    public void Clear() => _producers.Clear();

    internal void Restore(long producerId, ProducerEntry entry) => _producers[producerId] = entry;

    private static SequenceCheck CheckEpoch(ProducerEntry? entry, in RecordBatchHeader header) =>
        entry is not null && header.ProducerEpoch < entry.Epoch
            ? SequenceCheck.Reject(ErrorCode.InvalidProducerEpoch, $"producer {header.ProducerId} epoch {header.ProducerEpoch} is older than {entry.Epoch}")
            : SequenceCheck.Accept;

    private static SequenceCheck CheckSequence(ProducerEntry? entry, in RecordBatchHeader header)
    {
        if (entry is null)
        {
            return SequenceCheck.Accept;
        }

        if (header.ProducerEpoch < entry.Epoch)
        {
            return SequenceCheck.Reject(ErrorCode.InvalidProducerEpoch, $"producer {header.ProducerId} epoch {header.ProducerEpoch} is older than {entry.Epoch}");
        }

        if (header.ProducerEpoch > entry.Epoch)
        {
            return header.BaseSequence == 0
                ? SequenceCheck.Accept
                : SequenceCheck.Reject(ErrorCode.OutOfOrderSequenceNumber, $"producer {header.ProducerId} starts epoch {header.ProducerEpoch} at sequence {header.BaseSequence}, not 0");
        }

        if (entry.FindDuplicate(header.BaseSequence, header.LastSequence) is { } duplicate)
        {
            return new SequenceCheck(ErrorCode.None, null, duplicate);
        }

        int last = entry.LastSequence;
        bool inSequence = header.BaseSequence == RecordBatchHeader.IncrementSequence(last, 1) || (last == -1 && header.BaseSequence == 0);
        return inSequence
            ? SequenceCheck.Accept
            : SequenceCheck.Reject(ErrorCode.OutOfOrderSequenceNumber, $"producer {header.ProducerId} sent sequence {header.BaseSequence} after {last}");
    }

    private void EvictLeastRecent()
    {
        var oldest = _producers.OrderBy(p => p.Value.LastOffset).Take(_producers.Count / 10).Select(p => p.Key).ToList();
        foreach (long producerId in oldest)
        {
            _producers.Remove(producerId);
        }
    }
}
