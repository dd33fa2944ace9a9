using Blueprint.Core.Raft;

namespace Blueprint.Raft.Hosting;

// Read barriers (ReadIndex, thesis §6.4), batched as etcd batches them: every read that arrives while a round is in
// flight waits for the next round, and one round answers all of them. A round's read index is fixed when the round
// starts, so a read may only join a round that starts after the read arrived; that is what keeps it linearizable.
public sealed partial class RaftHost
{
    private readonly Dictionary<long, ReadBatch> _reads = [];
    private readonly PriorityQueue<ReadWaiter, long> _readsByIndex = new();
    private ReadBatch? _readsNext;
    private ReadBatch? _readsInFlight;
    private long _lastReadId;
    private long _ticks;
    private long _readRounds;

    /// <summary>ReadIndex rounds this node started; each answers every read batched into it.</summary>
    internal long ReadRounds => Interlocked.Read(ref _readRounds);

    /// <summary>
    /// A linearizable read barrier: completes once this node's state machine has applied every entry committed before
    /// the call, as confirmed by the leader with a heartbeat round (ReadIndex, thesis §6.4). Works on followers.
    /// Concurrent calls share rounds.
    /// </summary>
    /// <param name="ct">Gives up waiting.</param>
    /// <returns>A task that completes when local reads are linearizable.</returns>
    /// <exception cref="RaftUnavailableException">No read index was confirmed before <paramref name="ct"/> fired, or the host stopped.</exception>
    /// <exception cref="RaftOverloadedException">Too many reads wait on this node.</exception>
    public async Task ReadIndexAsync(CancellationToken ct)
    {
        Exception? last = null;
        var attemptTimeout = _options.TickInterval * _options.ElectionTimeoutTicks * 2;
        while (true)
        {
            ThrowIfStopped();
            if (ct.IsCancellationRequested)
            {
                throw new RaftUnavailableException($"Raft host {Id}: no read index was confirmed before the caller gave up", last);
            }

            var signal = Volatile.Read(ref _statusChanged).Task;
            var waiter = new ReadWaiter();
            EnqueueOrThrow(() => ReadOnLoop(waiter));
            try
            {
                await waiter.Task.WaitAsync(attemptTimeout, _time, ct).ConfigureAwait(false);
                return;
            }
            catch (TimeoutException exception)
            {
                PostToLoop(() => DropRead(waiter));
                last = exception;
            }
            catch (OperationCanceledException exception) when (ct.IsCancellationRequested)
            {
                PostToLoop(() => DropRead(waiter));
                throw new RaftUnavailableException($"Raft host {Id}: no read index was confirmed before the caller gave up", last ?? exception);
            }
            catch (RaftNotLeaderException exception)
            {
                last = exception;
                await WaitForRetryAsync(signal, ct).ConfigureAwait(false);
            }
        }
    }

    private int ReadsWaiting => (_readsNext?.Waiters.Count ?? 0) + _reads.Values.Sum(batch => batch.Waiters.Count) + _readsByIndex.Count;

    private void ReadOnLoop(ReadWaiter waiter)
    {
        if (IsRemoved || _loopStopped)
        {
            waiter.Fail(new RaftUnavailableException($"Raft host {Id} is not running"));
            return;
        }

        int waiting = ReadsWaiting;
        if (waiting >= _options.ReadsPendingMax)
        {
            waiter.Fail(new RaftOverloadedException($"Raft host {Id}: {waiting} reads wait (ReadsPendingMax)"));
            return;
        }

        waiter.Batch = _readsNext ??= new ReadBatch();
        _readsNext.Waiters.Add(waiter);
    }

    /// <summary>Starts a round for the reads that arrived since the last one started, unless a round is still in flight.</summary>
    private void StartReadRound()
    {
        if (_readsInFlight is not null || _readsNext is not { } batch)
        {
            return;
        }

        _readsNext = null;
        if (batch.Waiters.Count == 0)
        {
            return;
        }

        batch.Id = ++_lastReadId;
        if (!_node!.ReadIndex(batch.Id))
        {
            var refusal = new RaftNotLeaderException($"Raft host {Id}: no leader, or the leader has not committed an entry of its term yet");
            foreach (var waiter in batch.Waiters)
            {
                waiter.Fail(refusal);
            }

            return;
        }

        Interlocked.Increment(ref _readRounds);
        batch.StartTick = _ticks;
        _reads[batch.Id] = batch;
        _readsInFlight = batch;
    }

    private void OnReadState(ReadState read)
    {
        if (!_reads.Remove(read.RequestId, out var batch))
        {
            return;
        }

        if (batch == _readsInFlight)
        {
            _readsInFlight = null;
        }

        foreach (var waiter in batch.Waiters)
        {
            _readsByIndex.Enqueue(waiter, read.Index);
        }
    }

    /// <summary>
    /// An answer that has not come in an election timeout (a lost message, a new leader) stops holding the next round
    /// back; its reads stay registered in case it still comes, and time out on their own.
    /// </summary>
    private void OnTickForReads()
    {
        _ticks++;
        if (_readsInFlight is { } batch && _ticks - batch.StartTick >= _options.ElectionTimeoutTicks)
        {
            _readsInFlight = null;
        }
    }

    /// <summary>Forgets a read its caller stopped waiting for.</summary>
    private void DropRead(ReadWaiter waiter)
    {
        if (waiter.Batch is not { } batch || !batch.Waiters.Remove(waiter) || batch.Waiters.Count > 0 || batch.Id == 0)
        {
            return;
        }

        _reads.Remove(batch.Id);
        if (batch == _readsInFlight)
        {
            _readsInFlight = null;
        }
    }

    private void ReleaseReads(long applied)
    {
        while (_readsByIndex.TryPeek(out var waiter, out long index) && index <= applied)
        {
            _readsByIndex.Dequeue();
            waiter.Complete();
        }
    }

    private void FailAllReads(Exception exception)
    {
        var waiting = (_readsNext?.Waiters ?? [])
            .Concat(_reads.Values.SelectMany(batch => batch.Waiters))
            .Concat(_readsByIndex.UnorderedItems.Select(item => item.Element));
        foreach (var waiter in waiting)
        {
            waiter.Fail(exception);
        }

        _readsNext = null;
        _readsInFlight = null;
        _reads.Clear();
        _readsByIndex.Clear();
    }

    /// <summary>The reads one round answers; <see cref="Id"/> is the request id, 0 until the round starts.</summary>
    private sealed class ReadBatch
    {
        public List<ReadWaiter> Waiters { get; } = [];

        public long Id { get; set; }

        public long StartTick { get; set; }
    }

    private sealed class ReadWaiter
    {
        private readonly TaskCompletionSource _done = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public Task Task => _done.Task;

        public ReadBatch? Batch { get; set; }

        public void Complete() => _done.TrySetResult();

        public void Fail(Exception exception) => _done.TrySetException(exception);
    }
}
