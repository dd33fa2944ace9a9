namespace Blueprint.Simulation.Raft.Checkers;

/// <summary>
/// Linearizable reads over a log-prefix state machine: a read that starts after a write was acknowledged, or after
/// another read returned, must see a state at least as far along the log (the state itself is checked by
/// <see cref="CommittedHistory"/>).
/// </summary>
public sealed class ReadChecker
{
    private long _ackedWriteIndex;
    private long _completedReadIndex;

    /// <summary>How many reads were checked.</summary>
    public long ReadsChecked { get; private set; }

    /// <summary>A write at <paramref name="index"/> was acknowledged to its client.</summary>
    /// <param name="index">The write's index.</param>
    public void OnWriteAcknowledged(long index) => _ackedWriteIndex = Math.Max(_ackedWriteIndex, index);

    /// <summary>A read starts; returns the lowest index its answer may reflect.</summary>
    /// <returns>The bound to pass to <see cref="OnReadServed"/>.</returns>
    public long OnReadStarted() => Math.Max(_ackedWriteIndex, _completedReadIndex);

    /// <summary>A read returned the state at <paramref name="appliedIndex"/>.</summary>
    /// <param name="node">The node that served it.</param>
    /// <param name="bound">What <see cref="OnReadStarted"/> returned when it started.</param>
    /// <param name="appliedIndex">The applied index of the state it returned.</param>
    /// <returns>The violation, or null.</returns>
    public string? OnReadServed(int node, long bound, long appliedIndex)
    {
        ReadsChecked++;
        _completedReadIndex = Math.Max(_completedReadIndex, appliedIndex);
        return appliedIndex >= bound ? null : $"stale read on n{node}: it returned the state at {appliedIndex}, but {bound} was acknowledged or read before it started";
    }
}
