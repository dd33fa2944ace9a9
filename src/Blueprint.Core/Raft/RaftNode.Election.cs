namespace Blueprint.Core.Raft;

// Leader election (paper §5.2, §5.4.1) with pre-vote and check-quorum (thesis §9.6).
public sealed partial class RaftNode
{
    private enum Campaign
    {
        PreElection,
        Election,
        Transfer,
    }

    /// <summary>Marks vote requests of a leadership transfer, which bypass the check-quorum lease of followers (thesis §3.10).</summary>
    private const long ForceCampaign = 1;

    /// <summary>
    /// Whether this node refuses to take part in an election because it heard from a leader within an election timeout
    /// or restarted less than one ago (a restart forgets when it last heard from a leader, and a lease may still run).
    /// </summary>
    private bool InLease =>
        _config.CheckQuorum
        && ((LeaderId != None && _electionElapsed < _config.ElectionTimeoutTicks)
            || (_config.LeaseRead && _ticks < _config.ElectionTimeoutTicks));

    private void TickElection()
    {
        _electionElapsed++;
        if (Promotable && _electionElapsed >= _randomizedElectionTimeout)
        {
            _electionElapsed = 0;
            StartCampaign(_config.PreVote ? Campaign.PreElection : Campaign.Election);
        }
    }

    private void BecomePreCandidate()
    {
        // The term and vote stay: a pre-vote round changes nothing anyone persists.
        _votes.Clear();
        LeaderId = None;
        ClearLease();
        Role = RaftRole.PreCandidate;
    }

    private void BecomeCandidate()
    {
        Invariant.Check(Role != RaftRole.Leader, Id, "a leader cannot become a candidate directly");
        Reset(Term + 1);
        Vote = Id;
        Role = RaftRole.Candidate;
    }

    private void StartCampaign(Campaign campaign)
    {
        if (!Promotable)
        {
            return;
        }

        long voteTerm;
        MessageType type;
        if (campaign == Campaign.PreElection)
        {
            BecomePreCandidate();
            voteTerm = Term + 1;
            type = MessageType.PreVote;
        }
        else
        {
            BecomeCandidate();
            voteTerm = Term;
            type = MessageType.Vote;
        }

        if (RecordVote(Id, granted: true) == VoteResult.Won)
        {
            WinCampaign(campaign);
            return;
        }

        foreach (int voter in Voters)
        {
            if (voter != Id)
            {
                Send(new Message
                {
                    Type = type,
                    From = Id,
                    To = voter,
                    Term = voteTerm,
                    Index = _log.LastIndex,
                    LogTerm = _log.LastTerm,
                    Context = campaign == Campaign.Transfer ? ForceCampaign : 0,
                });
            }
        }
    }

    private void WinCampaign(Campaign campaign)
    {
        if (campaign == Campaign.PreElection)
        {
            StartCampaign(Campaign.Election);
        }
        else
        {
            BecomeLeader();
        }
    }

    private enum VoteResult
    {
        Pending,
        Won,
        Lost,
    }

    private VoteResult RecordVote(int from, bool granted)
    {
        if (IsVoter(from))
        {
            _votes.TryAdd(from, granted);
        }

        int yes = _votes.Count(v => v.Value);
        int no = _votes.Count - yes;
        return yes >= Quorum ? VoteResult.Won : no >= Quorum ? VoteResult.Lost : VoteResult.Pending;
    }

    /// <summary>Handles a message of a higher term; returns false when the message is to be ignored.</summary>
    private bool StepHigherTerm(Message message)
    {
        if (message.Type is MessageType.Vote or MessageType.PreVote)
        {
            // A follower that hears from its leader ignores campaigns, so a node cut off and back cannot depose a
            // working leader; a leadership transfer says so and passes.
            if (message.Context != ForceCampaign && InLease)
            {
                return false;
            }
        }

        if (message.Type == MessageType.PreVote || (message.Type == MessageType.PreVoteResponse && !message.Reject))
        {
            // Pre-votes ask about a term nobody has entered yet: no term changes hands.
            return true;
        }

        bool fromLeader = message.Type is MessageType.Append or MessageType.Heartbeat or MessageType.InstallSnapshot;
        BecomeFollower(message.Term, fromLeader ? message.From : None);
        return true;
    }

