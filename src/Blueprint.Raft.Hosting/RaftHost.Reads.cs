using Blueprint.Core.Raft;

namespace Blueprint.Raft.Hosting;

// Read barriers: the public entry point; ReadBatcher batches them into ReadIndex rounds on the loop.
public sealed partial class RaftHost
{
    /// <summary>ReadIndex rounds this node started; each answers every read batched into it.</summary>
    internal long ReadRounds => _reads.Rounds;

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
                PostToLoop(() => _reads.Drop(waiter));
                last = exception;
            }
            catch (OperationCanceledException exception) when (ct.IsCancellationRequested)
            {
                PostToLoop(() => _reads.Drop(waiter));
                throw new RaftUnavailableException($"Raft host {Id}: no read index was confirmed before the caller gave up", last ?? exception);
            }
            catch (RaftNotLeaderException exception)
            {
                last = exception;
                await WaitForRetryAsync(signal, ct).ConfigureAwait(false);
            }
        }
    }

    private void ReadOnLoop(ReadWaiter waiter)
    {
        if (IsRemoved || _loopStopped)
        {
            waiter.Fail(new RaftUnavailableException($"Raft host {Id} is not running"));
            return;
        }

        _reads.Add(waiter);
    }
}
