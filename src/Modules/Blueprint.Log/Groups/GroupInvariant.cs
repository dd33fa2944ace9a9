namespace Blueprint.Log.Groups;

/// <summary>
/// Always-on checks of the coordinator's invariants. A failed check is a programmer error, never an operating error,
/// so it throws in Release builds too instead of vanishing like <c>Debug.Assert</c>.
/// </summary>
internal static class GroupInvariant
{
    /// <summary>Throws <see cref="InvalidOperationException"/> naming the group and the rule when <paramref name="condition"/> is false.</summary>
    public static void Check(bool condition, string groupId, string rule)
    {
        if (!condition)
        {
            throw new InvalidOperationException($"Group coordinator invariant broken in group '{groupId}': {rule}");
        }
    }
}
