// A linearizability checker: Wing & Gong's search ("Testing and verifying concurrent objects", 1993) with
// Lowe's memoisation of (linearized set, state) pairs ("Testing for linearizability", 2017), run per key
// as P-compositionality allows (Horn & Kroening, "Faster linearizability checking via P-compositionality",
// 2015). The search follows the shape of Porcupine's checkSingle (Go, MIT): a doubly linked list of call
// and return events, lift/unlift, a bitset of linearized operations and a cache.
//
// It is written here because no maintained .NET library checks linearizability: Knossos is Clojure,
// Porcupine is Go, and the .NET tools that exist (Microsoft Coyote) test schedules of in-process code
// rather than check a recorded history of a remote service.
//
// Indeterminate (info) operations follow Jepsen/Knossos/Porcupine: they may take effect at any point after
// their invocation, or never; their return is at +infinity.
namespace Blueprint.Testing.Linearizability;

/// <summary>
/// Decides whether a history of concurrent operations is linearizable with respect to a sequential model,
/// checking each key on its own.
/// </summary>
public static class LinearizabilityChecker
{
    /// <summary>The default step budget: enough for thousands of operations per key, bounded in memory.</summary>
    public const long DefaultStepsMax = 20_000_000;

    /// <summary>
    /// Checks <paramref name="history"/> against <paramref name="model"/>, one key at a time. Never hangs: when
    /// the budget runs out or <paramref name="cancellationToken"/> fires (pass one with a deadline), the keys
    /// not decided are <see cref="Verdict.Unknown"/>.
    /// </summary>
    /// <param name="history">The paired history.</param>
    /// <param name="model">The sequential specification of one key.</param>
    /// <param name="stepsMax">Search steps allowed for the whole history; each step is bounded work and at most one cached state.</param>
    /// <param name="cancellationToken">Stops the search; undecided keys become unknown.</param>
    public static LinearizabilityResult Check<TState>(
        History history,
        IModel<TState> model,
        long stepsMax = DefaultStepsMax,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(history);
        ArgumentNullException.ThrowIfNull(model);
        ArgumentOutOfRangeException.ThrowIfNegative(stepsMax);

        var partitions = history.Operations
            .GroupBy(o => o.Key, StringComparer.Ordinal)
            .OrderBy(g => g.Key, StringComparer.Ordinal);
        var results = new List<KeyResult>();
        long stepsLeft = stepsMax;
        foreach (IGrouping<string, PairedOperation> partition in partitions)
        {
            // An indeterminate operation that cannot change the state constrains nothing.
            var operations = partition.Where(o => !o.IsIndeterminate || model.CanChangeState(o)).ToList();
            var search = new LinearizabilitySearch<TState>(partition.Key, operations, model);
            KeyResult result = search.Run(stepsLeft, cancellationToken);
            stepsLeft -= result.Steps;
            results.Add(result);
        }

        Verdict verdict = results.Any(r => r.Verdict == Verdict.NotLinearizable) ? Verdict.NotLinearizable
            : results.Any(r => r.Verdict == Verdict.Unknown) ? Verdict.Unknown
            : Verdict.Linearizable;
        return new LinearizabilityResult(verdict, results);
    }

    /// <summary>Checks a history of read, write and compare-and-set operations on string keys.</summary>
    public static LinearizabilityResult CheckRegisters(
        History history,
        long stepsMax = DefaultStepsMax,
        CancellationToken cancellationToken = default) =>
        Check(history, RegisterModel.Instance, stepsMax, cancellationToken);
}
