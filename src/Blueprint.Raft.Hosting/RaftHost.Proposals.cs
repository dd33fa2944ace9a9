using Blueprint.Core.Raft;

namespace Blueprint.Raft.Hosting;

// Proposals: waiters keyed by (index, term).
public sealed partial class RaftHost
{
    private readonly Dictionary<long, ProposalWaiter> _proposals = [];
    private bool _loopStopped;

    /// <summary>
    /// Replicates <paramref name="command"/> and returns the state machine's result for it. On the leader the command
    /// is proposed and the call completes when that very entry (same index and term) is applied; a follower forwards
    /// it to the leader; with no leader the call retries until <paramref name="ct"/> fires.
    /// </summary>
    /// <param name="command">The command for <see cref="IRaftStateMachine.Apply"/>.</param>
    /// <param name="ct">Gives up waiting.</param>
    /// <returns>The result of <see cref="IRaftStateMachine.Apply"/> on the leader.</returns>
    /// <exception cref="RaftUnavailableException">No leader took the command before <paramref name="ct"/> fired, or the host stopped; nothing was appended.</exception>
    /// <exception cref="RaftOutcomeUnknownException">The wait ended after the command may have been appended.</exception>
    /// <exception cref="RaftProposalDroppedException">The command was appended and then overwritten by another leader's entry.</exception>
    /// <exception cref="RaftOverloadedException">A queue or the leader's uncommitted log is full.</exception>
    public Task<byte[]> ProposeAsync(ReadOnlyMemory<byte> command, CancellationToken ct) =>
        OnLeaderAsync(KindPropose, Tagged(TagCommand, command.Span), ct);

    /// <summary>Proposes on this node's RaftNode and waits for the entry's apply.</summary>
    private async Task<byte[]> ProposeLocalAsync(Func<RaftNode, ProposeResult> propose, CancellationToken ct)
    {
        var waiter = new ProposalWaiter();
        EnqueueOrThrow(() => ProposeOnLoop(propose, waiter));
        using var registration = ct.Register(() => waiter.Cancel(ct));
        return await waiter.Task.ConfigureAwait(false);
    }

    private void ProposeOnLoop(Func<RaftNode, ProposeResult> propose, ProposalWaiter waiter)
    {
        lock (waiter)
        {
            if (waiter.Task.IsCompleted)
            {
                return;
            }

            if (IsRemoved || _loopStopped)
            {
                waiter.Fail(new RaftUnavailableException($"Raft host {Id} is not running"));
                return;
            }

            if (_proposals.Count >= _options.ProposalsPendingMax)
            {
                waiter.Fail(new RaftOverloadedException($"Raft host {Id}: {_proposals.Count} proposals await their apply (ProposalsPendingMax)"));
                return;
            }

            var result = propose(_node!);
            switch (result.Outcome)
            {
                case ProposeOutcome.Accepted:
                    waiter.Appended = true;
                    waiter.Index = result.Index;
                    waiter.Term = result.Term;
                    if (_proposals.Remove(result.Index, out var older))
                    {
                        // This leader appended a new entry where an older term's entry of ours stood: that one is gone.
                        older.Fail(new RaftProposalDroppedException($"The entry at index {older.Index} (term {older.Term}) was overwritten by term {result.Term}"));
                    }

                    _proposals[result.Index] = waiter;
                    break;
                case ProposeOutcome.NotLeader:
                    waiter.Fail(new RaftNotLeaderException($"Raft host {Id} is not the leader"));
                    break;
                case ProposeOutcome.Transferring:
                    waiter.Fail(new RaftNotLeaderException($"Raft host {Id} is handing leadership over"));
                    break;
                case ProposeOutcome.Full:
                    waiter.Fail(new RaftOverloadedException($"Raft host {Id}: the leader holds its maximum of uncommitted entries (MaxUncommittedEntries)"));
                    break;
                default:
                    waiter.Fail(new RaftConfigChangeRefusedException($"Raft host {Id}: the configuration change was refused (another is pending, or the leader has not committed an entry of its term yet)"));
                    break;
            }
        }
    }

    private void ResolveProposal(LogEntry entry, byte[] result)
    {
        if (!_proposals.Remove(entry.Index, out var waiter))
        {
            return;
        }

        if (waiter.Term == entry.Term)
        {
            waiter.Complete(result);
        }
        else
        {
            waiter.Fail(new RaftProposalDroppedException($"Index {entry.Index} holds an entry of term {entry.Term}, not the proposal of term {waiter.Term}"));
        }
    }

    private void FailProposalsThrough(long index)
    {
        foreach (var key in _proposals.Keys.Where(k => k <= index).ToList())
        {
            _proposals.Remove(key, out var waiter);
            waiter!.Fail(new RaftOutcomeUnknownException($"A snapshot at index {index} replaced the log before the proposal at {key} was seen to apply"));
        }
    }

    private void FailAllWaiters(Exception? fault)
    {
        _loopStopped = true;
        string why = IsRemoved ? "was removed from the cluster" : fault is null ? "stopped" : "failed: " + fault.Message;
        foreach (var waiter in _proposals.Values)
        {
            waiter.Fail(new RaftOutcomeUnknownException($"Raft host {Id} {why} before the proposal at index {waiter.Index} was seen to apply", fault));
        }

        _proposals.Clear();
        FailAllReads(new RaftUnavailableException($"Raft host {Id} {why}", fault));
        RunLoopWork();
        while (_inputs.Reader.TryRead(out var input))
        {
            if (input is CallInput call)
            {
                // Requests still queued fail now instead of waiting forever.
                call.Action();
            }
        }
    }

    private void EnqueueOrThrow(Action action)
    {
        ThrowIfStopped();
        if (!TryEnqueueCall(action))
        {
            ThrowIfStopped();
            throw new RaftOverloadedException($"Raft host {Id}: the driver's input queue is full (InputQueueMax = {_options.InputQueueMax})");
        }
    }

    private void ThrowIfStopped()
    {
        if (IsRemoved)
        {
            throw new RaftUnavailableException($"Raft host {Id} was removed from the cluster");
        }

        if (Volatile.Read(ref _disposed) != 0 || _loop is null || _loop.IsCompleted)
        {
            throw new RaftUnavailableException($"Raft host {Id} is not running");
        }
    }

    private static byte[] Tagged(byte tag, ReadOnlySpan<byte> body)
    {
        var data = new byte[body.Length + 1];
        data[0] = tag;
        body.CopyTo(data.AsSpan(1));
        return data;
    }

    private sealed class ProposalWaiter
    {
        private readonly TaskCompletionSource<byte[]> _done = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public Task<byte[]> Task => _done.Task;

        public bool Appended { get; set; }

        public long Index { get; set; }

        public long Term { get; set; }

        public void Complete(byte[] result) => _done.TrySetResult(result);

        public void Fail(Exception exception) => _done.TrySetException(exception);

        public void Cancel(CancellationToken ct)
        {
            lock (this)
            {
                if (Appended)
                {
                    _done.TrySetException(new RaftOutcomeUnknownException($"The caller stopped waiting after the proposal was appended at index {Index} (term {Term}); it may still commit"));
                }
                else
                {
                    _done.TrySetCanceled(ct);
                }
            }
        }
    }
}
