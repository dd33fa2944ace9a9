using System.Buffers.Binary;
using System.Globalization;
using Blueprint.Core.Raft;
using Blueprint.Simulation.Raft.Checkers;

namespace Blueprint.Simulation.Raft;

/// <summary>
/// A deterministic simulation of a whole Raft cluster, in the manner of FoundationDB's simulator and TigerBeetle's
/// VOPR: one seeded generator drives message delay, loss, duplication and reordering, partitions, crashes and
/// restarts, clock skew, client writes and reads, membership changes and leadership transfers. After every step the
/// checkers look for a broken property; the first one stops the run with the seed, the step and a trace.
/// </summary>
public sealed partial class RaftSimulation
{
    /// <summary>The shorter election timeout a run may draw, in ticks; the other is twice as long.</summary>
    public const int ElectionTimeoutTicks = 10;

    /// <summary>Election timeouts after every fault heals within which a new write must commit, with pre-vote.</summary>
    public const int LivenessBoundElectionTimeouts = 25;

    /// <summary>
    /// The same bound without pre-vote. Then a node that cannot win (its log is behind) still campaigns, and each of
    /// its higher terms resets everyone's timer; the one node that can win must time out first, which may take many
    /// rounds (thesis §9.6 is about exactly this).
    /// </summary>
    public const int LivenessBoundElectionTimeoutsWithoutPreVote = 50;

    /// <summary>Delivery rounds in one step, for messages sent with no delay.</summary>
    public const int DeliveryRoundsMax = 4;

    /// <summary>Most nodes a run creates, counting the ones membership changes add.</summary>
    public const int ExtraNodesMax = 6;

    private readonly RaftSimulationOptions _options;
    private readonly SimRandom _random;
    private readonly SimNetwork _network;
    private readonly TraceRing _trace = new();
    private readonly List<SimNode> _nodes = [];
    private readonly ElectionSafetyChecker _electionSafety = new();
    private readonly LogMatchingChecker _logMatching = new();
    private readonly CommittedHistory _history = new();
    private readonly ReadChecker _reads = new();
    private readonly LivenessChecker _liveness;
    private readonly HashSet<(long Term, int Node)> _leadersSeen = [];
    private readonly RaftSimulationStats _stats = new();
    private readonly Faults _faults;
    private readonly bool _preVote;
    private readonly bool _checkQuorum;
    private readonly bool _leaseRead;
    private readonly int _compactEveryEntries;
    private readonly int _entriesPerMessageMax;

    /// <summary>
    /// Clocks run at 0.9 to 1.1 ticks a step, so a follower's election timeout lasts at least T / 1.1 steps and a
    /// lease of 0.7 T at most 0.78 T steps: the lease always ends first.
    /// </summary>
    private readonly int _electionTimeoutTicks;
    private long _step;
    private bool _faultsActive;
    private long _nextCommand;
    private long _nextRead;
    private int _nextNodeId;
    private RaftViolation? _violation;

    private RaftSimulation(RaftSimulationOptions options)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(options.Steps, 1);
        if (options.Nodes is not (3 or 5))
        {
            throw new ArgumentOutOfRangeException(nameof(options), options.Nodes, "Nodes must be 3 or 5.");
        }

