namespace Blueprint.Core.Raft;

// Single-server membership changes (thesis §4.1-4.3) and leadership transfer (thesis §3.10).
public sealed partial class RaftNode
{
    private long _configIndex;
    private int _leadTransferee;

    /// <summary>The node leadership is being handed to, or <see cref="None"/>.</summary>
    public int LeadTransferee => _leadTransferee;

    /// <summary>
    /// Proposes adding or removing one voter. Refused while another change is uncommitted, and until the leader has
    /// committed an entry of its own term (the fix for the single-server change bug, thesis errata of 2015).
    /// </summary>
    /// <param name="change">The change.</param>
    /// <returns>Where the entry went, or why it was refused.</returns>
    public ProposeResult ProposeConfigChange(ConfigChange change)
    {
        if (Role == RaftRole.Leader && (CommitIndex < _termStartIndex || _configIndex > CommitIndex))
        {
            return new ProposeResult(ProposeOutcome.ConfigChangeRefused, 0, 0);
        }

        var voters = Membership.Apply(Voters, change);
        if (Role == RaftRole.Leader && voters is null)
        {
            return new ProposeResult(ProposeOutcome.ConfigChangeRefused, 0, 0);
        }

        return ProposeEntry(EntryKind.Configuration, voters is null ? ReadOnlyMemory<byte>.Empty : Membership.Encode(voters));
    }

    /// <summary>Asks the leader to hand leadership to <paramref name="target"/> once its log is current (thesis §3.10).</summary>
    /// <param name="target">A voter other than this node.</param>
    /// <returns>False when this node is not the leader or the target is not another voter.</returns>
    public bool TransferLeadership(int target)
    {
        if (Role != RaftRole.Leader || target == Id || !IsVoter(target) || !_progress.TryGetValue(target, out var progress))
        {
            return false;
        }

        if (_leadTransferee == target)
        {
            return true;
        }

        _leadTransferee = target;
        _electionElapsed = 0;
        if (progress.Match == _log.LastIndex)
        {
            SendTimeoutNow(target);
        }
        else
        {
            SendAppend(target, sendEmpty: true);
        }

        return true;
    }

    private void SendTimeoutNow(int to)
    {
        // The transferee will win without waiting for anyone's lease to run out, so this one ends here.
        if (!Has(RaftBugs.LeaseKeptOnStepDown))
        {
            _leaseDisabled = true;
            ClearLease();
        }

        Send(new Message { Type = MessageType.TimeoutNow, From = Id, To = to, Term = Term });
    }

    /// <summary>Takes the voters from the latest configuration in the log, else from the snapshot (thesis §4.1: in force once appended).</summary>
    private void RefreshVoters()
    {
        if (_log.LastConfiguration(_log.LastIndex) is { } entry)
        {
            Voters = Membership.Decode(entry.Data.Span);
            _configIndex = entry.Index;
        }
        else
        {
            Voters = _log.Snapshot.Voters;
            _configIndex = _log.SnapshotIndex;
        }

        if (Role != RaftRole.Leader)
        {
            return;
        }

        foreach (int voter in Voters)
        {
            if (!_progress.ContainsKey(voter))
            {
                _progress[voter] = new Progress(_log.LastIndex + 1);
            }
        }

        foreach (int peer in _progress.Keys.Where(p => !IsVoter(p)).ToList())
        {
            _progress.Remove(peer);
        }
    }

    private void OnCommitAdvanced()
    {
        // A leader that removed itself leads until that configuration commits, then steps down (thesis §4.2.2).
        if (Role == RaftRole.Leader && !IsVoter(Id) && CommitIndex >= _configIndex)
        {
            BecomeFollower(Term, None);
        }
    }

    private IReadOnlyList<int> VotersAt(long index) =>
        _log.LastConfiguration(index) is { } entry ? Membership.Decode(entry.Data.Span) : _log.Snapshot.Voters;
}
