using Blueprint.Simulation.Raft.Checkers;

namespace Blueprint.Raft.Tests.Simulation;

/// <summary>Each checker catches a deliberately broken history, so none of them can pass vacuously.</summary>
public sealed class CheckerTests
{
    private sealed class FakeLog(long snapshotIndex, params long[] terms) : ILogView
    {
        public long SnapshotIndex => snapshotIndex;

        public long TermAt(long index) => index >= 1 && index <= terms.Length ? terms[index - 1] : -1;
    }

    [Fact]
    public void ElectionSafety_TwoLeadersInOneTerm_Caught()
    {
        var checker = new ElectionSafetyChecker();
        Assert.Null(checker.OnLeader(3, 1));
        Assert.Null(checker.OnLeader(3, 1));
        Assert.Null(checker.OnLeader(4, 2));
        Assert.Contains("two leaders in term 3", checker.OnLeader(3, 2), StringComparison.Ordinal);
    }

    [Fact]
    public void LogMatching_SameIndexAndTermOtherData_Caught()
    {
        var checker = new LogMatchingChecker();
        Assert.Null(checker.OnPersisted(1, 5, 2, dataHash: 10, prevTerm: 2));
        Assert.Null(checker.OnPersisted(2, 5, 2, dataHash: 10, prevTerm: 2));
        Assert.NotNull(checker.OnPersisted(3, 5, 2, dataHash: 11, prevTerm: 2));
    }

    [Fact]
    public void LogMatching_SameIndexAndTermOtherPredecessor_Caught()
    {
        var checker = new LogMatchingChecker();
        Assert.Null(checker.OnPersisted(1, 5, 3, dataHash: 10, prevTerm: 2));
        Assert.Null(checker.OnPersisted(2, 5, 3, dataHash: 10, prevTerm: LogMatchingChecker.UnknownTerm));
        Assert.NotNull(checker.OnPersisted(3, 5, 3, dataHash: 10, prevTerm: 1));
    }

    [Fact]
    public void StateMachineSafety_DifferentEntryAtOneIndex_Caught()
    {
        var history = new CommittedHistory();
        Assert.Null(history.OnApply(1, 1, 1, dataHash: 5, stateHash: 50, nodeTerm: 1));
        Assert.Null(history.OnApply(2, 1, 1, dataHash: 5, stateHash: 50, nodeTerm: 2));
        Assert.NotNull(history.OnApply(3, 1, 2, dataHash: 6, stateHash: 60, nodeTerm: 2));
    }

    [Fact]
    public void StateMachineSafety_GapOrForeignSnapshot_Caught()
    {
        var history = new CommittedHistory();
        Assert.Null(history.OnApply(1, 1, 1, 5, 50, 1));
        Assert.NotNull(history.OnApply(1, 3, 1, 5, 70, 1));
        Assert.Null(history.OnSnapshotInstalled(2, 1, 50));
        Assert.NotNull(history.OnSnapshotInstalled(2, 1, 51));
        Assert.NotNull(history.OnSnapshotInstalled(2, 2, 50));
    }

    [Fact]
    public void LeaderCompleteness_LeaderMissingEntryCommittedEarlier_Caught()
    {
        var history = new CommittedHistory();
        Assert.Null(history.OnApply(1, 1, 1, 5, 50, nodeTerm: 1));
        Assert.Null(history.OnApply(1, 2, 1, 6, 60, nodeTerm: 1));
        Assert.Null(history.CheckLeader(2, 2, new FakeLog(0, 1, 1)));
        Assert.NotNull(history.CheckLeader(3, 2, new FakeLog(0, 1, 2)));
        Assert.NotNull(history.CheckLeader(3, 2, new FakeLog(0, 1)));

        // An entry committed in the leader's own term or later is not the leader's to have had at election.
        Assert.Null(history.CheckLeader(3, 1, new FakeLog(0, 1)));
    }

    [Fact]
    public void NothingLost_HealedLeaderMissingCommittedEntry_Caught()
    {
        var history = new CommittedHistory();
        Assert.Null(history.OnApply(1, 1, 1, 5, 50, nodeTerm: 3));
        Assert.Null(history.CheckNothingLost(2, 3, new FakeLog(0, 1)));
        Assert.NotNull(history.CheckNothingLost(2, 3, new FakeLog(0, 2)));
        Assert.Null(history.CheckNothingLost(2, 3, new FakeLog(1)));
    }

    [Fact]
    public void Reads_ReadMissingAcknowledgedWriteOrEarlierRead_Caught()
    {
        var checker = new ReadChecker();
        checker.OnWriteAcknowledged(10);
        long bound = checker.OnReadStarted();
        Assert.NotNull(checker.OnReadServed(1, bound, 9));
        Assert.Null(checker.OnReadServed(1, bound, 12));
        Assert.NotNull(checker.OnReadServed(2, checker.OnReadStarted(), 11));
        Assert.Equal(3, checker.ReadsChecked);
    }

    [Fact]
    public void Reads_ConcurrentWriteAcknowledgedAfterReadStarted_NotAViolation()
    {
        var checker = new ReadChecker();
        long bound = checker.OnReadStarted();
        checker.OnWriteAcknowledged(10);
        Assert.Null(checker.OnReadServed(1, bound, 0));
    }

    [Fact]
    public void Liveness_NoWriteWithinBoundAfterHeal_Caught()
    {
        var checker = new LivenessChecker(boundSteps: 50);
        checker.OnHealed(100);
        Assert.Null(checker.Check(150));
        Assert.False(checker.OnWriteAcknowledged(proposedAt: 90));
        Assert.NotNull(checker.Check(151));
        checker.OnHealed(200);
        Assert.True(checker.OnWriteAcknowledged(proposedAt: 210));
        Assert.Null(checker.Check(400));
        checker.OnFaultsResumed();
        Assert.Null(checker.Check(1000));
    }
}
