using Blueprint.Testing.Linearizability;

namespace Blueprint.Testing.Tests.Linearizability;

/// <summary>Histories a linearizable register can produce: the checker must accept every one.</summary>
public sealed class AcceptedHistoryTests
{
    [Fact]
    public void Check_SequentialReadsWritesAndCas_Linearizable()
    {
        var h = new HistoryRecorder();
        h.ReadOk(0, "x", null);
        h.WriteOk(0, "x", "1");
        h.ReadOk(1, "x", "1");
        h.Cas(1, "x", "1", "2").Ok(succeeded: true);
        h.Cas(0, "x", "1", "3").Ok(succeeded: false);
        h.ReadOk(0, "x", "2");

        AssertLinearizable(h.Check());
    }

    [Theory]
    [InlineData("1")]
    [InlineData("2")]
    public void Check_ReadAfterOverlappingWrites_SeesEitherValue(string seen)
    {
        var h = new HistoryRecorder();
        PendingOperation one = h.Write(0, "x", "1");
        PendingOperation two = h.Write(1, "x", "2");
        one.Ok();
        two.Ok();
        h.ReadOk(2, "x", seen);
        h.ReadOk(2, "x", seen);

        AssertLinearizable(h.Check());
    }

    [Fact]
    public void Check_ReadOverlappingWrite_SeesOldThenNew()
    {
        var h = new HistoryRecorder();
        h.WriteOk(0, "x", "1");
        PendingOperation write = h.Write(0, "x", "2");
        h.ReadOk(1, "x", "1");
        h.ReadOk(1, "x", "2");
        write.Ok();

        AssertLinearizable(h.Check());
    }

    [Fact]
    public void Check_CasRaceWithOneWinner_Linearizable()
    {
        var h = new HistoryRecorder();
        h.WriteOk(0, "x", "0");
        PendingOperation a = h.Cas(1, "x", "0", "1");
        PendingOperation b = h.Cas(2, "x", "0", "2");
        b.Ok(succeeded: false);
        a.Ok(succeeded: true);
        h.ReadOk(0, "x", "1");

        AssertLinearizable(h.Check());
    }

    [Fact]
    public void Check_FailedCasByJepsenConvention_Linearizable()
    {
        var h = new HistoryRecorder();
        h.WriteOk(0, "x", "0");
        PendingOperation a = h.Cas(1, "x", "0", "1");
        PendingOperation b = h.Cas(2, "x", "0", "2");
        a.Ok();
        b.Fail();
        h.ReadOk(0, "x", "1");

        AssertLinearizable(h.Check());
    }

    [Theory]
    [InlineData(null)]
    [InlineData("1")]
    public void Check_InfoWrite_MayOrMayNotHaveTakenEffect(string? seen)
    {
        var h = new HistoryRecorder();
        h.Write(0, "x", "1").Info();
        h.ReadOk(1, "x", seen);
        h.ReadOk(1, "x", seen);

        AssertLinearizable(h.Check());
    }

    [Fact]
    public void Check_InfoWrite_MayTakeEffectLongAfterItsTimeout()
    {
        var h = new HistoryRecorder();
        h.Write(0, "x", "1").Info();
        h.WriteOk(1, "x", "2");
        h.ReadOk(1, "x", "2");
        h.ReadOk(2, "x", "1");

        AssertLinearizable(h.Check());
    }

    [Fact]
    public void Check_InfoCasThatTookEffect_Linearizable()
    {
        var h = new HistoryRecorder();
        h.WriteOk(0, "x", "0");
        h.Cas(0, "x", "0", "1").Info();
        h.ReadOk(1, "x", "1");

        AssertLinearizable(h.Check());
    }

    [Fact]
    public void Check_InvocationNeverCompleted_CountsAsIndeterminate()
    {
        var h = new HistoryRecorder();
        h.Write(0, "x", "1");
        h.ReadOk(1, "x", "1");

        AssertLinearizable(h.Check());
    }

    [Fact]
    public void Check_FailedWrite_IsIgnored()
    {
        var h = new HistoryRecorder();
        h.WriteOk(0, "x", "1");
        h.Write(0, "x", "2").Fail();
        h.ReadOk(1, "x", "1");

        LinearizabilityResult result = h.Check();

        AssertLinearizable(result);
        Assert.Equal(1, h.ToHistory().FailedCount);
        Assert.Equal(2, result.Keys.Single().OperationCount);
    }

    [Fact]
    public void Check_EmptyHistory_Linearizable()
    {
        AssertLinearizable(new HistoryRecorder().Check());
    }

    private static void AssertLinearizable(LinearizabilityResult result) =>
        Assert.True(result.Verdict == Verdict.Linearizable, result.Explanation);
}