    private void StepLowerTerm(Message message)
    {
        if ((_config.CheckQuorum || _config.PreVote) && message.Type is MessageType.Append or MessageType.Heartbeat)
        {
            // A deposed leader cut off from the new one learns the new term here and steps down.
            Send(new Message { Type = MessageType.AppendResponse, From = Id, To = message.From, Term = Term });
        }
        else if (message.Type == MessageType.PreVote)
        {
            Send(new Message { Type = MessageType.PreVoteResponse, From = Id, To = message.From, Term = Term, Reject = true });
        }
    }

    private void HandleVoteRequest(Message message)
    {
        bool canVote = Vote == message.From
            || (Vote == None && LeaderId == None)
            || (message.Type == MessageType.PreVote && message.Term > Term);
        bool upToDate = Has(RaftBugs.VoteWithoutLogCheck) || _log.IsUpToDate(message.Index, message.LogTerm);
        var responseType = message.Type == MessageType.Vote ? MessageType.VoteResponse : MessageType.PreVoteResponse;
        if (canVote && upToDate)
        {
            // A granted pre-vote answers with the term asked for, so the candidate counts it without a term change.
            Send(new Message { Type = responseType, From = Id, To = message.From, Term = message.Term });
            if (message.Type == MessageType.Vote)
            {
                _electionElapsed = 0;
                Vote = message.From;
            }
        }
        else
        {
            Send(new Message { Type = responseType, From = Id, To = message.From, Term = Term, Reject = true });
        }
    }

    private void StepCandidate(Message message)
    {
        var expected = Role == RaftRole.PreCandidate ? MessageType.PreVoteResponse : MessageType.VoteResponse;
        switch (message.Type)
        {
            case MessageType.Append or MessageType.Heartbeat or MessageType.InstallSnapshot:
                // Another node won this term (paper §5.2).
                BecomeFollower(message.Term, message.From);
                StepFollower(message);
                break;
            case var type when type == expected:
                var result = RecordVote(message.From, !message.Reject);
                if (result == VoteResult.Won)
                {
                    WinCampaign(Role == RaftRole.PreCandidate ? Campaign.PreElection : Campaign.Election);
                }
                else if (result == VoteResult.Lost)
                {
                    BecomeFollower(Term, None);
                }

                break;
            default:
                break;
        }
    }

    private void BecomeLeader()
    {
        Invariant.Check(Role == RaftRole.Candidate, Id, "only a candidate becomes leader");
        Reset(Term);
        Role = RaftRole.Leader;
        LeaderId = Id;
        foreach (int voter in Voters)
        {
            _progress[voter] = new Progress(_log.LastIndex + 1);
        }

        // An empty entry of the new term: committing it commits every earlier entry (paper §5.4.2) and tells ReadIndex
        // the commit index is current (thesis §6.4).
        _termStartIndex = _log.LastIndex + 1;
        AppendLocal(EntryKind.Empty, ReadOnlyMemory<byte>.Empty);
        BroadcastAppend();
    }

    private void TickLeader()
    {
        _heartbeatElapsed++;
        _electionElapsed++;
        if (_electionElapsed >= _config.ElectionTimeoutTicks)
        {
            _electionElapsed = 0;
            if (_config.CheckQuorum && !QuorumRecentlyActive())
            {
                BecomeFollower(Term, None);
                return;
            }

            // A transfer that did not finish within an election timeout is abandoned (thesis §3.10).
            _leadTransferee = None;
        }

        if (_heartbeatElapsed >= _config.HeartbeatTicks)
        {
            _heartbeatElapsed = 0;
            BroadcastHeartbeat(_readRound);
        }

        TickSnapshotRetries();
    }

    private bool QuorumRecentlyActive()
    {
        int active = 0;
        foreach (int voter in Voters)
        {
            if (voter == Id || (_progress.TryGetValue(voter, out var progress) && progress.RecentActive))
            {
                active++;
            }
        }

        foreach (var progress in _progress.Values)
        {
            progress.RecentActive = false;
        }

        return active >= Quorum;
    }
}
