namespace Blueprint.Simulation.Raft.Checkers;

/// <summary>Election safety (paper Figure 3): at most one leader is elected in a term.</summary>
public sealed class ElectionSafetyChecker
{
    private readonly Dictionary<long, int> _leaderByTerm = [];

    /// <summary>Records that <paramref name="node"/> leads <paramref name="term"/>.</summary>
    /// <param name="term">The term.</param>
    /// <param name="node">The leader.</param>
    /// <returns>The violation, or null.</returns>
    public string? OnLeader(long term, int node)
    {
        if (_leaderByTerm.TryGetValue(term, out int existing))
        {
            return existing == node ? null : $"two leaders in term {term}: n{existing} and n{node}";
        }

        _leaderByTerm[term] = node;
        return null;
    }
}
