namespace Blueprint.Testing.Linearizability;

/// <summary>
/// Records a history from clients running concurrently. Each event takes the next index under a lock, so
/// the index order is a real-time order: record the invocation before sending the request and the
/// completion after the response arrives.
/// </summary>
public sealed class HistoryRecorder
{
    private readonly Lock gate = new();
    private readonly List<Operation> events = [];
    private readonly HashSet<int> busyProcesses = [];

    /// <summary>Records an invocation; complete it through the returned handle.</summary>
    /// <exception cref="InvalidOperationException">The process already has an outstanding invocation.</exception>
    public PendingOperation Invoke(int process, OperationFunction function, string key, string? value = null, string? expected = null)
    {
        ArgumentNullException.ThrowIfNull(key);
        lock (gate)
        {
            if (!busyProcesses.Add(process))
            {
                throw new InvalidOperationException($"process {process} invokes {function} on {key} while another invocation is outstanding; a process does one thing at a time");
            }

            events.Add(new Operation(process, OperationKind.Invoke, function, key, events.Count) { Value = value, Expected = expected });
        }

        return new PendingOperation(this, process, function, key);
    }

    /// <summary>The events recorded so far, in index order.</summary>
    public IReadOnlyList<Operation> Events()
    {
        lock (gate)
        {
            return events.ToList();
        }
    }

    /// <summary>Pairs the events recorded so far; invocations still outstanding count as indeterminate.</summary>
    public History ToHistory() => History.From(Events());

    internal void Complete(int process, Operation completion)
    {
        lock (gate)
        {
            busyProcesses.Remove(process);
            events.Add(completion with { Index = events.Count });
        }
    }
}

/// <summary>An invocation awaiting its completion; complete it exactly once.</summary>
public sealed class PendingOperation
{
    private readonly HistoryRecorder recorder;
    private readonly int process;
    private readonly OperationFunction function;
    private readonly string key;
    private int completed;

    internal PendingOperation(HistoryRecorder recorder, int process, OperationFunction function, string key)
    {
        this.recorder = recorder;
        this.process = process;
        this.function = function;
        this.key = key;
    }

    /// <summary>The operation took effect: <paramref name="value"/> is what a read saw, <paramref name="succeeded"/> whether a compare-and-set wrote.</summary>
    public void Ok(string? value = null, bool? succeeded = null) =>
        Complete(OperationKind.Ok, value, succeeded);

    /// <summary>The operation definitely did not take effect.</summary>
    public void Fail() => Complete(OperationKind.Fail, null, null);

    /// <summary>The client cannot tell whether the operation took effect (a timeout, a lost connection).</summary>
    public void Info() => Complete(OperationKind.Info, null, null);

    private void Complete(OperationKind kind, string? value, bool? succeeded)
    {
        if (Interlocked.Exchange(ref completed, 1) != 0)
        {
            throw new InvalidOperationException($"the {function} on {key} by process {process} is already complete");
        }

        recorder.Complete(process, new Operation(process, kind, function, key, 0) { Value = value, Succeeded = succeeded });
    }
}
