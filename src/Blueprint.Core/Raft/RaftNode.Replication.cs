namespace Blueprint.Core.Raft;

// Log replication (paper §5.3) with fast back-off, and the commit rule (paper §5.4.2, Figure 8).
public sealed partial class RaftNode
{
    /// <summary>The index of the leader's first entry in its term; ReadIndex and configuration changes wait until it commits.</summary>
    private long _termStartIndex = long.MaxValue;

    /// <summary>Proposes a command; only the leader accepts. The entry is committed once a quorum stores it.</summary>
    /// <param name="data">The command.</param>
    /// <returns>Where the entry went, or why it was refused.</returns>
    public ProposeResult Propose(ReadOnlyMemory<byte> data) => ProposeEntry(EntryKind.Normal, data);

    private ProposeResult ProposeEntry(EntryKind kind, ReadOnlyMemory<byte> data)
    {
        if (Role != RaftRole.Leader)
        {
            return new ProposeResult(ProposeOutcome.NotLeader, 0, 0);
        }

        if (_leadTransferee != None)
        {
            return new ProposeResult(ProposeOutcome.Transferring, 0, 0);
        }

        if (_log.LastIndex - CommitIndex >= _config.MaxUncommittedEntries)
        {
            return new ProposeResult(ProposeOutcome.Full, 0, 0);
        }

        var entry = AppendLocal(kind, data);
        BroadcastAppend();
        return new ProposeResult(ProposeOutcome.Accepted, entry.Index, entry.Term);
    }

    private LogEntry AppendLocal(EntryKind kind, ReadOnlyMemory<byte> data)
    {
        var entry = new LogEntry(_log.LastIndex + 1, Term, kind, data);
        _log.Append(entry);
        if (kind == EntryKind.Configuration)
        {
            RefreshVoters();
        }

        // A single voter commits alone; the driver still persists the entry before it applies it.
        MaybeCommit();
        return entry;
    }

    private void BroadcastAppend()
    {
        foreach (int peer in _progress.Keys)
        {
            if (peer != Id)
            {
                SendAppend(peer, sendEmpty: true);
            }
        }
    }

    /// <summary>Sends the next entries to <paramref name="to"/>, or a snapshot when they are compacted away; returns whether a message went out.</summary>
    private bool SendAppend(int to, bool sendEmpty)
    {
        var progress = _progress[to];
        if (progress.IsPaused(_config.MaxInflightMessages))
        {
            return false;
        }

        long prevIndex = progress.Next - 1;
        long prevTerm = _log.Term(prevIndex);
        if (prevTerm < 0)
        {
            SendSnapshot(to, progress);
            return true;
        }

        var entries = progress.Next <= _log.LastIndex
            ? _log.Slice(progress.Next, _log.LastIndex, _config.MaxEntriesPerMessage)
            : [];
        if (entries.Count == 0 && !sendEmpty)
        {
            return false;
        }

        Send(new Message
        {
            Type = MessageType.Append,
            From = Id,
            To = to,
            Term = Term,
            Index = prevIndex,
            LogTerm = prevTerm,
            Entries = entries,
            Commit = CommitIndex,
        });
        progress.Sent(entries.Count > 0 ? entries[^1].Index : prevIndex, entries.Count > 0);
        return true;
    }

    private void BroadcastHeartbeat(long readRound)
    {
        foreach (var (peer, progress) in _progress)
        {
            if (peer != Id)
            {
                // Only what the follower is known to hold may be committed by a heartbeat.
                Send(new Message
                {
                    Type = MessageType.Heartbeat,
                    From = Id,
                    To = peer,
                    Term = Term,
                    Commit = Math.Min(progress.Match, CommitIndex),
                    Context = readRound,
                    SentTick = _ticks,
                });
            }
        }
    }

    private void StepLeader(Message message)
    {
        if (!_progress.TryGetValue(message.From, out var progress))
        {
            return;
        }

        switch (message.Type)
        {
            case MessageType.AppendResponse:
                progress.RecentActive = true;
                HandleAppendResponse(message, progress);
                break;
            case MessageType.HeartbeatResponse:
                progress.RecentActive = true;
                HandleHeartbeatResponse(message, progress);
                break;
            default:
                break;
        }
    }

    private void HandleAppendResponse(Message message, Progress progress)
    {
        if (message.Reject)
        {
            long hint = message.LogTerm > 0 ? _log.FindConflictByTerm(message.RejectHint, message.LogTerm) : message.RejectHint;
            if (progress.MaybeDecrementTo(message.Index, hint))
            {
                if (progress.State == ProgressState.Replicate)
                {
                    progress.BecomeProbe();
                }

                SendAppend(message.From, sendEmpty: true);
            }

            return;
        }

        bool wasPaused = progress.IsPaused(_config.MaxInflightMessages);
        if (!progress.MaybeUpdate(message.Index))
        {
            if (wasPaused && !progress.IsPaused(_config.MaxInflightMessages))
            {
                SendAppend(message.From, sendEmpty: false);
            }

            return;
        }

        if (progress.State == ProgressState.Probe
            || (progress.State == ProgressState.Snapshot && progress.Match >= progress.PendingSnapshot))
        {
            progress.BecomeProbe();
            progress.BecomeReplicate();
        }

        if (MaybeCommit())
        {
            if (Role != RaftRole.Leader)
            {
                return;
            }

            BroadcastAppend();
        }

        // Stream what is left, within the inflight limit.
        while (progress.Next <= _log.LastIndex && SendAppend(message.From, sendEmpty: false))
        {
        }

        if (message.From == _leadTransferee && progress.Match == _log.LastIndex)
        {
            SendTimeoutNow(message.From);
        }
    }

