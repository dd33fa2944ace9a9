namespace Blueprint.Testing.Linearizability;

/// <summary>
/// A sequential specification of one object (one key): the state it starts in and how each operation moves
/// it. The checker asks whether some order of the history's operations, consistent with real time, is a
/// run of this model.
/// </summary>
/// <typeparam name="TState">
/// The object's state. The checker memoises states, so treat them as immutable values.
/// </typeparam>
public interface IModel<TState>
{
    /// <summary>The state before any operation.</summary>
    TState Initial { get; }

    /// <summary>State equality and hashing, used to memoise (linearized set, state) pairs.</summary>
    IEqualityComparer<TState> StateComparer { get; }

    /// <summary>
    /// Applies <paramref name="operation"/> in <paramref name="state"/>. <c>Legal</c> is false when the
    /// operation could not have produced the output the client saw in that state. For an indeterminate
    /// operation the output is unknown: answer whether it could take effect with some output, and the state
    /// it would leave. (The checker also tries it not taking effect at all; the model need not.)
    /// </summary>
    (bool Legal, TState Next) Apply(TState state, PairedOperation operation);

    /// <summary>
    /// False for an operation that never changes the state (a read). An indeterminate one says nothing, so
    /// the checker drops it before the search instead of carrying it as an open operation.
    /// </summary>
    bool CanChangeState(PairedOperation operation);

    /// <summary>The state as a violation report shows it.</summary>
    string Describe(TState state);
}
