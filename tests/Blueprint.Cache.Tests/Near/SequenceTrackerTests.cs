using Blueprint.Cache.Near;

namespace Blueprint.Cache.Tests.Near;

public sealed class SequenceTrackerTests
{
    [Fact]
    public void Reconcile_EverySequenceReceived_FindsNoGap()
    {
        var tracker = Started(10);

        tracker.Received(0, 11);
        tracker.Received(0, 12);

        Assert.False(tracker.Reconcile(0, 12));
    }

    [Fact]
    public void Reconcile_ReceivedOutOfOrder_FindsNoGap()
    {
        var tracker = Started(10);

        tracker.Received(0, 12);
        tracker.Received(0, 11);

        Assert.False(tracker.Reconcile(0, 12));
    }

    [Fact]
    public void Reconcile_OneSequenceLost_FindsTheGapOnce()
    {
        var tracker = Started(10);
        tracker.Received(0, 11);
        tracker.Received(0, 13);

        Assert.True(tracker.Reconcile(0, 13));
        Assert.False(tracker.Reconcile(0, 13));
    }

    [Fact]
    public void Reconcile_LostSequenceHiddenByALaterOne_StillFindsTheGap()
    {
        // 12 is lost; 13 was issued after the server was read and arrived first. A maximum would say "13 ≥ 12, fine".
        var tracker = Started(10);
        tracker.Received(0, 11);
        tracker.Received(0, 13);

        Assert.True(tracker.Reconcile(0, 12));
        Assert.False(tracker.Reconcile(0, 13));
    }

    [Fact]
    public void Reconcile_GapInOneStream_LeavesTheOthersClean()
    {
        var tracker = Started(10);
        tracker.Received(1, 11);

        Assert.True(tracker.Reconcile(0, 11));
        Assert.False(tracker.Reconcile(1, 11));
    }

    [Fact]
    public void Reconcile_ServerSequenceWentBack_ReportsAGap()
    {
        var tracker = Started(10);

        Assert.True(tracker.Reconcile(0, 2));
    }

    [Fact]
    public void Received_PastPendingMax_ReportsAGapRatherThanGrow()
    {
        var tracker = Started(0);
        for (long sequence = 1; sequence <= SequenceTracker.PendingMax + 1; sequence++)
        {
            tracker.Received(0, sequence);
        }

        Assert.True(tracker.Reconcile(0, SequenceTracker.PendingMax + 1));
    }

    [Fact]
    public void Received_AtOrBelowTheBaseline_CountsForNothing()
    {
        var tracker = Started(10);
        tracker.Received(0, 10);
        tracker.Received(0, 9);

        Assert.True(tracker.Reconcile(0, 11));
    }

    private static SequenceTracker Started(long sequence)
    {
        var tracker = new SequenceTracker(2);
        tracker.Reset([sequence, sequence]);
        return tracker;
    }
}
