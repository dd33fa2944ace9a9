namespace Blueprint.Testing.Linearizability;

/// <summary>
/// An invocation paired with its completion: the interval in real time in which the operation took effect,
/// if it did. Failed operations never become one; indeterminate ones stay open for ever.
/// </summary>
/// <param name="Id">The operation's position in <see cref="History.Operations"/>.</param>
/// <param name="Process">The client that issued it.</param>
/// <param name="Function">What it does.</param>
/// <param name="Key">The object it operates on.</param>
/// <param name="Input">The invocation's value: what a write or a compare-and-set writes.</param>
/// <param name="Expected">What a compare-and-set compares against.</param>
/// <param name="Output">The value a completed read saw; null for a missing key or an unknown outcome.</param>
/// <param name="Succeeded">Whether a completed compare-and-set wrote; null when unknown.</param>
/// <param name="CallIndex">The invocation's index.</param>
/// <param name="ReturnIndex">The completion's index; <see cref="long.MaxValue"/> for an indeterminate operation.</param>
public sealed record PairedOperation(
    int Id,
    int Process,
    OperationFunction Function,
    string Key,
    string? Input,
    string? Expected,
    string? Output,
    bool? Succeeded,
    long CallIndex,
    long ReturnIndex)
{
    /// <summary>True when the client does not know whether it took effect (an info completion or none).</summary>
    public bool IsIndeterminate => ReturnIndex == long.MaxValue;

    /// <inheritdoc />
    public override string ToString()
    {
        string end = IsIndeterminate ? "inf) info" : $"{ReturnIndex}] ok";
        string what = Function == OperationFunction.Read ? $"read -> {Operation.Format(IsIndeterminate ? "?" : Output)}"
            : Function == OperationFunction.Write ? $"write {Operation.Format(Input)}"
            : Function == OperationFunction.Cas
                ? $"cas {Operation.Format(Expected)}->{Operation.Format(Input)} = {Operation.Format(IsIndeterminate ? null : Succeeded ?? true)}"
            : $"{Function} {Operation.Format(Input)} -> {Operation.Format(Output)}";
        return $"p{Process} {what} [{CallIndex}, {end}";
    }
}

/// <summary>A well-formed history: every invocation paired with its completion, failed operations dropped.</summary>
public sealed class History
{
    internal History(IReadOnlyList<PairedOperation> operations, int failedCount)
    {
        Operations = operations;
        FailedCount = failedCount;
    }

    /// <summary>The operations that did or may have taken effect, in invocation order.</summary>
    public IReadOnlyList<PairedOperation> Operations { get; }

    /// <summary>How many operations completed with <see cref="OperationKind.Fail"/> and were dropped.</summary>
    public int FailedCount { get; }

    /// <summary>Pairs the events of a history; throws <see cref="MalformedHistoryException"/> listing every problem.</summary>
    public static History From(IEnumerable<Operation> events)
    {
        ArgumentNullException.ThrowIfNull(events);
        var builder = new HistoryBuilder();
        foreach (Operation operation in events)
        {
            builder.Add(operation);
        }

        return builder.Build();
    }
}

/// <summary>Collects the events of a history in any order and pairs them, checking that the history is well formed.</summary>
public sealed class HistoryBuilder
{
    private const int ProblemsReportedMax = 20;

    private readonly List<Operation> events = [];

    /// <summary>Adds one event.</summary>
    public HistoryBuilder Add(Operation operation)
    {
        ArgumentNullException.ThrowIfNull(operation);
        events.Add(operation);
        return this;
    }

    /// <summary>
    /// Pairs invocations with completions in index order. An invocation still outstanding at the end counts
    /// as indeterminate, as in Jepsen: the client never learned what happened.
    /// </summary>
    /// <exception cref="MalformedHistoryException">
    /// Two events share an index, a process invokes while its previous invocation is outstanding, a completion
    /// has no invocation, or a completion names another function or key than its invocation.
    /// </exception>
    public History Build()
    {
        var ordered = events.OrderBy(e => e.Index).ToList();
        var problems = new List<string>();
        var outstanding = new Dictionary<int, Operation>();
        var paired = new List<(Operation Invoke, Operation? Completion)>();
        int failed = 0;
        for (int i = 0; i < ordered.Count; i++)
        {
            Operation e = ordered[i];
            if (i > 0 && ordered[i - 1].Index == e.Index)
            {
                problems.Add($"two events share index {e.Index}: [{ordered[i - 1]}] and [{e}]");
            }

            if (e.Kind == OperationKind.Invoke)
            {
                if (outstanding.TryGetValue(e.Process, out Operation? previous))
                {
                    problems.Add($"process {e.Process} invokes [{e}] while its invocation [{previous}] is outstanding; a process does one thing at a time");
                }

                outstanding[e.Process] = e;
                continue;
            }

            if (!outstanding.Remove(e.Process, out Operation? invoke))
            {
                problems.Add($"completion [{e}] has no outstanding invocation by process {e.Process}");
                continue;
            }

            if (invoke.Function != e.Function || invoke.Key != e.Key)
            {
                problems.Add($"completion [{e}] does not match its invocation [{invoke}]: function and key must be the same");
                continue;
            }

            if (e.Kind == OperationKind.Fail)
            {
                failed++;
            }
            else
            {
                paired.Add((invoke, e.Kind == OperationKind.Ok ? e : null));
            }
        }

        if (problems.Count > 0)
        {
            throw new MalformedHistoryException(problems.Take(ProblemsReportedMax).ToList(), problems.Count);
        }

        paired.AddRange(outstanding.Values.Select(invoke => (invoke, (Operation?)null)));
        paired.Sort((a, b) => a.Invoke.Index.CompareTo(b.Invoke.Index));
        var operations = new List<PairedOperation>(paired.Count);
        foreach ((Operation invoke, Operation? ok) in paired)
        {
            operations.Add(new PairedOperation(
                operations.Count,
                invoke.Process,
                invoke.Function,
                invoke.Key,
                invoke.Value,
                invoke.Expected,
                ok?.Value,
                ok?.Succeeded,
                invoke.Index,
                ok?.Index ?? long.MaxValue));
        }

        return new History(operations, failed);
    }
}

/// <summary>A history that is not well formed; the message lists the problems found.</summary>
public sealed class MalformedHistoryException : Exception
{
    /// <summary>Creates the exception from the problems found.</summary>
    public MalformedHistoryException(IReadOnlyList<string> problems, int problemCount)
        : base($"malformed history, {problemCount} problem(s):{Environment.NewLine}  " + string.Join(Environment.NewLine + "  ", problems))
    {
        Problems = problems;
    }

    /// <summary>Creates the exception with a single message.</summary>
    public MalformedHistoryException()
        : this(["malformed history"], 1)
    {
    }

    /// <summary>Creates the exception with a single message.</summary>
    public MalformedHistoryException(string message)
        : this([message], 1)
    {
    }

    /// <summary>Creates the exception with a single message and an inner exception.</summary>
    public MalformedHistoryException(string message, Exception innerException)
        : base(message, innerException)
    {
        Problems = [message];
    }

    /// <summary>The problems found (at most the first twenty).</summary>
    public IReadOnlyList<string> Problems { get; }
}
