namespace Blueprint.Log.Storage;

/// <summary>
/// Group commit of the log's fsyncs. Each append gets a write sequence number; waiting for it to be durable joins the
/// next fsync round. One round at a time runs on the thread pool: it takes the round's waiters, captures the highest
/// sequence written so far with the segment holding it, fsyncs that segment, and releases every waiter of the round.
/// Appends that arrive while a round is running all share the next one, so under load there is one fsync per round,
/// not per append. A failed fsync fails its waiters and every later wait: the data's durability is then unknown.
/// </summary>
internal sealed class GroupCommit(Func<(long Sequence, LogSegment Segment)> capture)
{
    private readonly Lock _gate = new();
    private TaskCompletionSource _next = NewRound();
    private bool _nextHasWaiters;
    private Task _running = Task.CompletedTask;
    private bool _isRunning;
    private long _durable;
    private long _syncCount;
    private Exception? _failure;

    /// <summary>The fsyncs done.</summary>
    public long SyncCount => Interlocked.Read(ref _syncCount);

    /// <summary>The error of a failed fsync, after which the log takes no more appends.</summary>
    public Exception? Failure => Volatile.Read(ref _failure);

    /// <summary>Runs before each fsync (tests hold a round open with it to let appends pile up).</summary>
    internal Func<Task>? BeforeSync { get; set; }

    /// <summary>Completes once everything up to write <paramref name="sequence"/> is on the disk.</summary>
    public Task WaitDurableAsync(long sequence)
    {
        lock (_gate)
        {
            if (_failure is { } failure)
            {
                return Task.FromException(new IOException("an earlier fsync of the log failed", failure));
            }

            if (_durable >= sequence)
            {
                return Task.CompletedTask;
            }

            _nextHasWaiters = true;
            var round = _next.Task;
            if (!_isRunning)
            {
                _isRunning = true;
                _running = Task.Run(RunRoundsAsync);
            }

            return round;
        }
    }

    /// <summary>Waits for the rounds in progress to finish.</summary>
    public Task IdleAsync()
    {
        lock (_gate)
        {
            return _running;
        }
    }

    private async Task RunRoundsAsync()
    {
        while (true)
        {
            TaskCompletionSource round;
            lock (_gate)
            {
                if (!_nextHasWaiters || _failure is not null)
                {
                    _isRunning = false;
                    return;
                }

                round = _next;
                _next = NewRound();
                _nextHasWaiters = false;
            }

            try
            {
                // Every waiter of this round wrote before it joined, and joined before the swap above, so the
                // sequence captured now covers them all.
                var (sequence, segment) = capture();
                if (BeforeSync is { } hook)
                {
                    await hook().ConfigureAwait(false);
                }

                try
                {
                    segment.Flush();
                }
                catch (ObjectDisposedException)
                {
                    // The segment was deleted (retention, truncation) after it closed; closing fsynced it.
                }

                lock (_gate)
                {
                    _durable = Math.Max(_durable, sequence);
                    _syncCount++;
                }

                round.TrySetResult();
            }
            catch (Exception e)
            {
                lock (_gate)
                {
                    _failure ??= e;
                    _next.TrySetException(new IOException("an earlier fsync of the log failed", e));
                }

                round.TrySetException(e);
            }
        }
    }

    private static TaskCompletionSource NewRound() => new(TaskCreationOptions.RunContinuationsAsynchronously);
}
