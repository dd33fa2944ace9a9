namespace Blueprint.Simulation.Raft.Checkers;

/// <summary>
/// The history of committed entries as nodes apply them, and three properties over it (paper Figure 3): state
/// machine safety (no two nodes apply different entries at one index, nor reach different states), leader
/// completeness (a leader holds every entry committed in an earlier term) and no committed entry lost (once faults
/// heal, the leader holds every entry ever committed).
/// </summary>
public sealed class CommittedHistory
{
    private readonly List<Committed> _entries = [];

    /// <summary>The highest index any node applied.</summary>
    public long LastIndex => _entries.Count;

    /// <summary>Records that <paramref name="node"/> applied an entry and reached state <paramref name="stateHash"/>.</summary>
    /// <param name="node">The node.</param>
    /// <param name="index">The entry's index.</param>
    /// <param name="term">The entry's term.</param>
    /// <param name="dataHash">A hash of the entry's kind and data.</param>
    /// <param name="stateHash">The state machine's hash after applying it.</param>
    /// <param name="nodeTerm">The node's term when it applied it: the entry was committed in this term or earlier.</param>
    /// <returns>The violation, or null.</returns>
    public string? OnApply(int node, long index, long term, ulong dataHash, ulong stateHash, long nodeTerm)
    {
        if (index == _entries.Count + 1)
        {
            _entries.Add(new Committed(term, dataHash, stateHash, nodeTerm, node));
            return null;
        }

        if (index > _entries.Count + 1 || index < 1)
        {
            return $"n{node} applied entry {index} while the history ends at {_entries.Count}";
        }

        var first = _entries[(int)index - 1];
        if (first.Term != term || first.DataHash != dataHash)
        {
            return $"n{node} applied entry {index} of term {term}, n{first.Node} applied one of term {first.Term}{(first.Term == term ? " with other data" : "")}";
        }

        if (first.StateHash != stateHash)
        {
            return $"n{node} reached another state than n{first.Node} after entry {index}";
        }

        if (nodeTerm < first.CommitTerm)
        {
            _entries[(int)index - 1] = first with { CommitTerm = nodeTerm };
        }

        return null;
    }

    /// <summary>Records that <paramref name="node"/> installed a snapshot of the state at <paramref name="index"/>.</summary>
    /// <param name="node">The node.</param>
    /// <param name="index">The snapshot's last index.</param>
    /// <param name="stateHash">The state machine's hash in the snapshot.</param>
    /// <returns>The violation, or null.</returns>
    public string? OnSnapshotInstalled(int node, long index, ulong stateHash)
    {
        if (index == 0)
        {
            return null;
        }

        if (index > _entries.Count)
        {
            return $"n{node} installed a snapshot at {index} past every applied entry ({_entries.Count})";
        }

        var entry = _entries[(int)index - 1];
        return entry.StateHash == stateHash ? null : $"n{node} installed a snapshot at {index} whose state differs from what n{entry.Node} applied";
    }

    /// <summary>Leader completeness: a leader of <paramref name="leaderTerm"/> holds every entry committed in an earlier term.</summary>
    /// <param name="node">The leader.</param>
    /// <param name="leaderTerm">Its term.</param>
    /// <param name="log">Its log.</param>
    /// <returns>The violation, or null.</returns>
    public string? CheckLeader(int node, long leaderTerm, ILogView log) => CheckHolds(node, log, commitTermBelow: leaderTerm, "leader completeness");

    /// <summary>No committed entry lost: after faults heal, the newest leader holds every entry committed up to its term.</summary>
    /// <param name="node">The leader.</param>
    /// <param name="leaderTerm">Its term.</param>
    /// <param name="log">Its log.</param>
    /// <returns>The violation, or null.</returns>
    public string? CheckNothingLost(int node, long leaderTerm, ILogView log) => CheckHolds(node, log, commitTermBelow: leaderTerm + 1, "committed entry lost");

    private string? CheckHolds(int node, ILogView log, long commitTermBelow, string property)
    {
        ArgumentNullException.ThrowIfNull(log);
        for (long index = Math.Max(1, log.SnapshotIndex + 1); index <= _entries.Count; index++)
        {
            var entry = _entries[(int)index - 1];
            if (entry.CommitTerm >= commitTermBelow)
            {
                continue;
            }

            long term = log.TermAt(index);
            if (term != entry.Term)
            {
                return $"{property}: n{node} holds {(term < 0 ? "nothing" : $"term {term}")} at {index}, committed with term {entry.Term}";
            }
        }

        return log.SnapshotIndex > _entries.Count ? $"{property}: n{node} has a snapshot past every applied entry" : null;
    }

    private readonly record struct Committed(long Term, ulong DataHash, ulong StateHash, long CommitTerm, int Node);
}

/// <summary>What the checkers read of a node's log.</summary>
public interface ILogView
{
    /// <summary>The index the node's snapshot covers.</summary>
    long SnapshotIndex { get; }

    /// <summary>The term at <paramref name="index"/>, or -1 when the log does not hold it.</summary>
    /// <param name="index">A log index.</param>
    /// <returns>The term or -1.</returns>
    long TermAt(long index);
}