    private void HandleHeartbeatResponse(Message message, Progress progress)
    {
        progress.ReadAck = Math.Max(progress.ReadAck, message.Context);
        progress.LeaseTick = Math.Max(progress.LeaseTick, message.SentTick);
        progress.ProbeSent = false;
        if (progress.State == ProgressState.Replicate && progress.IsInflightFull(_config.MaxInflightMessages))
        {
            // Acknowledgements were lost: start again from what the follower is known to hold.
            progress.BecomeProbe();
        }

        if (progress.Match < _log.LastIndex)
        {
            SendAppend(message.From, sendEmpty: true);
        }

        ReleaseConfirmedReads();
    }

    /// <summary>Advances the commit index to the highest index a quorum stores, if that entry is of this term (paper §5.4.2).</summary>
    private bool MaybeCommit()
    {
        if (Role != RaftRole.Leader || Voters.Count == 0)
        {
            return false;
        }

        var matches = new long[Voters.Count];
        for (int i = 0; i < Voters.Count; i++)
        {
            int voter = Voters[i];
            matches[i] = voter == Id ? _log.LastIndex : _progress.TryGetValue(voter, out var progress) ? progress.Match : 0;
        }

        Array.Sort(matches);
        long quorumIndex = matches[Voters.Count - Quorum];
        if (quorumIndex <= CommitIndex)
        {
            return false;
        }

        // Counting replicas is not enough for an entry of an older term: Figure 8 shows it overwritten after that.
        if (_log.Term(quorumIndex) != Term && !Has(RaftBugs.CommitOldTermByCount))
        {
            return false;
        }

        CommitTo(quorumIndex);
        OnCommitAdvanced();
        return true;
    }

    private void StepFollower(Message message)
    {
        if (message.Type is MessageType.Append or MessageType.Heartbeat or MessageType.InstallSnapshot)
        {
            // Only the leader of this term sends these: hearing it restarts the election timer.
            _electionElapsed = 0;
            LeaderId = message.From;
        }

        switch (message.Type)
        {
            case MessageType.Append:
                HandleAppend(message);
                break;
            case MessageType.Heartbeat:
                CommitTo(Math.Min(message.Commit, _log.LastIndex));
                Send(new Message { Type = MessageType.HeartbeatResponse, From = Id, To = message.From, Term = Term, Context = message.Context, SentTick = message.SentTick });
                break;
            case MessageType.InstallSnapshot:
                HandleSnapshot(message);
                break;
            case MessageType.TimeoutNow:
                StartCampaign(Campaign.Transfer);
                break;
            default:
                break;
        }
    }

    private void HandleAppend(Message message)
    {
        if (message.Index < CommitIndex)
        {
            Send(new Message { Type = MessageType.AppendResponse, From = Id, To = message.From, Term = Term, Index = CommitIndex });
            return;
        }

        bool matches = _log.Matches(message.Index, message.LogTerm)
            || (Has(RaftBugs.SkipLogMatchingCheck) && message.Index <= _log.LastIndex);
        if (!matches)
        {
            // Fast back-off: point the leader at the last index whose term is not above prevLogTerm.
            long hint = _log.FindConflictByTerm(Math.Min(message.Index, _log.LastIndex), message.LogTerm);
            Send(new Message
            {
                Type = MessageType.AppendResponse,
                From = Id,
                To = message.From,
                Term = Term,
                Index = message.Index,
                Reject = true,
                RejectHint = hint,
                LogTerm = _log.Term(hint),
            });
            return;
        }

        long lastNew = message.Index + message.Entries.Count;
        AppendFromLeader(message.Entries);
        if (Has(RaftBugs.TruncateOnStaleAppend) && _log.LastIndex > lastNew && lastNew >= CommitIndex)
        {
            TruncateFrom(lastNew + 1);
        }

        CommitTo(Math.Min(message.Commit, lastNew));
        Send(new Message { Type = MessageType.AppendResponse, From = Id, To = message.From, Term = Term, Index = lastNew });
    }

    /// <summary>Drops the entries from <paramref name="index"/> on; returns whether a configuration entry went with them.</summary>
    private bool TruncateFrom(long index)
    {
        Invariant.Check(index > CommitIndex, Id, $"truncating committed entry {index} (commit index {CommitIndex})");
        bool configuration = _log.LastConfiguration(_log.LastIndex) is { } last && last.Index >= index;
        _log.TruncateFrom(index);
        if (configuration)
        {
            RefreshVoters();
        }

        return configuration;
    }

    private void AppendFromLeader(IReadOnlyList<LogEntry> entries)
    {
        bool configChanged = false;
        foreach (var entry in entries)
        {
            long existing = _log.Term(entry.Index);
            if (existing == entry.Term || entry.Index <= _log.SnapshotIndex)
            {
                continue;
            }

            if (existing >= 0)
            {
                configChanged |= TruncateFrom(entry.Index);
            }

            Invariant.Check(entry.Index == _log.LastIndex + 1, Id, $"entry {entry.Index} leaves a gap after {_log.LastIndex}");
            _log.Append(entry);
            configChanged |= entry.Kind == EntryKind.Configuration;
        }

        if (configChanged)
        {
            RefreshVoters();
        }
    }
}
