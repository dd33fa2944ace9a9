using Blueprint.Testing.Linearizability;
using CsCheck;

namespace Blueprint.Testing.Tests.Linearizability;

/// <summary>Histories of a linearizable store are accepted; the same histories with a read corrupted are not.</summary>
public sealed class PropertyTests
{
    private const string NeverWritten = "never written";

    private static readonly Gen<(int Processes, SimulationStep[] Schedule)> Simulations = Gen.Select(
        Gen.Int[2, 5],
        Gen.Select(Gen.Int[0, 4], Gen.Int[0, 19], Gen.Int[0, 1], Gen.Int[0, 3])
            .Select(s => new SimulationStep(s.Item1, s.Item2, s.Item3, s.Item4))
            .Array[1, 80]);

    [Fact]
    public void Check_HistoryOfLinearizableStore_Linearizable()
    {
        Simulations.Sample(
            (processes, schedule) =>
            {
                History history = RegisterSimulation.Run(processes, schedule).ToHistory();

                LinearizabilityResult result = LinearizabilityChecker.CheckRegisters(history);

                Assert.True(result.Verdict == Verdict.Linearizable, result.Explanation);
            },
            iter: 300);
    }

    [Fact]
    public void Check_ReadCorruptedToValueNeverWritten_NotLinearizableOnThatKey()
    {
        Simulations.Select(Gen.Int[0, 1000]).Sample(
            (simulation, pick) =>
            {
                IReadOnlyList<Operation> events = RegisterSimulation.Run(simulation.Processes, simulation.Schedule).Events();
                var okReads = events.Where(e => e.Kind == OperationKind.Ok && e.Function == OperationFunction.Read).ToList();
                Operation victim = okReads[pick % okReads.Count];
                var corrupted = events.Select(e => e == victim ? e with { Value = NeverWritten } : e).ToList();

                LinearizabilityResult result = LinearizabilityChecker.CheckRegisters(History.From(corrupted));

                Assert.True(result.Verdict == Verdict.NotLinearizable, result.Explanation);
                Assert.Equal([victim.Key], result.ViolatingKeys);
            },
            iter: 300);
    }
}
