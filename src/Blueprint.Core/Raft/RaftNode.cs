namespace Blueprint.Core.Raft;

/// <summary>The role a node plays in its current term (paper §5.1, thesis §9.6 for the pre-candidate).</summary>
public enum RaftRole
{
    /// <summary>Follows a leader, or waits for one.</summary>
    Follower,

    /// <summary>Asks for pre-votes without changing its term.</summary>
    PreCandidate,

    /// <summary>Asks for votes in a new term.</summary>
    Candidate,

    /// <summary>Leads its term.</summary>
    Leader,
}

/// <summary>
/// One Raft node as a pure state machine, after Ongaro and Ousterhout, "In Search of an Understandable Consensus
/// Algorithm" (2014), and Ongaro's thesis (2014). The only inputs are <see cref="Tick"/>, <see cref="Step"/>,
/// <see cref="Propose"/> (and its siblings for reads, configuration changes and leadership transfer); the output is a
/// <see cref="Raft.Ready"/> batch that the driver persists, sends and applies before it calls <see cref="Advance"/>.
/// No I/O, clock, thread or shared random source: the same inputs give the same outputs.
/// </summary>
public sealed partial class RaftNode
{
    /// <summary>The "no node" id.</summary>
    public const int None = 0;

    /// <summary>Most messages queued for one Ready; the bound holds because each input sends at most a few per peer.</summary>
    public const int OutboxMessagesMax = 1 << 16;

    private readonly RaftConfig _config;
    private readonly Random _random;
    private readonly RaftLog _log;
    private readonly List<Message> _outbox = [];
    private readonly List<ReadState> _readStates = [];
    private readonly Dictionary<int, Progress> _progress = [];
    private readonly Dictionary<int, bool> _votes = [];

    private HardState _persistedHardState;
    private Snapshot _snapshot;
    private Snapshot? _pendingSnapshot;
    private int _electionElapsed;
    private int _heartbeatElapsed;
    private int _randomizedElectionTimeout;
    private long _ticks;
    private PendingReady? _pendingReady;

    /// <summary>Starts (or restarts) a node from what <paramref name="storage"/> holds.</summary>
    /// <param name="config">The node's settings; every problem is reported at once.</param>
    /// <param name="storage">The node's stable storage, read only here.</param>
    /// <param name="random">The node's own seeded source for election timeouts.</param>
    public RaftNode(RaftConfig config, IRaftStorage storage, Random random)
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(storage);
        ArgumentNullException.ThrowIfNull(random);
        var problems = config.Problems();
        if (problems.Count > 0)
        {
            throw new ArgumentException("Invalid Raft configuration: " + string.Join("; ", problems), nameof(config));
        }

