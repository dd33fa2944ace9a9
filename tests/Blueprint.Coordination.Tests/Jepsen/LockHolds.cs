namespace Blueprint.Coordination.Tests.Jepsen;

/// <summary>
/// One acquisition of the lock as its client saw it: the fencing token, when the acquire returned, and a linearizable
/// read of the holder's own key made later, before the release: when it began and whether the key was still there
/// with the same create revision (null when the read failed).
/// </summary>
internal readonly record struct LockHold(long Token, long AcquiredAt, long CheckedAt, bool? HeldAtCheck);

/// <summary>
/// The mutual-exclusion check of the lock workload. A lease-based lock cannot promise that two clients never
/// <em>believe</em> they hold it at once, but it must never let a later holder in while the earlier holder's key still
/// exists: a key keeps its create revision for as long as it exists, and a waiter gets the lock only once no key with a
/// lower create revision is left. So: if hold A (token a) read its key still present in a read that began after hold
/// B (token b &gt; a) had been acquired, B was let in while A's key existed, and the lock is broken. Robust to late
/// clients: a holder whose lease has already gone finds its key absent and proves nothing either way.
/// </summary>
internal static class LockHolds
{
    /// <summary>The first violation, described, or null when the holds are consistent with mutual exclusion.</summary>
    public static string? FindOverlap(IReadOnlyList<LockHold> holds)
    {
        foreach (var earlier in holds.Where(hold => hold.HeldAtCheck == true))
        {
            foreach (var later in holds.Where(hold => hold.Token > earlier.Token && hold.AcquiredAt < earlier.CheckedAt))
            {
                return $"token {later.Token} was acquired at {later.AcquiredAt}, but token {earlier.Token}'s key was still there in a read begun at {earlier.CheckedAt}";
            }
        }

        return null;
    }
}
