using Blueprint.Core.Raft;

namespace Blueprint.Simulation.Raft;

/// <summary>One simulation run of a Raft cluster.</summary>
public sealed record RaftSimulationOptions
{
    /// <summary>Steps of a run when not given.</summary>
    public const int DefaultSteps = 2000;

    /// <summary>The seed of the run's one generator.</summary>
    public required ulong Seed { get; init; }

    /// <summary>Voters the cluster starts with.</summary>
    /// <value>3 or 5; default 3.</value>
    public int Nodes { get; init; } = 3;

    /// <summary>Steps to run; a step is one unit of simulated time, about one tick of every node.</summary>
    /// <value>At least 1; default <see cref="DefaultSteps"/>.</value>
    public int Steps { get; init; } = DefaultSteps;

    /// <summary>Classic bugs switched on in every node, for the tests that prove the checkers can fail.</summary>
    internal RaftBugs Bugs { get; init; }
}

/// <summary>A property that did not hold.</summary>
/// <param name="Property">The property, e.g. "election safety".</param>
/// <param name="Step">The step it was caught at.</param>
/// <param name="Detail">What was seen.</param>
public sealed record RaftViolation(string Property, long Step, string Detail);

/// <summary>What a run did and whether a property failed.</summary>
/// <param name="Seed">The seed.</param>
/// <param name="Nodes">Voters at the start.</param>
/// <param name="Steps">Steps run (fewer than asked when a violation stopped the run).</param>
/// <param name="Violation">The first violation, or null.</param>
/// <param name="Trace">The last events before the end, for a failure report.</param>
/// <param name="TraceHash">A hash of every event: equal for two runs of one seed.</param>
/// <param name="Stats">Counts of what happened.</param>
/// <param name="NodeStates">Each node at the end: role, term, vote, log, commit, voters.</param>
public sealed record RaftSimulationResult(ulong Seed, int Nodes, long Steps, RaftViolation? Violation, IReadOnlyList<string> Trace, ulong TraceHash, RaftSimulationStats Stats, IReadOnlyList<string> NodeStates);

/// <summary>Counts of what happened in a run, to show that faults and clients were exercised.</summary>
public sealed class RaftSimulationStats
{
    /// <summary>The settings the seed drew: pre-vote, check-quorum, lease reads, batch size, fault rates.</summary>
    public string Settings { get; set; } = "";

    /// <summary>Messages delivered.</summary>
    public long MessagesDelivered { get; set; }

    /// <summary>Distinct (term, leader) pairs seen.</summary>
    public int LeadersElected { get; set; }

    /// <summary>Entries committed (the length of the applied history).</summary>
    public long EntriesCommitted { get; set; }

    /// <summary>Client writes acknowledged.</summary>
    public long WritesAcknowledged { get; set; }

    /// <summary>Reads served and checked.</summary>
    public long ReadsChecked { get; set; }

    /// <summary>Node crashes.</summary>
    public int Crashes { get; set; }

    /// <summary>Partitions made.</summary>
    public int Partitions { get; set; }

    /// <summary>Configuration changes accepted by a leader.</summary>
    public int ConfigChanges { get; set; }

    /// <summary>Leadership transfers started.</summary>
    public int Transfers { get; set; }

    /// <summary>Snapshots installed from a leader.</summary>
    public int SnapshotsInstalled { get; set; }

    /// <summary>Healed windows in which a write committed within the liveness bound.</summary>
    public int LivenessWindows { get; set; }
}
