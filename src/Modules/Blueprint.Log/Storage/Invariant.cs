namespace Blueprint.Log.Storage;

/// <summary>
/// Always-on checks of the log's invariants. A failed check is a programmer error, never an operating error, so it
/// throws in Release builds too instead of vanishing like <c>Debug.Assert</c>.
/// </summary>
internal static class Invariant
{
    /// <summary>Throws <see cref="InvalidOperationException"/> naming the rule when <paramref name="condition"/> is false.</summary>
    public static void Check(bool condition, string rule)
    {
        if (!condition)
        {
            throw new InvalidOperationException($"partition log invariant broken: {rule}");
        }
    }
}
