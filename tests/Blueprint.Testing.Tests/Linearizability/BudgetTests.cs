using Blueprint.Testing.Linearizability;

namespace Blueprint.Testing.Tests.Linearizability;

public sealed class BudgetTests
{
    /// <summary>
    /// Twenty overlapping writes and a read of a value none of them wrote: the search must try every subset
    /// of writes before it can reject, about 2^20 configurations.
    /// </summary>
    private static History Pathological()
    {
        var h = new HistoryRecorder();
        PendingOperation[] writes = Enumerable.Range(0, 20).Select(p => h.Write(p, "x", $"{p}")).ToArray();
        PendingOperation read = h.Read(99, "x");
        foreach (PendingOperation write in writes)
        {
            write.Ok();
        }

        read.Ok("never written");
        return h.ToHistory();
    }

    [Fact]
    public void Check_PathologicalHistoryUnderTinyBudget_Unknown()
    {
        LinearizabilityResult result = LinearizabilityChecker.CheckRegisters(Pathological(), stepsMax: 1_000, TestContext.Current.CancellationToken);

        Assert.Equal(Verdict.Unknown, result.Verdict);
        Assert.Equal(1_000, result.Steps);
        Assert.Contains("unknown", result.Keys.Single().Explanation, StringComparison.Ordinal);
    }

    [Fact]
    public void Check_Cancelled_UnknownForEveryKey()
    {
        using var cancelled = new CancellationTokenSource();
        cancelled.Cancel();

        LinearizabilityResult result = LinearizabilityChecker.CheckRegisters(Pathological(), cancellationToken: cancelled.Token);

        Assert.Equal(Verdict.Unknown, result.Verdict);
    }

    [Fact]
    public void Check_BudgetSpentOnFirstKey_LaterKeysUnknown()
    {
        var h = new HistoryRecorder();
        h.WriteOk(0, "a", "1");
        h.ReadOk(0, "a", "1");
        h.WriteOk(0, "b", "1");

        LinearizabilityResult result = h.Check(stepsMax: 2);

        Assert.Equal([Verdict.Linearizable, Verdict.Unknown], result.Keys.Select(k => k.Verdict));
    }

    [Fact]
    public void Check_BudgetExhaustedAfterViolationFound_StillNotLinearizable()
    {
        var h = new HistoryRecorder();
        h.WriteOk(0, "a", "1");
        h.ReadOk(0, "a", "2");
        h.WriteOk(0, "b", "1");
        h.ReadOk(0, "b", "1");

        long stepsForA = h.Check().Keys[0].Steps;

        LinearizabilityResult result = h.Check(stepsMax: stepsForA);

        Assert.Equal(Verdict.NotLinearizable, result.Verdict);
        Assert.Equal(["a"], result.ViolatingKeys);
        Assert.Equal(Verdict.Unknown, result.Keys[1].Verdict);
    }
}
