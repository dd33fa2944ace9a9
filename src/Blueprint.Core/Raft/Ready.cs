namespace Blueprint.Core.Raft;

/// <summary>
/// What the driver must do, in this order: persist <see cref="Snapshot"/>, <see cref="Entries"/> and
/// <see cref="HardState"/> (see <see cref="RaftStorageExtensions.Persist"/>); then send <see cref="Messages"/>; then
/// install <see cref="Snapshot"/> into the state machine and apply <see cref="CommittedEntries"/>; then call
/// <see cref="RaftNode.Advance"/>. Persisting before sending is what makes a vote or an acknowledgement a promise.
/// A leader whose term is already persisted may send its appends and heartbeats before its own write (thesis
/// §10.2.1), provided no acknowledgement is stepped into the node before that write has finished.
/// </summary>
public sealed class Ready
{
    /// <summary>The hard state to persist, or null when it did not change.</summary>
    public HardState? HardState { get; init; }

    /// <summary>Entries to append to stable storage; storage first drops any entry at or after the first one's index.</summary>
    public IReadOnlyList<LogEntry> Entries { get; init; } = [];

    /// <summary>A snapshot from the leader to persist and install, or null.</summary>
    public Snapshot? Snapshot { get; init; }

    /// <summary>Messages to send once the state above is persisted.</summary>
    public IReadOnlyList<Message> Messages { get; init; } = [];

    /// <summary>Committed entries to apply, in order, once the state above is persisted.</summary>
    public IReadOnlyList<LogEntry> CommittedEntries { get; init; } = [];

    /// <summary>Reads confirmed by the leader: each may be answered once the state machine has applied its index.</summary>
    public IReadOnlyList<ReadState> ReadStates { get; init; } = [];
}

/// <summary>A confirmed read: answer request <paramref name="RequestId"/> once the applied index reaches <paramref name="Index"/> (thesis §6.4).</summary>
/// <param name="RequestId">The id passed to <see cref="RaftNode.ReadIndex"/>.</param>
/// <param name="Index">The read index.</param>
public readonly record struct ReadState(long RequestId, long Index);

/// <summary>The outcome of a proposal.</summary>
public enum ProposeOutcome
{
    /// <summary>Appended to the leader's log; committed only if a quorum stores it before another leader overwrites it.</summary>
    Accepted,

    /// <summary>This node is not the leader.</summary>
    NotLeader,

    /// <summary>The leader is handing leadership over and takes no proposals meanwhile.</summary>
    Transferring,

    /// <summary>The leader holds <see cref="RaftConfig.MaxUncommittedEntries"/> uncommitted entries; retry later.</summary>
    Full,

    /// <summary>A configuration change is refused: another is pending, the leader has not committed an entry of its term yet, or the change changes nothing.</summary>
    ConfigChangeRefused,
}

/// <summary>The outcome of a proposal and, when accepted, where the entry went.</summary>
/// <param name="Outcome">Accepted or why not.</param>
/// <param name="Index">The entry's index when accepted.</param>
/// <param name="Term">The entry's term when accepted.</param>
public readonly record struct ProposeResult(ProposeOutcome Outcome, long Index, long Term)
{
    /// <summary>Whether the entry was appended.</summary>
    public bool IsAccepted => Outcome == ProposeOutcome.Accepted;
}
