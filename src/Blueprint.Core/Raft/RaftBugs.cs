namespace Blueprint.Core.Raft;

/// <summary>
/// Classic Raft bugs that the simulator must catch. Internal and settable only through
/// <see cref="RaftConfig.Bugs"/> from the simulator and its tests; production code never sets one, so every
/// switch is off on every production path.
/// </summary>
[Flags]
internal enum RaftBugs
{
    /// <summary>No bug: the algorithm as specified.</summary>
    None = 0,

    /// <summary>The leader commits any entry stored on a majority, also one from an older term (paper §5.4.2, Figure 8).</summary>
    CommitOldTermByCount = 1 << 0,

    /// <summary>A vote for another node is sent without being part of the hard state to persist, so a restart forgets it (paper Figure 2, "persistent state").</summary>
    VoteNotPersisted = 1 << 1,

    /// <summary>A follower accepts AppendEntries without checking that its entry at prevLogIndex has prevLogTerm (paper §5.3).</summary>
    SkipLogMatchingCheck = 1 << 2,

    /// <summary>
    /// A follower drops every entry after an AppendEntries' last one even when they match, so a delayed, reordered
    /// message erases entries it already acknowledged (paper Figure 2, AppendEntries step 3: truncate only on conflict).
    /// </summary>
    TruncateOnStaleAppend = 1 << 3,

    /// <summary>A voter grants its vote without the up-to-date log check (paper §5.4.1, election restriction).</summary>
    VoteWithoutLogCheck = 1 << 4,

    /// <summary>The leader answers ReadIndex at once with its commit index, without confirming with a quorum that it still leads (thesis §6.4).</summary>
    ReadWithoutQuorumCheck = 1 << 5,

    /// <summary>A leader that hands over or loses leadership keeps its read lease and keeps answering reads from it (thesis §6.4.1).</summary>
    LeaseKeptOnStepDown = 1 << 6,
}
