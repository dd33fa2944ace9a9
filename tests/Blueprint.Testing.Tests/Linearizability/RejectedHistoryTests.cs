using Blueprint.Testing.Linearizability;

namespace Blueprint.Testing.Tests.Linearizability;

/// <summary>
/// Deliberately broken histories: each must be rejected, naming the broken key. A fine key "y" runs
/// alongside, so naming the wrong key fails the test.
/// </summary>
public sealed class RejectedHistoryTests
{
    [Fact]
    public void Check_StaleReadAfterCompletedWrite_NotLinearizable()
    {
        HistoryRecorder h = WithFineNeighbour();
        h.WriteOk(0, "x", "1");
        h.WriteOk(0, "x", "2");
        h.ReadOk(1, "x", "1");

        KeyResult violation = AssertViolationOn(h.Check(), "x");

        Assert.Equal(2, violation.LongestPrefix.Count);
        UnplacedOperation unplaced = Assert.Single(violation.Unplaced);
        Assert.Equal(OperationFunction.Read, unplaced.Operation.Function);
        Assert.Equal("1", unplaced.Operation.Output);
        Assert.Contains("refuses", unplaced.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Check_ReadOfValueNeverWritten_NotLinearizable()
    {
        HistoryRecorder h = WithFineNeighbour();
        PendingOperation write = h.Write(0, "x", "1");
        h.ReadOk(1, "x", "7");
        write.Ok();

        AssertViolationOn(h.Check(), "x");
    }

    [Fact]
    public void Check_ReadOfMissingKeyAfterWrite_NotLinearizable()
    {
        HistoryRecorder h = WithFineNeighbour();
        h.WriteOk(0, "x", "1");
        h.ReadOk(1, "x", null);

        AssertViolationOn(h.Check(), "x");
    }

    [Fact]
    public void Check_ReadsGoingBackwards_NotLinearizable()
    {
        HistoryRecorder h = WithFineNeighbour();
        h.WriteOk(0, "x", "1");
        PendingOperation write = h.Write(0, "x", "2");
        h.ReadOk(1, "x", "2");
        h.ReadOk(2, "x", "1");
        write.Ok();

        AssertViolationOn(h.Check(), "x");
    }

    [Fact]
    public void Check_CasFromOverwrittenValue_NotLinearizable()
    {
        HistoryRecorder h = WithFineNeighbour();
        h.WriteOk(0, "x", "1");
        h.WriteOk(0, "x", "2");
        h.Cas(1, "x", "1", "3").Ok(succeeded: true);

        AssertViolationOn(h.Check(), "x");
    }

    [Fact]
    public void Check_LostUpdate_TwoCasFromSameValueBothSucceed_NotLinearizable()
    {
        HistoryRecorder h = WithFineNeighbour();
        h.WriteOk(0, "x", "0");
        PendingOperation a = h.Cas(1, "x", "0", "1");
        PendingOperation b = h.Cas(2, "x", "0", "2");
        a.Ok(succeeded: true);
        b.Ok(succeeded: true);

        KeyResult violation = AssertViolationOn(h.Check(), "x");

        Assert.Contains(violation.Unplaced, u => u.Operation.Function == OperationFunction.Cas);
    }

    [Fact]
    public void Check_CasReportedFalseWhileValueMatched_NotLinearizable()
    {
        HistoryRecorder h = WithFineNeighbour();
        h.WriteOk(0, "x", "1");
        h.Cas(1, "x", "1", "2").Ok(succeeded: false);

        AssertViolationOn(h.Check(), "x");
    }

    [Fact]
    public void Check_FailedWriteObserved_NotLinearizable()
    {
        HistoryRecorder h = WithFineNeighbour();
        h.Write(0, "x", "1").Fail();
        h.ReadOk(1, "x", "1");

        AssertViolationOn(h.Check(), "x");
    }

    [Fact]
    public void Check_InfoWriteSeenThenUnseen_NotLinearizable()
    {
        HistoryRecorder h = WithFineNeighbour();
        h.Write(0, "x", "1").Info();
        h.ReadOk(1, "x", "1");
        h.ReadOk(1, "x", null);

        AssertViolationOn(h.Check(), "x");
    }

    [Fact]
    public void Check_Violation_ExplanationNamesKeyPrefixAndUnplacedOperations()
    {
        HistoryRecorder h = WithFineNeighbour();
        h.WriteOk(0, "x", "1");
        h.WriteOk(0, "x", "2");
        h.ReadOk(1, "x", "1");

        string explanation = h.Check().Explanation;

        Assert.Contains("key \"x\": not linearizable", explanation, StringComparison.Ordinal);
        Assert.Contains("p0 write \"2\"", explanation, StringComparison.Ordinal);
        Assert.Contains("p1 read -> \"1\"", explanation, StringComparison.Ordinal);
        Assert.DoesNotContain("key \"y\"", explanation, StringComparison.Ordinal);
    }

    private static HistoryRecorder WithFineNeighbour()
    {
        var h = new HistoryRecorder();
        h.WriteOk(9, "y", "1");
        h.ReadOk(9, "y", "1");
        return h;
    }

    private static KeyResult AssertViolationOn(LinearizabilityResult result, string key)
    {
        Assert.True(result.Verdict == Verdict.NotLinearizable, result.Explanation);
        Assert.Equal([key], result.ViolatingKeys);
        return result.Keys.Single(k => k.Key == key);
    }
}
