namespace Blueprint.Testing.Linearizability;

/// <summary>What an event in a history says about an operation (Jepsen's <c>:type</c>).</summary>
public enum OperationKind
{
    /// <summary>The client sent the request; the operation may take effect from here on.</summary>
    Invoke,

    /// <summary>The operation took effect, and its output (if any) is what the client saw.</summary>
    Ok,

    /// <summary>The operation definitely did not take effect; the checker drops it.</summary>
    Fail,

    /// <summary>
    /// Indeterminate: the client does not know whether the operation took effect (a timeout, a lost
    /// connection). The checker lets it take effect at any point after its invocation, or never.
    /// </summary>
    Info,
}

/// <summary>
/// The function an operation applies (Jepsen's <c>:f</c>). A name rather than an enum, so that a model
/// for another object (a lock, a lease, a queue) brings its own functions.
/// </summary>
/// <param name="Name">The function's name, compared ordinally.</param>
public readonly record struct OperationFunction(string Name)
{
    /// <summary>Reads the key; the output is the value read, null when the key is missing.</summary>
    public static OperationFunction Read { get; } = new("read");

    /// <summary>Writes the input value to the key.</summary>
    public static OperationFunction Write { get; } = new("write");

    /// <summary>
    /// Compare-and-set: writes the input value iff the key holds the expected value. The output says
    /// whether it did.
    /// </summary>
    public static OperationFunction Cas { get; } = new("cas");

    /// <inheritdoc />
    public override string ToString() => Name;
}

/// <summary>
/// One event of a history: an invocation or a completion by one process (a client that does one thing at
/// a time). Completions repeat the invocation's function and key; the invocation carries the inputs, the
/// completion carries the output.
/// </summary>
/// <param name="Process">The client that issued the operation; it has at most one outstanding invocation.</param>
/// <param name="Kind">Invocation or one of the three completions.</param>
/// <param name="Function">What the operation does.</param>
/// <param name="Key">The object operated on; the checker checks each key on its own.</param>
/// <param name="Index">
/// The event's position in real time: events with a smaller index happened before. Unique within a history.
/// </param>
public sealed record Operation(int Process, OperationKind Kind, OperationFunction Function, string Key, long Index)
{
    /// <summary>
    /// On an invocation, the argument: the value a write or a compare-and-set writes. On a completed read,
    /// the value read (null when the key was missing).
    /// </summary>
    public string? Value { get; init; }

    /// <summary>On a compare-and-set invocation, the value the key must hold for the write to happen.</summary>
    public string? Expected { get; init; }

    /// <summary>
    /// On a completed compare-and-set, whether it wrote. Null on an <see cref="OperationKind.Ok"/>
    /// completion follows Jepsen's convention: ok means it wrote.
    /// </summary>
    public bool? Succeeded { get; init; }

    /// <summary>An invocation of a read.</summary>
    public static Operation InvokeRead(int process, string key, long index) =>
        new(process, OperationKind.Invoke, OperationFunction.Read, key, index);

    /// <summary>An invocation of a write of <paramref name="value"/>.</summary>
    public static Operation InvokeWrite(int process, string key, string? value, long index) =>
        new(process, OperationKind.Invoke, OperationFunction.Write, key, index) { Value = value };

    /// <summary>An invocation of a compare-and-set from <paramref name="expected"/> to <paramref name="value"/>.</summary>
    public static Operation InvokeCas(int process, string key, string? expected, string? value, long index) =>
        new(process, OperationKind.Invoke, OperationFunction.Cas, key, index) { Expected = expected, Value = value };

    /// <inheritdoc />
    public override string ToString()
    {
        string detail = Function == OperationFunction.Cas && Kind == OperationKind.Invoke
            ? $"{Format(Expected)}->{Format(Value)}"
            : Function == OperationFunction.Cas ? Format(Succeeded) : Format(Value);
        return $"{Index} p{Process} {Kind.ToString().ToLowerInvariant()} {Function} {Key} {detail}";
    }

    internal static string Format(string? value) => value is null ? "nil" : $"\"{value}\"";

    internal static string Format(bool? value) => value switch { null => "?", true => "true", false => "false" };
}
