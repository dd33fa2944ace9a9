namespace Blueprint.Core.Raft;

/// <summary>How the leader replicates to one follower.</summary>
internal enum ProgressState
{
    /// <summary>Looking for the match point: one Append at a time.</summary>
    Probe,

    /// <summary>Streaming entries, up to <see cref="RaftConfig.MaxInflightMessages"/> in flight.</summary>
    Replicate,

    /// <summary>An InstallSnapshot is on its way.</summary>
    Snapshot,
}

/// <summary>The leader's view of one follower (paper Figure 2: nextIndex and matchIndex), plus flow control.</summary>
internal sealed class Progress(long next)
{
    private readonly Queue<long> _inflight = new();

    public long Match { get; private set; }

    public long Next { get; private set; } = next;

    public ProgressState State { get; private set; } = ProgressState.Probe;

    /// <summary>In Probe: an Append is out and unanswered, so no other is sent until a response or heartbeat answer.</summary>
    public bool ProbeSent { get; set; }

    public long PendingSnapshot { get; private set; }

    /// <summary>Ticks since the snapshot was sent; a lost one is sent again after an election timeout.</summary>
    public int SnapshotTicks { get; set; }

    /// <summary>Heard from since the last check-quorum round.</summary>
    public bool RecentActive { get; set; }

    /// <summary>The highest ReadIndex round this follower confirmed.</summary>
    public long ReadAck { get; set; }

    /// <summary>The leader's send tick of the latest heartbeat this follower answered, for the lease.</summary>
    public long LeaseTick { get; set; }

    public bool IsPaused(int inflightMax) => State switch
    {
        ProgressState.Probe => ProbeSent,
        ProgressState.Replicate => _inflight.Count >= inflightMax,
        _ => true,
    };

    public bool IsInflightFull(int inflightMax) => _inflight.Count >= inflightMax;

    public void BecomeProbe()
    {
        Next = State == ProgressState.Snapshot ? Math.Max(Match + 1, PendingSnapshot + 1) : Match + 1;
        State = ProgressState.Probe;
        ProbeSent = false;
        PendingSnapshot = 0;
        _inflight.Clear();
    }

    public void BecomeReplicate()
    {
        State = ProgressState.Replicate;
        Next = Match + 1;
        ProbeSent = false;
        _inflight.Clear();
    }

    public void BecomeSnapshot(long snapshotIndex)
    {
        State = ProgressState.Snapshot;
        PendingSnapshot = snapshotIndex;
        SnapshotTicks = 0;
        _inflight.Clear();
    }

    /// <summary>Records entries up to <paramref name="last"/> as sent.</summary>
    public void Sent(long last, bool hadEntries)
    {
        if (State == ProgressState.Replicate && hadEntries)
        {
            Next = last + 1;
            _inflight.Enqueue(last);
        }
        else if (State == ProgressState.Probe)
        {
            ProbeSent = true;
        }
    }

    /// <summary>A follower acknowledged <paramref name="index"/>; returns false for a stale acknowledgement.</summary>
    public bool MaybeUpdate(long index)
    {
        bool updated = false;
        if (Match < index)
        {
            Match = index;
            updated = true;
            ProbeSent = false;
        }

        Next = Math.Max(Next, index + 1);
        while (_inflight.Count > 0 && _inflight.Peek() <= index)
        {
            _inflight.Dequeue();
        }

        return updated;
    }

    /// <summary>
    /// A follower rejected an Append at prevLogIndex <paramref name="rejected"/>; moves Next back, past the whole
    /// conflicting term when <paramref name="matchHint"/> allows (fast back-off). Returns false for a stale rejection.
    /// </summary>
    public bool MaybeDecrementTo(long rejected, long matchHint)
    {
        if (State == ProgressState.Replicate)
        {
            if (rejected <= Match)
            {
                return false;
            }

            Next = Match + 1;
            return true;
        }

        if (Next - 1 != rejected)
        {
            return false;
        }

        Next = Math.Max(Math.Min(rejected, matchHint + 1), Match + 1);
        ProbeSent = false;
        return true;
    }
}
