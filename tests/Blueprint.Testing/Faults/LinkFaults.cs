namespace Blueprint.Testing.Faults;

/// <summary>The faults of one direction of a link.</summary>
/// <param name="Latency">Added one-way delay for every chunk of bytes read in this direction.</param>
/// <param name="Jitter">An extra delay drawn uniformly from [0, Jitter] per chunk, from the proxy's seeded generator.</param>
/// <param name="Blackholed">Bytes are read and dropped instead of forwarded; the connection stays open.</param>
public sealed record DirectionFaults(TimeSpan Latency, TimeSpan Jitter, bool Blackholed)
{
    /// <summary>A healthy direction.</summary>
    public static DirectionFaults None { get; } = new(TimeSpan.Zero, TimeSpan.Zero, false);
}

/// <summary>
/// Everything wrong with one link at a moment: an immutable snapshot that the proxy swaps whole, so
/// a connection never sees half of a change.
/// </summary>
/// <param name="Upstream">Faults of the bytes the client sends.</param>
/// <param name="Downstream">Faults of the bytes the upstream sends back.</param>
/// <param name="Refusing">New connections are reset as soon as they are accepted.</param>
public sealed record LinkFaults(DirectionFaults Upstream, DirectionFaults Downstream, bool Refusing)
{
    /// <summary>A healthy link.</summary>
    public static LinkFaults None { get; } = new(DirectionFaults.None, DirectionFaults.None, false);

    /// <summary>The faults of one direction.</summary>
    /// <param name="direction"><see cref="FaultDirections.Upstream"/> or <see cref="FaultDirections.Downstream"/>.</param>
    public DirectionFaults For(FaultDirections direction) => direction switch
    {
        FaultDirections.Upstream => Upstream,
        FaultDirections.Downstream => Downstream,
        _ => throw new ArgumentOutOfRangeException(nameof(direction), direction, "one direction, not a combination"),
    };

    /// <summary>This snapshot with <paramref name="change"/> applied to each of <paramref name="directions"/>.</summary>
    public LinkFaults With(FaultDirections directions, Func<DirectionFaults, DirectionFaults> change)
    {
        ArgumentNullException.ThrowIfNull(change);
        return this with
        {
            Upstream = directions.HasFlag(FaultDirections.Upstream) ? change(Upstream) : Upstream,
            Downstream = directions.HasFlag(FaultDirections.Downstream) ? change(Downstream) : Downstream,
        };
    }
}
