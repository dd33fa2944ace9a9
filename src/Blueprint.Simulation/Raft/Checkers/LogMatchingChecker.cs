namespace Blueprint.Simulation.Raft.Checkers;

/// <summary>
/// Log matching (paper Figure 3): two logs holding an entry with the same index and term hold the same entries up to
/// it. Checked inductively on every persisted entry: one (index, term) must always carry the same data and follow the
/// same term at index - 1, so equal entries have equal predecessors, back to the start.
/// </summary>
public sealed class LogMatchingChecker
{
    /// <summary>The previous term is not known (the entry follows a snapshot).</summary>
    public const long UnknownTerm = -1;

    private readonly Dictionary<(long Index, long Term), (ulong DataHash, long PrevTerm, int Node)> _seen = [];

    /// <summary>Records an entry persisted by <paramref name="node"/>.</summary>
    /// <param name="node">The node.</param>
    /// <param name="index">The entry's index.</param>
    /// <param name="term">The entry's term.</param>
    /// <param name="dataHash">A hash of the entry's kind and data.</param>
    /// <param name="prevTerm">The term of the node's entry at index - 1, or <see cref="UnknownTerm"/>.</param>
    /// <returns>The violation, or null.</returns>
    public string? OnPersisted(int node, long index, long term, ulong dataHash, long prevTerm)
    {
        if (!_seen.TryGetValue((index, term), out var seen))
        {
            _seen[(index, term)] = (dataHash, prevTerm, node);
            return null;
        }

        if (seen.DataHash != dataHash)
        {
            return $"entry {index} of term {term} differs between n{seen.Node} and n{node}";
        }

        if (prevTerm != UnknownTerm && seen.PrevTerm != UnknownTerm && prevTerm != seen.PrevTerm)
        {
            return $"entry {index} of term {term} follows term {seen.PrevTerm} on n{seen.Node} but term {prevTerm} on n{node}";
        }

        if (seen.PrevTerm == UnknownTerm && prevTerm != UnknownTerm)
        {
            _seen[(index, term)] = (dataHash, prevTerm, node);
        }

        return null;
    }
}
