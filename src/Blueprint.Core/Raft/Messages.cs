namespace Blueprint.Core.Raft;

/// <summary>The kinds of message between nodes.</summary>
public enum MessageType
{
    /// <summary>RequestVote of the pre-vote round (thesis §9.6); does not change anyone's term.</summary>
    PreVote,

    /// <summary>Answer to <see cref="PreVote"/>.</summary>
    PreVoteResponse,

    /// <summary>RequestVote (paper §5.2).</summary>
    Vote,

    /// <summary>Answer to <see cref="Vote"/>.</summary>
    VoteResponse,

    /// <summary>AppendEntries with entries or as a probe (paper §5.3).</summary>
    Append,

    /// <summary>Answer to <see cref="Append"/> and <see cref="InstallSnapshot"/>: the match index, or a rejection with a hint.</summary>
    AppendResponse,

    /// <summary>An empty AppendEntries that also confirms leadership for ReadIndex and leases.</summary>
    Heartbeat,

    /// <summary>Answer to <see cref="Heartbeat"/>.</summary>
    HeartbeatResponse,

    /// <summary>InstallSnapshot (paper §7).</summary>
    InstallSnapshot,

    /// <summary>A follower forwards a ReadIndex request to the leader (thesis §6.4).</summary>
    ReadIndex,

    /// <summary>The leader's answer to a forwarded <see cref="ReadIndex"/>.</summary>
    ReadIndexResponse,

    /// <summary>The leader tells the transferee to campaign at once (thesis §3.10).</summary>
    TimeoutNow,
}

/// <summary>One message between two nodes. Immutable, so a network may deliver it twice.</summary>
public sealed record Message
{
    /// <summary>The kind of message.</summary>
    public required MessageType Type { get; init; }

    /// <summary>The sender.</summary>
    public required int From { get; init; }

    /// <summary>The receiver.</summary>
    public required int To { get; init; }

    /// <summary>The sender's term, or the term asked for in a (pre-)vote; 0 for ReadIndex forwarding, which is term-less.</summary>
    public long Term { get; init; }

    /// <summary>Votes: the candidate's last log term. Append: the term at <see cref="Index"/>. Rejections: the follower's term at <see cref="RejectHint"/>.</summary>
    public long LogTerm { get; init; }

    /// <summary>Votes: the candidate's last index. Append: prevLogIndex. Responses: the match index, or the rejected prevLogIndex. ReadIndex: the read index.</summary>
    public long Index { get; init; }

    /// <summary>The entries of an Append, at most <see cref="RaftConfig.MaxEntriesPerMessage"/>.</summary>
    public IReadOnlyList<LogEntry> Entries { get; init; } = [];

    /// <summary>The leader's commit index.</summary>
    public long Commit { get; init; }

    /// <summary>Whether the request was refused.</summary>
    public bool Reject { get; init; }

    /// <summary>On a rejected Append: the follower's guess of the last index that could match (fast back-off, paper §5.3).</summary>
    public long RejectHint { get; init; }

    /// <summary>The snapshot of an <see cref="MessageType.InstallSnapshot"/>.</summary>
    public Snapshot? Snapshot { get; init; }

    /// <summary>Heartbeats: the ReadIndex round being confirmed. ReadIndex messages: the request id. Votes: 1 when a leadership transfer forces the election.</summary>
    public long Context { get; init; }

    /// <summary>Heartbeats and their responses: the leader's tick count when it sent the heartbeat, for the lease.</summary>
    public long SentTick { get; init; }
}
