namespace Blueprint.Core.Raft;

/// <summary>
/// The settings of one Raft node. Times are counted in ticks of <see cref="RaftNode.Tick"/>; the driver decides how
/// long a tick is. Every limit is named here with its policy when reached.
/// </summary>
public sealed record RaftConfig
{
    /// <summary>The node's id; 0 means "no node" and is not allowed.</summary>
    public required int Id { get; init; }

    /// <summary>
    /// The base election timeout. A follower campaigns after a random timeout in [T, 2T) ticks without hearing from a
    /// leader (paper §5.2); a leader with <see cref="CheckQuorum"/> steps down after T ticks without a quorum.
    /// </summary>
    /// <value>At least 2 and more than <see cref="HeartbeatTicks"/>; default 10.</value>
    public int ElectionTimeoutTicks { get; init; } = 10;

    /// <summary>The leader sends heartbeats every this many ticks.</summary>
    /// <value>At least 1 and less than <see cref="ElectionTimeoutTicks"/>; default 1.</value>
    public int HeartbeatTicks { get; init; } = 1;

    /// <summary>Campaign with a pre-vote round first, so a partitioned node cannot bump everyone's term (thesis §9.6).</summary>
    /// <value>Default true.</value>
    public bool PreVote { get; init; } = true;

    /// <summary>
    /// A leader steps down when it has not heard from a quorum within an election timeout, and a follower that heard
    /// from a leader within an election timeout ignores vote requests (thesis §6.2, §9.6).
    /// </summary>
    /// <value>Default true.</value>
    public bool CheckQuorum { get; init; } = true;

    /// <summary>
    /// The leader answers reads from a lease instead of a quorum round (thesis §6.4.1). Safe only while tick rates of
    /// the nodes differ by less than <see cref="ElectionTimeoutTicks"/> / <see cref="LeaseTicks"/>; needs
    /// <see cref="CheckQuorum"/>.
    /// </summary>
    /// <value>Default false.</value>
    public bool LeaseRead { get; init; }

    /// <summary>How long a lease lasts from the send tick of the heartbeat a quorum acknowledged.</summary>
    /// <value>From 1 to <see cref="ElectionTimeoutTicks"/> - 1; default 5 (half the default election timeout).</value>
    public int LeaseTicks { get; init; } = 5;

    /// <summary>Most entries in one AppendEntries message; longer runs are split.</summary>
    /// <value>At least 1; default 64.</value>
    public int MaxEntriesPerMessage { get; init; } = 64;

    /// <summary>Most AppendEntries messages in flight to one follower; when reached the leader waits for acknowledgements.</summary>
    /// <value>At least 1; default 64.</value>
    public int MaxInflightMessages { get; init; } = 64;

    /// <summary>Most uncommitted entries on a leader; further proposals are rejected with <see cref="ProposeOutcome.Full"/>.</summary>
    /// <value>At least 1; default 1024.</value>
    public int MaxUncommittedEntries { get; init; } = 1024;

    /// <summary>Most ReadIndex requests awaiting a quorum on a leader; further reads are rejected.</summary>
    /// <value>At least 1; default 1024.</value>
    public int MaxPendingReads { get; init; } = 1024;

    /// <summary>Most committed entries handed out in one <see cref="Ready"/>; the rest follow in the next one.</summary>
    /// <value>At least 1; default 1024.</value>
    public int MaxCommittedEntriesPerReady { get; init; } = 1024;

    /// <summary>Classic bugs switched on for the simulator's tests; never set in production.</summary>
    internal RaftBugs Bugs { get; init; }

    /// <summary>Every problem with this configuration, each naming the setting, its value and what is allowed.</summary>
    /// <returns>An empty list when the configuration is valid.</returns>
    public IReadOnlyList<string> Problems()
    {
        var problems = new List<string>();
        if (Id <= 0)
        {
            problems.Add($"Id = {Id}: must be positive (0 means no node)");
        }

        if (ElectionTimeoutTicks < 2 || ElectionTimeoutTicks <= HeartbeatTicks)
        {
            problems.Add($"ElectionTimeoutTicks = {ElectionTimeoutTicks}: must be at least 2 and more than HeartbeatTicks ({HeartbeatTicks})");
        }

        if (HeartbeatTicks < 1)
        {
            problems.Add($"HeartbeatTicks = {HeartbeatTicks}: must be at least 1");
        }

        if (LeaseTicks < 1 || LeaseTicks >= ElectionTimeoutTicks)
        {
            problems.Add($"LeaseTicks = {LeaseTicks}: must be from 1 to ElectionTimeoutTicks - 1 ({ElectionTimeoutTicks - 1})");
        }

        if (LeaseRead && !CheckQuorum)
        {
            problems.Add("LeaseRead = true: needs CheckQuorum = true, which keeps followers from electing another leader during a lease");
        }

        AddIfBelowOne(problems, nameof(MaxEntriesPerMessage), MaxEntriesPerMessage);
        AddIfBelowOne(problems, nameof(MaxInflightMessages), MaxInflightMessages);
        AddIfBelowOne(problems, nameof(MaxUncommittedEntries), MaxUncommittedEntries);
        AddIfBelowOne(problems, nameof(MaxPendingReads), MaxPendingReads);
        AddIfBelowOne(problems, nameof(MaxCommittedEntriesPerReady), MaxCommittedEntriesPerReady);
        return problems;
    }

    private static void AddIfBelowOne(List<string> problems, string name, int value)
    {
        if (value < 1)
        {
            problems.Add($"{name} = {value}: must be at least 1");
        }
    }
}
