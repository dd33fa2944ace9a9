using Blueprint.Core.Raft;

namespace Blueprint.Raft.Hosting;

/// <summary>
/// The proposals a host's node appended and whose apply someone awaits, keyed by index and checked by term: an entry
/// applied at that index with another term means the proposal was overwritten. Owned by the driver loop.
/// </summary>
internal sealed class ProposalTable(int nodeId, int pendingMax)
{
    private readonly Dictionary<long, ProposalWaiter> _pending = [];

    /// <summary>Proposes on <paramref name="node"/> through <paramref name="propose"/> unless the table is full, and registers an accepted entry.</summary>
    public void Propose(ProposalWaiter waiter, RaftNode node, Func<RaftNode, ProposeResult> propose)
    {
        if (_pending.Count >= pendingMax)
        {
            waiter.Fail(new RaftOverloadedException($"Raft host {nodeId}: {_pending.Count} proposals await their apply (ProposalsPendingMax)"));
            return;
        }

        var result = propose(node);
        switch (result.Outcome)
        {
            case ProposeOutcome.Accepted:
                waiter.Appended = true;
                waiter.Index = result.Index;
                waiter.Term = result.Term;
                if (_pending.Remove(result.Index, out var older))
                {
                    // This leader appended a new entry where an older term's entry of ours stood: that one is gone.
                    older.Fail(new RaftProposalDroppedException($"The entry at index {older.Index} (term {older.Term}) was overwritten by term {result.Term}"));
                }

                _pending[result.Index] = waiter;
                break;
            case ProposeOutcome.NotLeader:
                waiter.Fail(new RaftNotLeaderException($"Raft host {nodeId} is not the leader"));
                break;
            case ProposeOutcome.Transferring:
                waiter.Fail(new RaftNotLeaderException($"Raft host {nodeId} is handing leadership over"));
                break;
            case ProposeOutcome.Full:
                waiter.Fail(new RaftOverloadedException($"Raft host {nodeId}: the leader holds its maximum of uncommitted entries (MaxUncommittedEntries)"));
                break;
            default:
                waiter.Fail(new RaftConfigChangeRefusedException($"Raft host {nodeId}: the configuration change was refused (another is pending, or the leader has not committed an entry of its term yet)"));
                break;
        }
    }

    /// <summary>Answers the proposal at the applied entry's index, if any: with the result when the term matches, else as dropped.</summary>
    public void Resolve(LogEntry entry, byte[] result)
    {
        if (!_pending.Remove(entry.Index, out var waiter))
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

    /// <summary>A snapshot replaced the log through <paramref name="index"/>: the proposals up to it will never be seen to apply.</summary>
    public void FailThrough(long index)
    {
        foreach (var key in _pending.Keys.Where(k => k <= index).ToList())
        {
            _pending.Remove(key, out var waiter);
            waiter!.Fail(new RaftOutcomeUnknownException($"A snapshot at index {index} replaced the log before the proposal at {key} was seen to apply"));
        }
    }

    /// <summary>The host stopped (<paramref name="why"/>): every proposal's outcome is unknown.</summary>
    public void FailAll(string why, Exception? fault)
    {
        foreach (var waiter in _pending.Values)
        {
            waiter.Fail(new RaftOutcomeUnknownException($"Raft host {nodeId} {why} before the proposal at index {waiter.Index} was seen to apply", fault));
        }

        _pending.Clear();
    }
}

/// <summary>One caller's wait for its proposal's apply.</summary>
internal sealed class ProposalWaiter
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
