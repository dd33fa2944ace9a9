namespace Blueprint.Coordination.Mvcc;

/// <summary>
/// Bounds on what one request may ask of the store. A request past a bound is refused with an
/// etcd error and changes nothing.
/// </summary>
public sealed record MvccLimits
{
    /// <summary>The defaults: etcd's 1.5 MiB request size and 128 operations per txn.</summary>
    public static MvccLimits Default { get; } = new();

    /// <summary>Largest encoded request, in bytes.</summary>
    /// <value>1 to <see cref="int.MaxValue"/>; default 1,572,864 (1.5 MiB, etcd's default).</value>
    public int RequestBytesMax { get; init; } = 1_572_864;

    /// <summary>Most compares, and most operations per branch, in one txn (nested txns included, each counted on its own).</summary>
    /// <value>1 to <see cref="int.MaxValue"/>; default 128 (etcd's default).</value>
    public int TxnOpsMax { get; init; } = 128;

    /// <summary>Deepest nesting of txns inside txns; bounds the recursion the store does per request.</summary>
    /// <value>1 to 64; default 16.</value>
    public int TxnDepthMax { get; init; } = 16;

    /// <summary>Longest lease TTL, in seconds.</summary>
    /// <value>1 to <see cref="long.MaxValue"/>; default 9,000,000,000 (etcd's MaxLeaseTTL).</value>
    public long LeaseTtlSecondsMax { get; init; } = 9_000_000_000;

    /// <summary>Throws <see cref="ArgumentOutOfRangeException"/> naming every bound outside its range.</summary>
    public void Validate()
    {
        var problems = new List<string>();
        if (RequestBytesMax < 1)
        {
            problems.Add($"{nameof(RequestBytesMax)} must be at least 1 (is {RequestBytesMax})");
        }

        if (TxnOpsMax < 1)
        {
            problems.Add($"{nameof(TxnOpsMax)} must be at least 1 (is {TxnOpsMax})");
        }

        if (TxnDepthMax is < 1 or > 64)
        {
            problems.Add($"{nameof(TxnDepthMax)} must be 1 to 64 (is {TxnDepthMax})");
        }

        if (LeaseTtlSecondsMax < 1)
        {
            problems.Add($"{nameof(LeaseTtlSecondsMax)} must be at least 1 (is {LeaseTtlSecondsMax})");
        }

        if (problems.Count > 0)
        {
            throw new ArgumentOutOfRangeException(nameof(MvccLimits), string.Join("; ", problems));
        }
    }
}
