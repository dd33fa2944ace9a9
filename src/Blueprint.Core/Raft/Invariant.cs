namespace Blueprint.Core.Raft;

/// <summary>
/// Always-on checks of the Raft core's invariants. A failed check is a programmer error (or a deliberately
/// switched-on bug), never an operating error, so it throws in Release builds too instead of vanishing like
/// <c>Debug.Assert</c>.
/// </summary>
internal static class Invariant
{
    /// <summary>Throws <see cref="RaftInvariantException"/> naming the node and the rule when <paramref name="condition"/> is false.</summary>
    public static void Check(bool condition, int nodeId, string rule)
    {
        if (!condition)
        {
            throw new RaftInvariantException($"node {nodeId}: {rule}");
        }
    }
}

/// <summary>A Raft invariant checked inside the core does not hold; the node's state can no longer be trusted.</summary>
public sealed class RaftInvariantException : Exception
{
    /// <summary>Creates the exception.</summary>
    public RaftInvariantException()
    {
    }

    /// <summary>Creates the exception with the broken rule.</summary>
    /// <param name="message">The node and the rule that does not hold.</param>
    public RaftInvariantException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with the broken rule and its cause.</summary>
    /// <param name="message">The node and the rule that does not hold.</param>
    /// <param name="innerException">The cause.</param>
    public RaftInvariantException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