        _options = options;
        _random = new SimRandom(options.Seed);
        _network = new SimNetwork(_random, options.Nodes + ExtraNodesMax);
        _preVote = _random.Chance(0.8);
        _checkQuorum = _random.Chance(0.6);
        _leaseRead = _checkQuorum && _random.Chance(0.5);
        _compactEveryEntries = _random.Next(4, 40);
        _entriesPerMessageMax = 1 << _random.Next(4);
        _electionTimeoutTicks = _random.Chance(0.5) ? ElectionTimeoutTicks : 2 * ElectionTimeoutTicks;
        _liveness = new LivenessChecker((_preVote ? LivenessBoundElectionTimeouts : LivenessBoundElectionTimeoutsWithoutPreVote) * _electionTimeoutTicks);
        _faults = Faults.Draw(_random);
        _stats.Settings = string.Create(CultureInfo.InvariantCulture,
            $"election timeout {_electionTimeoutTicks} ticks, pre-vote {(_preVote ? "on" : "off")}, check-quorum {(_checkQuorum ? "on" : "off")}, lease reads {(_leaseRead ? "on" : "off")}, {_entriesPerMessageMax} entries/message, compaction every {_compactEveryEntries}; {_faults}");
        int[] voters = [.. Enumerable.Range(1, options.Nodes)];
        for (int i = 0; i < options.Nodes; i++)
        {
            AddNode(voters);
        }
    }

    /// <summary>Runs one seed.</summary>
    /// <param name="options">The seed, the cluster size and the steps.</param>
    /// <returns>What happened, and the first violation if any.</returns>
    public static RaftSimulationResult Run(RaftSimulationOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return new RaftSimulation(options).Run();
    }

    private int CalmSteps => _liveness.BoundSteps + 50;

    private RaftSimulationResult Run()
    {
        var phaseEnd = 0L;
        var calm = true;
        for (_step = 0; _step < _options.Steps && _violation is null; _step++)
        {
            if (_step >= phaseEnd)
            {
                // Chaos and calm alternate; a run always ends calm, so its last faults must heal in time.
                calm = !calm || _options.Steps - _step <= CalmSteps;
                if (calm)
                {
                    HealEverything();
                    phaseEnd = _step + CalmSteps;
                }
                else
                {
                    _liveness.OnFaultsResumed();
                    _faults.Resume(_network);
                    phaseEnd = _step + _random.Next(150, 500);
                }
            }

            RunStep(calm);
        }

        _stats.EntriesCommitted = _history.LastIndex;
        _stats.ReadsChecked = _reads.ReadsChecked;
        _stats.LeadersElected = _leadersSeen.Count;
        _stats.LivenessWindows = _liveness.WindowsSatisfied;
        return new RaftSimulationResult(_options.Seed, _options.Nodes, _step, _violation, _trace.Lines(), _trace.Hash, _stats, [.. _nodes.Select(Describe)]);
    }

    private void RunStep(bool calm)
    {
        try
        {
            _faultsActive = !calm;
            if (!calm)
            {
                InjectFaults();
            }

            RunClients(calm);
            TickNodes();

            // Messages may take no time at all: a few rounds per step deliver what the step itself sent.
            for (int round = 0; round < DeliveryRoundsMax; round++)
            {
                bool delivered = Deliver();
                foreach (var node in _nodes)
                {
                    if (node.IsUp && node.Raft!.HasReady())
                    {
                        HandleReady(node);
                    }
                }

                if (!delivered && round > 0)
                {
                    break;
                }
            }

            CheckLeaders();
            Report("liveness", _liveness.Check(_step));
        }
        catch (RaftInvariantException e)
        {
            Report("core invariant", e.Message);
        }
        catch (Exception e) when (e is InvalidOperationException or ArgumentException or KeyNotFoundException or IndexOutOfRangeException or NullReferenceException)
        {
            // A core that throws on some input is as broken as one that breaks an invariant: report it with the seed.
            Report("core exception", $"{e.GetType().Name}: {e.Message} at {e.StackTrace?.Split('\n').FirstOrDefault()?.Trim()}");
        }
    }

    private void TickNodes()
    {
        foreach (var node in _nodes)
        {
            if (!node.IsUp)
            {
                continue;
            }

            node.TickCredit += node.TickRate;
            while (node.TickCredit >= 1 && node.IsUp)
            {
                node.TickCredit -= 1;
                node.Raft!.Tick();
            }
        }
    }

    private bool Deliver()
    {
        bool delivered = false;
        while (_network.TryReceive(_step, out var message))
        {
            var node = Find(message.To);
            if (node is { IsUp: true })
            {
                _stats.MessagesDelivered++;
                delivered = true;
                _trace.Add(new TraceEvent(_step, message.Type.ToString(), message.From, message.To, message.Term, message.Index));
                node.Raft!.Step(message);
            }
        }

        return delivered;
    }

    /// <summary>
    /// The driver's half of the Ready contract: persist, then send and apply (in either order, which the contract
    /// leaves open), then advance. Crashes land between any two of these.
    /// </summary>
    private void HandleReady(SimNode node)
    {
        var raft = node.Raft!;
        var ready = raft.Ready();
        CheckPersistedEntries(node, ready);
        node.Storage.Persist(ready);

        // A leader that dies right after its election leaves an uncommitted entry of its term behind: the ingredient
        // of the paper's Figure 8.
        if (_faultsActive && raft.Role == RaftRole.Leader && StartsTerm(ready, raft.Term) && _random.Chance(_faults.CrashLeaderRate))
        {
            node.CrashAfterPersist = true;
        }

        if (node.CrashAfterPersist)
        {
            Crash(node);
            return;
        }

        // A leader that dies after applying but before telling anyone leaves followers that do not know the entry is committed.
        bool crashAfterApply = _faultsActive && raft.Role == RaftRole.Leader && ready.CommittedEntries.Count > 0 && _random.Chance(_faults.CrashLeaderRate);
        bool applyFirst = crashAfterApply || _random.Chance(0.5);
        if (!applyFirst && SendAll(node, ready))
        {
            return;
        }

        ApplyAll(node, ready);
        if (crashAfterApply)
        {
            Crash(node);
            return;
        }

        if (applyFirst && SendAll(node, ready))
        {
            return;
        }

        raft.Advance();
        ServeReads(node);
        if (node.AppliedIndex - raft.SnapshotIndex >= _compactEveryEntries)
        {
            node.Storage.SaveSnapshot(raft.Compact(node.AppliedIndex, node.EncodeStateMachine()));
        }
    }

    /// <summary>Sends a Ready's messages; returns true when the node crashed right after.</summary>
    private bool SendAll(SimNode node, Ready ready)
    {
        bool votedForOther = false;
        foreach (var message in ready.Messages)
        {
            _network.Send(message, _step);
            votedForOther |= message.Type == MessageType.VoteResponse && !message.Reject;
        }

        // A crash just after a vote went out, with a quick restart, is where a forgotten vote shows.
        if (votedForOther && _faultsActive && _random.Chance(_faults.CrashAfterVoteRate))
        {
            Crash(node, downSteps: 1);
            return true;
        }

        return false;
    }

    private void ApplyAll(SimNode node, Ready ready)
    {
        if (ready.Snapshot is { } snapshot)
        {
            node.RestoreStateMachine(snapshot);
            _stats.SnapshotsInstalled++;
            _trace.Add(new TraceEvent(_step, "install-snapshot", node.Id, 0, snapshot.Metadata.Index, snapshot.Metadata.Term));
            Report("state machine safety", _history.OnSnapshotInstalled(node.Id, snapshot.Metadata.Index, node.StateHash));
        }

        foreach (var entry in ready.CommittedEntries)
        {
            Apply(node, entry);
        }

        foreach (var state in ready.ReadStates)
        {
            if (node.Reads.Remove(state.RequestId, out long bound))
            {
                node.ConfirmedReads.Add(new ConfirmedRead(state.RequestId, state.Index, bound));
            }
        }
    }

    private static bool StartsTerm(Ready ready, long term)
    {
        foreach (var entry in ready.Entries)
        {
            if (entry.Kind == EntryKind.Empty && entry.Term == term)
            {
                return true;
            }
        }

        return false;
    }

    private void CheckPersistedEntries(SimNode node, Ready ready)
    {
        foreach (var entry in ready.Entries)
        {
            long prevTerm = node.Raft!.TermAt(entry.Index - 1);
            Report("log matching", _logMatching.OnPersisted(node.Id, entry.Index, entry.Term, Hashes.Entry(entry), prevTerm < 0 ? LogMatchingChecker.UnknownTerm : prevTerm));
        }
    }

    private void Apply(SimNode node, LogEntry entry)
    {
        ulong dataHash = Hashes.Entry(entry);
        node.Apply(entry, dataHash);
        Report("state machine safety", _history.OnApply(node.Id, entry.Index, entry.Term, dataHash, node.StateHash, node.Raft!.Term));
        if (!node.Writes.Remove(entry.Index, out var write))
        {
            return;
        }

        if (write.Term == entry.Term && entry.Kind == EntryKind.Normal && BinaryPrimitives.ReadInt64LittleEndian(entry.Data.Span) == write.Command)
        {
            _stats.WritesAcknowledged++;
            _reads.OnWriteAcknowledged(entry.Index);
            _trace.Add(new TraceEvent(_step, "ack", node.Id, 0, entry.Index, write.Command));
            if (_liveness.OnWriteAcknowledged(write.ProposedAt))
            {
                CheckNothingLost();
            }
        }
    }

    private void ServeReads(SimNode node)
    {
        for (int i = node.ConfirmedReads.Count - 1; i >= 0; i--)
        {
            var read = node.ConfirmedReads[i];
            if (node.AppliedIndex >= read.Index)
            {
                node.ConfirmedReads.RemoveAt(i);
                _trace.Add(new TraceEvent(_step, "read", node.Id, 0, node.AppliedIndex, read.Bound));
                Report("linearizable reads", _reads.OnReadServed(node.Id, read.Bound, node.AppliedIndex));
            }
        }
    }

    private void CheckLeaders()
    {
        foreach (var node in _nodes)
        {
            if (node.Raft is not { Role: RaftRole.Leader } raft)
            {
                continue;
            }

            if (_leadersSeen.Add((raft.Term, node.Id)))
            {
                _trace.Add(new TraceEvent(_step, "leader", node.Id, 0, raft.Term, raft.LastIndex));
                Report("election safety", _electionSafety.OnLeader(raft.Term, node.Id));
            }

            Report("leader completeness", _history.CheckLeader(node.Id, raft.Term, node));
        }
    }

    private void CheckNothingLost()
    {
        SimNode? newest = null;
        foreach (var node in _nodes)
        {
            if (node.Raft is { Role: RaftRole.Leader } raft && (newest is null || raft.Term > newest.Raft!.Term))
            {
                newest = node;
            }
        }

        if (newest is not null)
        {
            Report("no committed entry lost", _history.CheckNothingLost(newest.Id, newest.Raft!.Term, newest));
        }
    }

    private void Report(string property, string? detail)
    {
        if (detail is not null && _violation is null)
        {
            _violation = new RaftViolation(property, _step, detail);
            _trace.Add(new TraceEvent(_step, "VIOLATION " + property, 0, 0, 0, 0));
        }
    }

    private static string Describe(SimNode node) => node.Raft is not { } raft
        ? $"n{node.Id} down"
        : string.Create(CultureInfo.InvariantCulture,
            $"n{node.Id} {raft.Role} term {raft.Term} vote {raft.Vote} leader {raft.LeaderId} last {raft.LastIndex}/{raft.TermAt(raft.LastIndex)} commit {raft.CommitIndex} applied {raft.AppliedIndex} voters [{string.Join(",", raft.Voters)}]");

    private SimNode? Find(int id)
    {
        foreach (var node in _nodes)
        {
            if (node.Id == id)
            {
                return node;
            }
        }

        return null;
    }

    private SimNode AddNode(IReadOnlyList<int> voters)
    {
        var node = new SimNode(++_nextNodeId, new MemoryRaftStorage(voters), 0.9 + (0.2 * _random.NextDouble()));
        _nodes.Add(node);
        Start(node);
        return node;
    }

    private void Start(SimNode node)
    {
        var config = new RaftConfig
        {
            Id = node.Id,
            ElectionTimeoutTicks = _electionTimeoutTicks,
            HeartbeatTicks = 2,
            PreVote = _preVote,
            CheckQuorum = _checkQuorum,
            LeaseRead = _leaseRead,
            LeaseTicks = _electionTimeoutTicks * 7 / 10,
            MaxEntriesPerMessage = _entriesPerMessageMax,
            MaxInflightMessages = 4,
            MaxUncommittedEntries = 256,
            MaxPendingReads = 64,
            Bugs = _options.Bugs,
        };
        node.Raft = new RaftNode(config, node.Storage, new Random(_random.NextSeed()));
        node.RestoreStateMachine(node.Storage.Snapshot);
        Report("state machine safety", _history.OnSnapshotInstalled(node.Id, node.AppliedIndex, node.StateHash));
    }
}
