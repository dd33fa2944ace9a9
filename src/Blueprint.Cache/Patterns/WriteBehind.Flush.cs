using Microsoft.Extensions.Logging;

namespace Blueprint.Cache.Patterns;

/// <summary>The flusher: batches, the flush delay, retries and dead letters.</summary>
public sealed partial class WriteBehind<TKey, TValue>
{
    private async Task FlushLoopAsync()
    {
        var batch = new List<RecordWrite<TKey, TValue>>(_options.BatchSizeMax);
        // False once the queue is completed (stopping) and empty: the drain is over.
        while (await _queue.Reader.WaitToReadAsync().ConfigureAwait(false))
        {
            await WaitForBatchAsync().ConfigureAwait(false);
            Take(batch);
            if (batch.Count > 0)
            {
                await WriteBatchAsync(batch).ConfigureAwait(false);
            }
        }
    }

    /// <summary>Returns when a full batch is queued, the oldest queued write is FlushDelayMax old, or the pattern stops.</summary>
    private async Task WaitForBatchAsync()
    {
        while (true)
        {
            TaskCompletionSource wake;
            long oldestQueuedAt;
            lock (_gate)
            {
                // A fresh signal first, then the check: a write that fills the batch after the check sets this one.
                _wake = wake = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                if (_stopping || _queue.Reader.Count >= _options.BatchSizeMax || !_queue.Reader.TryPeek(out var head))
                {
                    return;
                }

                oldestQueuedAt = _queued[head].QueuedAt;
            }

            var remaining = _options.FlushDelayMax - _time.GetElapsedTime(oldestQueuedAt);
            if (remaining <= TimeSpan.Zero)
            {
                return;
            }

            using var timer = new CancellationTokenSource();
            await Task.WhenAny(wake.Task, Task.Delay(remaining, _time, timer.Token)).ConfigureAwait(false);
            await timer.CancelAsync().ConfigureAwait(false);
        }
    }

    /// <summary>Moves up to a batch of keys, oldest first, from the queue to the batch being written.</summary>
    private void Take(List<RecordWrite<TKey, TValue>> batch)
    {
        batch.Clear();
        lock (_gate)
        {
            while (batch.Count < _options.BatchSizeMax && _queue.Reader.TryRead(out var key))
            {
                var queued = _queued[key];
                _queued.Remove(key);
                _inFlight[key] = queued.Value;
                batch.Add(new RecordWrite<TKey, TValue>(key, queued.Value));
            }
        }
    }

    private async Task WriteBatchAsync(List<RecordWrite<TKey, TValue>> batch)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                // Not cancellable: a stop waits for the batch, since its writes were acknowledged.
                await _store.SaveBatchAsync(batch, CancellationToken.None).ConfigureAwait(false);
                // Counted once done with, so a reader of the counters sees the batch's whole effect.
                EndFlight(batch);
                Counters.DatabaseWrite();
                Interlocked.Increment(ref _batches);
                Interlocked.Add(ref _flushed, batch.Count);
                return;
            }
            catch (Exception error) when (attempt < _options.WriteAttemptsMax)
            {
                Interlocked.Increment(ref _retries);
                var pause = RetryDelay(attempt);
                LogRetry(_logger, batch.Count, attempt, _options.WriteAttemptsMax, pause.TotalMilliseconds, error);
                await Task.Delay(pause, _time).ConfigureAwait(false);
            }
            catch (Exception error)
            {
                await DeadLetterAsync(batch, error).ConfigureAwait(false);
                return;
            }
        }
    }

    /// <summary>The pause after failed try <paramref name="attempt"/> (from 1): doubling from the first, capped.</summary>
    private TimeSpan RetryDelay(int attempt)
    {
        var ticks = _options.RetryDelayFirst.Ticks * Math.Pow(2, attempt - 1);
        return ticks >= _options.RetryDelayMax.Ticks ? _options.RetryDelayMax : TimeSpan.FromTicks((long)ticks);
    }

    private void EndFlight(List<RecordWrite<TKey, TValue>> batch)
    {
        lock (_gate)
        {
            foreach (var write in batch)
            {
                _inFlight.Remove(write.Key);
            }
        }
    }

    private async Task DeadLetterAsync(List<RecordWrite<TKey, TValue>> batch, Exception error)
    {
        LogDeadLettered(_logger, batch.Count, _options.WriteAttemptsMax, error);
        var now = _time.GetUtcNow();
        var stale = new List<TKey>(batch.Count);
        lock (_gate)
        {
            foreach (var write in batch)
            {
                _inFlight.Remove(write.Key);
                if (_options.DeadLettersKept > 0)
                {
                    if (_deadLetters.Count == _options.DeadLettersKept)
                    {
                        _deadLetters.Dequeue();
                    }

                    _deadLetters.Enqueue(new DeadLetter<TKey, TValue>(write, error.Message, now));
                }

                // A key written again since is queued: its newer value stays cached and will be flushed.
                if (!_queued.ContainsKey(write.Key))
                {
                    stale.Add(write.Key);
                }
            }
        }

        // The cache holds values the database will never get: delete them, so readers see what the database holds.
        foreach (var key in stale)
        {
            try
            {
                await _cache.RemoveAsync(key, CancellationToken.None).ConfigureAwait(false);
            }
            catch (Exception removeError)
            {
                LogDeadLetterNotUncached(_logger, removeError);
            }
        }

        Interlocked.Add(ref _deadLettered, batch.Count);
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Write-behind could not write a batch of {Count} records (try {Attempt} of {Attempts}); trying again in {PauseMs} ms")]
    private static partial void LogRetry(ILogger logger, int count, int attempt, int attempts, double pauseMs, Exception error);

    [LoggerMessage(Level = LogLevel.Error, Message = "Write-behind gave up on a batch of {Count} records after {Attempts} tries; they are dead-lettered (acknowledged, never written)")]
    private static partial void LogDeadLettered(ILogger logger, int count, int attempts, Exception error);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Write-behind could not delete the cache entry of a dead-lettered record; it may be read until its TTL ends")]
    private static partial void LogDeadLetterNotUncached(ILogger logger, Exception error);
}
