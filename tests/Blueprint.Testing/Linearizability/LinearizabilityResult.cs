namespace Blueprint.Testing.Linearizability;

/// <summary>What the checker concluded.</summary>
public enum Verdict
{
    /// <summary>Some order of the operations, consistent with real time, is a run of the model.</summary>
    Linearizable,

    /// <summary>No such order exists: the system under test broke linearizability.</summary>
    NotLinearizable,

    /// <summary>The step budget ran out or the search was cancelled before an answer.</summary>
    Unknown,
}

/// <summary>One operation of a linearization, with the state it leaves.</summary>
/// <param name="Operation">The operation.</param>
/// <param name="TookEffect">False when an indeterminate operation is taken not to have happened.</param>
/// <param name="StateAfter">The model's state after it, as the model describes it.</param>
public sealed record LinearizedOperation(PairedOperation Operation, bool TookEffect, string StateAfter)
{
    /// <inheritdoc />
    public override string ToString() => TookEffect ? $"{Operation}  => {StateAfter}" : $"{Operation}  (no effect)";
}

/// <summary>An operation that could not come next after the longest linearizable prefix, and why.</summary>
/// <param name="Operation">The operation.</param>
/// <param name="Reason">Why it could not be placed there.</param>
public sealed record UnplacedOperation(PairedOperation Operation, string Reason)
{
    /// <inheritdoc />
    public override string ToString() => $"{Operation}: {Reason}";
}

/// <summary>The verdict for one key (one partition of the history).</summary>
/// <param name="Key">The key.</param>
/// <param name="Verdict">The verdict for this key.</param>
/// <param name="OperationCount">Operations searched (failed operations and indeterminate reads are not).</param>
/// <param name="Steps">Search steps spent on this key.</param>
public sealed record KeyResult(string Key, Verdict Verdict, int OperationCount, long Steps)
{
    /// <summary>
    /// The longest prefix of a linearization the search found. For a violation it shows how far the history
    /// makes sense; it is one such prefix, not the only one.
    /// </summary>
    public IReadOnlyList<LinearizedOperation> LongestPrefix { get; init; } = [];

    /// <summary>For a violation: the operations that may come next after the longest prefix, none of which fits.</summary>
    public IReadOnlyList<UnplacedOperation> Unplaced { get; init; } = [];

    /// <summary>A readable account of the verdict, for a failing test's message.</summary>
    public string Explanation { get; init; } = "";

    /// <inheritdoc />
    public override string ToString() => Explanation;
}

/// <summary>The verdict for a whole history: linearizable iff every key is (P-compositionality).</summary>
/// <param name="Verdict">Not linearizable if any key is; otherwise unknown if any key is; otherwise linearizable.</param>
/// <param name="Keys">The verdict for each key, in ordinal key order.</param>
public sealed record LinearizabilityResult(Verdict Verdict, IReadOnlyList<KeyResult> Keys)
{
    /// <summary>The keys whose operations are not linearizable.</summary>
    public IReadOnlyList<string> ViolatingKeys => Keys.Where(k => k.Verdict == Verdict.NotLinearizable).Select(k => k.Key).ToList();

    /// <summary>Search steps spent on the whole history.</summary>
    public long Steps => Keys.Sum(k => k.Steps);

    /// <summary>The verdict, then the explanation of every key that is not linearizable or unknown.</summary>
    public string Explanation
    {
        get
        {
            IEnumerable<string> lines = Keys.Where(k => k.Verdict != Verdict.Linearizable).Select(k => k.Explanation);
            return string.Join(
                Environment.NewLine,
                lines.Prepend($"{Verdict} ({Keys.Count} key(s), {Keys.Sum(k => k.OperationCount)} operation(s), {Steps} step(s))"));
        }
    }

    /// <inheritdoc />
    public override string ToString() => Explanation;
}
