namespace Blueprint.Testing.Linearizability;

/// <summary>
/// One key of a key-value store holding a string: read, write and compare-and-set. The key starts missing
/// (null); a read of a missing key returns null, and a compare-and-set expecting null expects it missing.
/// </summary>
public sealed class RegisterModel : IModel<string?>
{
    /// <summary>The model, starting from a missing key.</summary>
    public static RegisterModel Instance { get; } = new();

    /// <inheritdoc />
    public string? Initial => null;

    /// <inheritdoc />
    public IEqualityComparer<string?> StateComparer => StringComparer.Ordinal;

    /// <inheritdoc />
    public (bool Legal, string? Next) Apply(string? state, PairedOperation operation)
    {
        ArgumentNullException.ThrowIfNull(operation);
        if (operation.Function == OperationFunction.Read)
        {
            return (operation.IsIndeterminate || operation.Output == state, state);
        }

        if (operation.Function == OperationFunction.Write)
        {
            return (true, operation.Input);
        }

        if (operation.Function == OperationFunction.Cas)
        {
            bool matches = operation.Expected == state;
            if (operation.IsIndeterminate)
            {
                // Unknown outcome: it wrote if it could, otherwise it answered false and changed nothing.
                return (true, matches ? operation.Input : state);
            }

            // Jepsen's convention: an ok compare-and-set without a result wrote.
            bool wrote = operation.Succeeded ?? true;
            return wrote ? (matches, matches ? operation.Input : state) : (!matches, state);
        }

        throw new ArgumentException($"the register model has no function {operation.Function} (in [{operation}])", nameof(operation));
    }

    /// <inheritdoc />
    public bool CanChangeState(PairedOperation operation)
    {
        ArgumentNullException.ThrowIfNull(operation);
        return operation.Function != OperationFunction.Read;
    }

    /// <inheritdoc />
    public string Describe(string? state) => Operation.Format(state);
}
