namespace Blueprint.Coordination.Tests.Jepsen;

/// <summary>The lock workload's mutual-exclusion check accepts exclusive holds and catches overlapping ones.</summary>
public sealed class LockHoldsTests
{
    [Fact]
    public void FindOverlap_SuccessiveHolds_FindsNothing()
    {
        LockHold[] holds = [new(10, 0, 5, true), new(20, 6, 9, true), new(30, 12, 15, null)];
        Assert.Null(LockHolds.FindOverlap(holds));
    }

    [Fact]
    public void FindOverlap_EarlierHolderFoundItsKeyGone_FindsNothing()
    {
        // The earlier holder's lease expired: the later one got in while the earlier still believed it held the lock.
        LockHold[] holds = [new(10, 0, 8, false), new(20, 5, 9, true)];
        Assert.Null(LockHolds.FindOverlap(holds));
    }

    [Fact]
    public void FindOverlap_LaterHolderInWhileEarlierKeyStillThere_ReportsBothTokens()
    {
        // A broken lock: token 20 was let in at 5 though token 10's key was still there in a read begun at 8.
        LockHold[] holds = [new(10, 0, 8, true), new(20, 5, 9, true)];
        var overlap = LockHolds.FindOverlap(holds);
        Assert.NotNull(overlap);
        Assert.Contains("token 20", overlap, StringComparison.Ordinal);
        Assert.Contains("token 10", overlap, StringComparison.Ordinal);
    }
}
