namespace Blueprint.Core.Raft;

// Linearizable reads without log writes: ReadIndex (thesis §6.4) and the optional lease (thesis §6.4.1).
public sealed partial class RaftNode
{
    private readonly Queue<PendingRead> _pendingReads = new();
    private long _readRound;
    private long _leaseExpiresTick;
    private bool _leaseDisabled;

    /// <summary>
    /// Asks for a read index. The answer comes as a <see cref="ReadState"/> in a later <see cref="Raft.Ready"/>
    /// (or this one, on a leader that needs no round trip); the read may be served once the applied index reaches it.
    /// A follower forwards the request to its leader. The answer may never come (lost message, new leader): the caller
    /// times out and retries.
    /// </summary>
    /// <param name="requestId">The caller's id for the request, returned in the <see cref="ReadState"/>.</param>
    /// <returns>False when the request is refused at once: no known leader, the leader has not committed an entry of its term yet, or too many reads wait.</returns>
    public bool ReadIndex(long requestId)
    {
        if (Role == RaftRole.Leader)
        {
            return HandleRead(requestId, Id);
        }

        if (Has(RaftBugs.LeaseKeptOnStepDown) && _config.LeaseRead && _leaseExpiresTick > _ticks)
        {
            AddReadState(new ReadState(requestId, CommitIndex));
            return true;
        }

        if (LeaderId == None)
        {
            return false;
        }

        Send(new Message { Type = MessageType.ReadIndex, From = Id, To = LeaderId, Context = requestId });
        return true;
    }

    private void HandleForwardedRead(Message message)
    {
        if (Role == RaftRole.Leader)
        {
            HandleRead(message.Context, message.From);
        }
    }

    private bool HandleRead(long requestId, int from)
    {
        // Until an entry of its term commits, a new leader may not know the latest commit index (thesis §6.4 step 1).
        if (CommitIndex < _termStartIndex)
        {
            return false;
        }

        bool alone = Voters.Count == 1 && IsVoter(Id);
        bool leased = _config.LeaseRead && !_leaseDisabled && _leaseExpiresTick > _ticks;
        if (alone || leased || Has(RaftBugs.ReadWithoutQuorumCheck))
        {
            AnswerRead(new PendingRead(requestId, CommitIndex, 0, from));
            return true;
        }

        if (_pendingReads.Count >= _config.MaxPendingReads)
        {
            return false;
        }

        // One heartbeat round confirms that no newer leader existed when the read arrived (thesis §6.4 step 3).
        _readRound++;
        _pendingReads.Enqueue(new PendingRead(requestId, CommitIndex, _readRound, from));
        BroadcastHeartbeat(_readRound);
        return true;
    }

    private void ReleaseConfirmedReads()
    {
        if (_config.LeaseRead && !_leaseDisabled)
        {
            RenewLease();
        }

        while (_pendingReads.Count > 0 && QuorumConfirmed(_pendingReads.Peek().Round))
        {
            AnswerRead(_pendingReads.Dequeue());
        }
    }

    private bool QuorumConfirmed(long round)
    {
        int confirmed = 0;
        foreach (int voter in Voters)
        {
            if (voter == Id || (_progress.TryGetValue(voter, out var progress) && progress.ReadAck >= round))
            {
                confirmed++;
            }
        }

        return confirmed >= Quorum;
    }

    private void AnswerRead(PendingRead read)
    {
        if (read.From == Id)
        {
            AddReadState(new ReadState(read.RequestId, read.Index));
        }
        else
        {
            Send(new Message { Type = MessageType.ReadIndexResponse, From = Id, To = read.From, Index = read.Index, Context = read.RequestId });
        }
    }

    private void AddReadState(ReadState state)
    {
        // Bounded by the reads this node asked for; an answer nobody asked for (duplicated message) is dropped by the caller.
        Invariant.Check(_readStates.Count < OutboxMessagesMax, Id, "read states over their bound");
        _readStates.Add(state);
    }

    /// <summary>
    /// The lease runs <see cref="RaftConfig.LeaseTicks"/> from the send tick of the latest heartbeat a quorum answered:
    /// those followers reset their election timers no earlier than that tick, and refuse votes for an election timeout.
    /// </summary>
    private void RenewLease()
    {
        Span<long> ticks = stackalloc long[Voters.Count];
        for (int i = 0; i < Voters.Count; i++)
        {
            int voter = Voters[i];
            ticks[i] = voter == Id ? _ticks : _progress.TryGetValue(voter, out var progress) ? progress.LeaseTick : long.MinValue;
        }

        ticks.Sort();
        long start = ticks[Voters.Count - Quorum];
        if (start != long.MinValue)
        {
            _leaseExpiresTick = Math.Max(_leaseExpiresTick, start + _config.LeaseTicks);
        }
    }

    /// <summary>Ends the lease: on stepping down, and when the leader hands leadership over.</summary>
    private void ClearLease()
    {
        if (Has(RaftBugs.LeaseKeptOnStepDown))
        {
            return;
        }

        _leaseExpiresTick = 0;
    }

    private readonly record struct PendingRead(long RequestId, long Index, long Round, int From);
}
