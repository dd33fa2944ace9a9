using Blueprint.Core.Raft;

namespace Blueprint.Raft.Hosting;

// Proposals: the public entry point and the loop side; the waiters are kept by ProposalTable.
public sealed partial class RaftHost
{
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

            _proposals.Propose(waiter, _node!, propose);
        }
    }

    private void FailAllWaiters(Exception? fault)
    {
        _loopStopped = true;
        string why = IsRemoved ? "was removed from the cluster" : fault is null ? "stopped" : "failed: " + fault.Message;
        _proposals.FailAll(why, fault);
        _reads.FailAll(new RaftUnavailableException($"Raft host {Id} {why}", fault));
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
}
