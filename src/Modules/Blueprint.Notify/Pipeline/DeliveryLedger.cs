using System.Collections.Concurrent;
using System.Text;
using System.Text.Json;
using Blueprint.Log;

namespace Blueprint.Notify.Pipeline;

/// <summary>
/// What became of each message: every attempt (appended to <c>notify.attempts</c>, indexed in memory for the most recent
/// <see cref="MaxMessages"/> messages) and the dead letters (a compacted topic, all held in memory until re-driven).
/// </summary>
public sealed class DeliveryLedger(IEventLog log)
{
    /// <summary>The most messages whose attempts the status index keeps; older ones stay in the log only.</summary>
    public const int MaxMessages = 100_000;

    /// <summary>The most dead letters kept; past it the oldest are dropped from the list (their records stay in the log).</summary>
    public const int MaxDeadLetters = 100_000;

    private readonly ConcurrentDictionary<string, List<AttemptRecord>> _attempts = new(StringComparer.Ordinal);
    private readonly ConcurrentQueue<string> _order = new();
    private readonly ConcurrentDictionary<string, DeadLetter> _dead = new(StringComparer.Ordinal);

    /// <summary>Loads the dead letters from their topic.</summary>
    public async Task LoadAsync(CancellationToken cancellationToken)
    {
        for (var partition = 0; partition < log.PartitionCount(PipelineTopics.DeadLetters); partition++)
        {
            var (start, end) = log.Offsets(PipelineTopics.DeadLetters, partition);
            for (var offset = start; offset < end;)
            {
                var entries = await log.ReadAsync(PipelineTopics.DeadLetters, partition, offset, 1000, TimeSpan.Zero, cancellationToken).ConfigureAwait(false);
                if (entries.Count == 0)
                {
                    break;
                }

                foreach (var entry in entries)
                {
                    var id = Encoding.UTF8.GetString(entry.Key ?? []);
                    if (entry.Value is null or { Length: 0 })
                    {
                        _dead.TryRemove(id, out _);
                    }
                    else
                    {
                        _dead[id] = JsonSerializer.Deserialize<DeadLetter>(entry.Value, PipelineJson.Options)!;
                    }

                    offset = entry.Offset + 1;
                }
            }
        }
    }

    /// <summary>The attempts of a message, oldest first; empty when unknown.</summary>
    public IReadOnlyList<AttemptRecord> AttemptsOf(string messageId)
    {
        if (!_attempts.TryGetValue(messageId, out var list))
        {
            return [];
        }

        lock (list)
        {
            return [.. list];
        }
    }

    /// <summary>The dead letters, oldest first.</summary>
    public IReadOnlyList<DeadLetter> DeadLetters => [.. _dead.Values.OrderBy(letter => letter.At).ThenBy(letter => letter.Delivery.DeliveryId, StringComparer.Ordinal)];

    /// <summary>A dead letter by delivery id, or null.</summary>
    public DeadLetter? FindDeadLetter(string deliveryId) => _dead.GetValueOrDefault(deliveryId);

    /// <summary>Records attempts (in the log, then the index).</summary>
    public async Task RecordAsync(IReadOnlyList<AttemptRecord> attempts, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(attempts);
        if (attempts.Count == 0)
        {
            return;
        }

        await log.AppendAsync(
            PipelineTopics.Attempts,
            [.. attempts.Select(attempt => new LogMessage(Encoding.UTF8.GetBytes(attempt.MessageId), JsonSerializer.SerializeToUtf8Bytes(attempt, PipelineJson.Options)))],
            0,
            cancellationToken).ConfigureAwait(false);
        foreach (var attempt in attempts)
        {
            var list = _attempts.GetOrAdd(attempt.MessageId, id =>
            {
                _order.Enqueue(id);
                return [];
            });
            lock (list)
            {
                list.Add(attempt);
            }
        }

        while (_order.Count > MaxMessages && _order.TryDequeue(out var oldest))
        {
            _attempts.TryRemove(oldest, out _);
        }
    }

    /// <summary>Adds dead letters (durably, then to the list).</summary>
    public async Task AddDeadLettersAsync(IReadOnlyList<DeadLetter> letters, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(letters);
        if (letters.Count == 0)
        {
            return;
        }

        await log.AppendAsync(
            PipelineTopics.DeadLetters,
            [.. letters.Select(letter => new LogMessage(Encoding.UTF8.GetBytes(letter.Delivery.DeliveryId), JsonSerializer.SerializeToUtf8Bytes(letter, PipelineJson.Options)))],
            0,
            cancellationToken).ConfigureAwait(false);
        foreach (var letter in letters)
        {
            _dead[letter.Delivery.DeliveryId] = letter;
        }

        if (_dead.Count > MaxDeadLetters)
        {
            foreach (var oldest in DeadLetters.Take(_dead.Count - MaxDeadLetters))
            {
                _dead.TryRemove(oldest.Delivery.DeliveryId, out _);
            }
        }
    }

    /// <summary>Removes dead letters once re-driven (a tombstone each, then from the list).</summary>
    public async Task RemoveDeadLettersAsync(IReadOnlyList<string> deliveryIds, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(deliveryIds);
        if (deliveryIds.Count == 0)
        {
            return;
        }

        await log.AppendAsync(PipelineTopics.DeadLetters, [.. deliveryIds.Select(id => new LogMessage(Encoding.UTF8.GetBytes(id), null))], 0, cancellationToken).ConfigureAwait(false);
        foreach (var id in deliveryIds)
        {
            _dead.TryRemove(id, out _);
        }
    }
}
