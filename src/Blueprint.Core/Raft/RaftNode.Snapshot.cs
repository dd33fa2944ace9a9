namespace Blueprint.Core.Raft;

// Snapshots, log compaction and InstallSnapshot (paper §7).
public sealed partial class RaftNode
{
    /// <summary>
    /// Compacts the log up to <paramref name="index"/>, which the state machine has applied, into a snapshot holding
    /// <paramref name="data"/>. The driver persists the result with <see cref="IRaftStorage.SaveSnapshot"/>; until it
    /// does, storage keeps the entries, which is safe.
    /// </summary>
    /// <param name="index">An applied index after the current snapshot.</param>
    /// <param name="data">The state machine's image at <paramref name="index"/>.</param>
    /// <returns>The snapshot to persist.</returns>
    public Snapshot Compact(long index, ReadOnlyMemory<byte> data)
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(index, _log.SnapshotIndex);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(index, AppliedIndex);
        Invariant.Check(_pendingReady is null, Id, "Compact called between Ready and Advance");
        var metadata = new SnapshotMetadata(index, _log.Term(index), VotersAt(index));
        _log.Compact(metadata);
        _snapshot = new Snapshot(metadata, data);
        return _snapshot;
    }

    private void SendSnapshot(int to, Progress progress)
    {
        Send(new Message { Type = MessageType.InstallSnapshot, From = Id, To = to, Term = Term, Snapshot = _snapshot });
        progress.BecomeSnapshot(_snapshot.Metadata.Index);
    }

    private void TickSnapshotRetries()
    {
        foreach (var progress in _progress.Values)
        {
            if (progress.State == ProgressState.Snapshot && ++progress.SnapshotTicks >= _config.ElectionTimeoutTicks)
            {
                // The snapshot or its answer was lost: probe again, which sends it anew if still needed.
                progress.BecomeProbe();
            }
        }
    }

    private void HandleSnapshot(Message message)
    {
        var snapshot = message.Snapshot!;
        var metadata = snapshot.Metadata;
        if (metadata.Index <= CommitIndex)
        {
            Send(new Message { Type = MessageType.AppendResponse, From = Id, To = message.From, Term = Term, Index = CommitIndex });
            return;
        }

        if (_log.Matches(metadata.Index, metadata.Term))
        {
            // The log already holds the snapshot's last entry: only the commit index moves (paper §7, step 6).
            CommitTo(metadata.Index);
            Send(new Message { Type = MessageType.AppendResponse, From = Id, To = message.From, Term = Term, Index = CommitIndex });
            return;
        }

        _log.Restore(metadata);
        _snapshot = snapshot;
        _pendingSnapshot = snapshot;
        CommitIndex = metadata.Index;
        RefreshVoters();
        Send(new Message { Type = MessageType.AppendResponse, From = Id, To = message.From, Term = Term, Index = metadata.Index });
    }
}
