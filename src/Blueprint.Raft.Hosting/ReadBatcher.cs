using Blueprint.Core.Raft;

namespace Blueprint.Raft.Hosting;

/// <summary>
/// Read barriers (ReadIndex, thesis §6.4), batched as etcd batches them: every read that arrives while a round is in
/// flight waits for the next round, and one round answers all of them. A round's read index is fixed when the round
/// starts, so a read may only join a round that starts after the read arrived; that is what keeps it linearizable.
/// Owned by the driver loop, except <see cref="Rounds"/>.
/// </summary>
internal sealed class ReadBatcher(int nodeId, int pendingMax, int electionTimeoutTicks)
{
    private readonly Dictionary<long, ReadBatch> _started = [];
    private readonly PriorityQueue<ReadWaiter, long> _byIndex = new();
    private ReadBatch? _next;
    private ReadBatch? _inFlight;
    private long _lastId;
    private long _ticks;
    private long _rounds;

    /// <summary>ReadIndex rounds started; each answers every read batched into it.</summary>
    public long Rounds => Interlocked.Read(ref _rounds);

    private int Waiting => (_next?.Waiters.Count ?? 0) + _started.Values.Sum(batch => batch.Waiters.Count) + _byIndex.Count;

    /// <summary>Adds a read to the next round, unless too many wait.</summary>
    public void Add(ReadWaiter waiter)
    {
        int waiting = Waiting;
        if (waiting >= pendingMax)
        {
            waiter.Fail(new RaftOverloadedException($"Raft host {nodeId}: {waiting} reads wait (ReadsPendingMax)"));
            return;
        }

        waiter.Batch = _next ??= new ReadBatch();
        _next.Waiters.Add(waiter);
    }

    /// <summary>Starts a round for the reads that arrived since the last one started, unless a round is still in flight.</summary>
    public void StartRound(RaftNode node)
    {
        if (_inFlight is not null || _next is not { } batch)
        {
            return;
        }

        _next = null;
        if (batch.Waiters.Count == 0)
        {
            return;
        }

        batch.Id = ++_lastId;
        if (!node.ReadIndex(batch.Id))
        {
            var refusal = new RaftNotLeaderException($"Raft host {nodeId}: no leader, or the leader has not committed an entry of its term yet");
            foreach (var waiter in batch.Waiters)
            {
                waiter.Fail(refusal);
            }

            return;
        }

        Interlocked.Increment(ref _rounds);
        batch.StartTick = _ticks;
        _started[batch.Id] = batch;
        _inFlight = batch;
    }

    /// <summary>A round's read index is known: its reads wait until the state machine has applied it.</summary>
    public void OnReadState(ReadState read)
    {
        if (!_started.Remove(read.RequestId, out var batch))
        {
            return;
        }

        if (batch == _inFlight)
        {
            _inFlight = null;
        }

        foreach (var waiter in batch.Waiters)
        {
            _byIndex.Enqueue(waiter, read.Index);
        }
    }

    /// <summary>
    /// An answer that has not come in an election timeout (a lost message, a new leader) stops holding the next round
    /// back; its reads stay registered in case it still comes, and time out on their own.
    /// </summary>
    public void OnTick()
    {
        _ticks++;
        if (_inFlight is { } batch && _ticks - batch.StartTick >= electionTimeoutTicks)
        {
            _inFlight = null;
        }
    }

    /// <summary>
    /// The term or the leader changed: a round in flight will not be answered (the core drops pending reads when the
    /// leader changes), so the next round need not wait for it to age out. Its reads stay registered.
    /// </summary>
    public void ForgetInFlight() => _inFlight = null;

    /// <summary>Forgets a read its caller stopped waiting for.</summary>
    public void Drop(ReadWaiter waiter)
    {
        if (waiter.Batch is not { } batch || !batch.Waiters.Remove(waiter) || batch.Waiters.Count > 0 || batch.Id == 0)
        {
            return;
        }

        _started.Remove(batch.Id);
        if (batch == _inFlight)
        {
            _inFlight = null;
        }
    }

    /// <summary>Completes the reads whose read index is applied.</summary>
    public void Release(long applied)
    {
        while (_byIndex.TryPeek(out var waiter, out long index) && index <= applied)
        {
            _byIndex.Dequeue();
            waiter.Complete();
        }
    }

    /// <summary>Fails every read, wherever it waits.</summary>
    public void FailAll(Exception exception)
    {
        var waiting = (_next?.Waiters ?? [])
            .Concat(_started.Values.SelectMany(batch => batch.Waiters))
            .Concat(_byIndex.UnorderedItems.Select(item => item.Element));
        foreach (var waiter in waiting)
        {
            waiter.Fail(exception);
        }

        _next = null;
        _inFlight = null;
        _started.Clear();
        _byIndex.Clear();
    }
}

/// <summary>The reads one round answers; <see cref="Id"/> is the request id, 0 until the round starts.</summary>
internal sealed class ReadBatch
{
    public List<ReadWaiter> Waiters { get; } = [];

    public long Id { get; set; }

    public long StartTick { get; set; }
}

/// <summary>One caller's wait for a read barrier.</summary>
internal sealed class ReadWaiter
{
    private readonly TaskCompletionSource _done = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public Task Task => _done.Task;

    public ReadBatch? Batch { get; set; }

    public void Complete() => _done.TrySetResult();

    public void Fail(Exception exception) => _done.TrySetException(exception);
}