        _config = config;
        _random = random;
        _snapshot = storage.Snapshot;
        _log = new RaftLog(_snapshot.Metadata, storage.LoadEntries());
        var hardState = storage.HardState;
        _persistedHardState = hardState;
        Term = hardState.Term;
        Vote = hardState.Vote;
        Invariant.Check(hardState.Commit <= _log.LastIndex, Id, "the persisted commit index is past the persisted log");
        CommitIndex = Math.Max(hardState.Commit, _log.SnapshotIndex);
        AppliedIndex = _log.SnapshotIndex;
        RefreshVoters();
        BecomeFollower(Term, None);
    }

    /// <summary>The node's id.</summary>
    public int Id => _config.Id;

    /// <summary>The current term.</summary>
    public long Term { get; private set; }

    /// <summary>Whom this node voted for in <see cref="Term"/>, or <see cref="None"/>.</summary>
    public int Vote { get; private set; }

    /// <summary>The leader this node knows of in <see cref="Term"/>, or <see cref="None"/>.</summary>
    public int LeaderId { get; private set; }

    /// <summary>The role in the current term.</summary>
    public RaftRole Role { get; private set; }

    /// <summary>The highest index known committed.</summary>
    public long CommitIndex { get; private set; }

    /// <summary>The highest index handed out for applying and acknowledged by <see cref="Advance"/>.</summary>
    public long AppliedIndex { get; private set; }

    /// <summary>The last index of the log.</summary>
    public long LastIndex => _log.LastIndex;

    /// <summary>The index of the latest snapshot.</summary>
    public long SnapshotIndex => _log.SnapshotIndex;

    /// <summary>The voters of the configuration in force: the latest one in the log (thesis §4.1).</summary>
    public IReadOnlyList<int> Voters { get; private set; } = [];

    /// <summary>The term of the entry at <paramref name="index"/>, or -1 when it is compacted away or past the end.</summary>
    /// <param name="index">A log index.</param>
    /// <returns>The term or -1.</returns>
    public long TermAt(long index) => _log.Term(index);

    /// <summary>The entry at <paramref name="index"/>, which must lie between the snapshot and the last index.</summary>
    /// <param name="index">A log index after the snapshot.</param>
    /// <returns>The entry.</returns>
    public LogEntry EntryAt(long index)
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(index, _log.SnapshotIndex);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(index, _log.LastIndex);
        return _log.Entry(index);
    }

    private bool IsVoter(int id) => Voters.Contains(id);

    private bool Promotable => IsVoter(Id);

    private int Quorum => (Voters.Count / 2) + 1;

    private bool Has(RaftBugs bug) => (_config.Bugs & bug) != 0;

    /// <summary>Advances the logical clock by one tick: elections and heartbeats are counted in ticks.</summary>
    public void Tick()
    {
        _ticks++;
        if (Role == RaftRole.Leader)
        {
            TickLeader();
        }
        else
        {
            TickElection();
        }
    }

    /// <summary>Handles one message from another node; stale, duplicated and reordered messages are expected.</summary>
    /// <param name="message">The message, addressed to this node.</param>
    public void Step(Message message)
    {
        ArgumentNullException.ThrowIfNull(message);
        if (message.To != Id)
        {
            return;
        }

        if (message.Term > Term && !StepHigherTerm(message))
        {
            return;
        }

        if (message.Term != 0 && message.Term < Term)
        {
            StepLowerTerm(message);
            return;
        }

        switch (message.Type)
        {
            case MessageType.PreVote or MessageType.Vote:
                HandleVoteRequest(message);
                return;
            case MessageType.ReadIndex:
                HandleForwardedRead(message);
                return;
            case MessageType.ReadIndexResponse:
                AddReadState(new ReadState(message.Context, message.Index));
                return;
            default:
                break;
        }

        switch (Role)
        {
            case RaftRole.Leader:
                StepLeader(message);
                break;
            case RaftRole.Candidate or RaftRole.PreCandidate:
                StepCandidate(message);
                break;
            default:
                StepFollower(message);
                break;
        }
    }

    /// <summary>Whether <see cref="Ready"/> has anything to hand out.</summary>
    /// <returns>True when there is state to persist, a message to send, an entry to apply or a read to answer.</returns>
    public bool HasReady() =>
        CurrentHardState != _persistedHardState
        || _log.UnstableFrom <= _log.LastIndex
        || _pendingSnapshot is not null
        || _outbox.Count > 0
        || _readStates.Count > 0
        || CommitIndex > AppliedIndex;

    /// <summary>Hands out what to persist, send and apply; the driver then calls <see cref="Advance"/>.</summary>
    /// <returns>The batch.</returns>
    public Ready Ready()
    {
        Invariant.Check(_pendingReady is null, Id, "Ready called twice without Advance");
        var hardState = CurrentHardState;
        var persist = hardState;
        if (Has(RaftBugs.VoteNotPersisted) && hardState.Vote != Id)
        {
            persist = hardState with { Vote = None };
        }

        var entries = _log.UnstableFrom <= _log.LastIndex ? _log.Slice(_log.UnstableFrom, _log.LastIndex, int.MaxValue) : [];
        long applyFrom = (_pendingSnapshot?.Metadata.Index ?? AppliedIndex) + 1;
        var committed = CommitIndex >= applyFrom
            ? _log.Slice(applyFrom, CommitIndex, _config.MaxCommittedEntriesPerReady)
            : [];
        var ready = new Ready
        {
            HardState = hardState != _persistedHardState ? persist : null,
            Entries = entries,
            Snapshot = _pendingSnapshot,
            Messages = [.. _outbox],
            CommittedEntries = committed,
            ReadStates = [.. _readStates],
        };
        _pendingReady = new PendingReady(hardState, _log.LastIndex, committed.Count > 0 ? committed[^1].Index : applyFrom - 1);
        _log.TruncatedTo = long.MaxValue;
        _outbox.Clear();
        _readStates.Clear();
        _pendingSnapshot = null;
        return ready;
    }

    /// <summary>Confirms that the last <see cref="Ready"/> was persisted, sent and applied.</summary>
    public void Advance()
    {
        Invariant.Check(_pendingReady is not null, Id, "Advance called without a Ready");
        var pending = _pendingReady!.Value;
        _pendingReady = null;
        _persistedHardState = pending.HardState;
        long stable = Math.Min(pending.LastIndex, _log.TruncatedTo - 1);
        _log.UnstableFrom = Math.Max(_log.UnstableFrom, stable + 1);
        Invariant.Check(pending.AppliedIndex <= CommitIndex, Id, "applied past the commit index");
        AppliedIndex = Math.Max(AppliedIndex, pending.AppliedIndex);
    }

    private HardState CurrentHardState => new(Term, Vote, CommitIndex);

    private void Send(Message message)
    {
        Invariant.Check(_outbox.Count < OutboxMessagesMax, Id, "outbox over its bound");
        _outbox.Add(message);
    }

    private void BecomeFollower(long term, int leader)
    {
        Reset(term);
        Role = RaftRole.Follower;
        LeaderId = leader;
    }

    private void Reset(long term)
    {
        if (Term != term)
        {
            Term = term;
            Vote = None;
        }

        ClearLease();
        _leaseDisabled = false;
        LeaderId = None;
        _electionElapsed = 0;
        _heartbeatElapsed = 0;
        _randomizedElectionTimeout = _config.ElectionTimeoutTicks + _random.Next(_config.ElectionTimeoutTicks);
        _votes.Clear();
        _progress.Clear();
        _pendingReads.Clear();
        _leadTransferee = None;
        _termStartIndex = long.MaxValue;
    }

    private void CommitTo(long commit)
    {
        if (commit > CommitIndex)
        {
            Invariant.Check(commit <= _log.LastIndex, Id, $"commit index {commit} past the last index {_log.LastIndex}");
            CommitIndex = commit;
        }
    }

    private readonly record struct PendingReady(HardState HardState, long LastIndex, long AppliedIndex);
}
