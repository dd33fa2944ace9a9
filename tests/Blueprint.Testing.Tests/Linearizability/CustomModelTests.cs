using Blueprint.Testing.Linearizability;

namespace Blueprint.Testing.Tests.Linearizability;

/// <summary>
/// A model of a key that can be written once: a second write is illegal. An indeterminate second write can
/// then only be explained by its not having happened, which the checker must consider on its own.
/// </summary>
public sealed class CustomModelTests
{
    [Fact]
    public void Check_InfoOperationIllegalInEveryState_TakenAsNotHappened()
    {
        var h = new HistoryRecorder();
        h.WriteOk(0, "x", "1");
        h.Write(1, "x", "2").Info();
        h.ReadOk(0, "x", "1");

        LinearizabilityResult result = LinearizabilityChecker.Check(h.ToHistory(), new WriteOnceModel(), cancellationToken: TestContext.Current.CancellationToken);

        Assert.True(result.Verdict == Verdict.Linearizable, result.Explanation);
        Assert.Contains(result.Keys.Single().LongestPrefix, step => !step.TookEffect);
    }

    [Fact]
    public void Check_OkOperationIllegalInEveryState_NotLinearizable()
    {
        var h = new HistoryRecorder();
        h.WriteOk(0, "x", "1");
        h.WriteOk(1, "x", "2");

        LinearizabilityResult result = LinearizabilityChecker.Check(h.ToHistory(), new WriteOnceModel(), cancellationToken: TestContext.Current.CancellationToken);

        Assert.Equal(["x"], result.ViolatingKeys);
    }

    private sealed class WriteOnceModel : IModel<string?>
    {
        public string? Initial => null;

        public IEqualityComparer<string?> StateComparer => StringComparer.Ordinal;

        public (bool Legal, string? Next) Apply(string? state, PairedOperation operation) =>
            operation.Function == OperationFunction.Write
                ? (state is null, operation.Input)
                : (operation.IsIndeterminate || operation.Output == state, state);

        public bool CanChangeState(PairedOperation operation) => operation.Function == OperationFunction.Write;

        public string Describe(string? state) => state ?? "unwritten";
    }
}
