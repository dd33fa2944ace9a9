namespace Blueprint.Coordination.Recipes;

/// <summary>
/// The time limits of the recipes, in one place. Every unary call carries a deadline so that a
/// silent server never hangs a caller; only the watches that wait for another holder are open-ended,
/// bounded by the caller's cancellation token and by the session's <see cref="EtcdSession.Lost"/>.
/// </summary>
internal static class RecipeTimeouts
{
    /// <summary>The deadline of one unary call (Txn, Range, LeaseGrant…).</summary>
    public static readonly TimeSpan Call = TimeSpan.FromSeconds(10);

    /// <summary>How long <see cref="EtcdSession.DisposeAsync"/> tries to revoke the lease before leaving it to expire.</summary>
    public static readonly TimeSpan Revoke = TimeSpan.FromSeconds(5);

    /// <summary>How long a handle's dispose tries to delete its key before leaving it to the lease.</summary>
    public static readonly TimeSpan Release = TimeSpan.FromSeconds(5);

    /// <summary>The pause before reopening a broken keep-alive or watch stream.</summary>
    public static readonly TimeSpan Retry = TimeSpan.FromMilliseconds(250);

    /// <summary>The deadline of a call starting now.</summary>
    public static DateTime CallDeadline() => DateTime.UtcNow + Call;
}
