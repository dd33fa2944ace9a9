namespace Blueprint.Core.Raft;

/// <summary>
/// <see cref="IRaftStorage"/> in memory: what the simulator keeps of a node across a crash. Writes are durable when
/// they return, as the contract asks.
/// </summary>
public sealed class MemoryRaftStorage : IRaftStorage
{
    private readonly List<LogEntry> _entries = [];

    /// <summary>Creates the storage of a node that starts with <paramref name="voters"/> as its configuration (empty for a node that waits to be added).</summary>
    /// <param name="voters">The bootstrap voter set.</param>
    public MemoryRaftStorage(IReadOnlyList<int> voters)
    {
        ArgumentNullException.ThrowIfNull(voters);
        Snapshot = new Snapshot(new SnapshotMetadata(0, 0, [.. voters.Order()]), ReadOnlyMemory<byte>.Empty);
    }

    /// <inheritdoc />
    public HardState HardState { get; private set; }

    /// <inheritdoc />
    public Snapshot Snapshot { get; private set; }

    /// <summary>The last stored index.</summary>
    public long LastIndex => Snapshot.Metadata.Index + _entries.Count;

    /// <inheritdoc />
    public IReadOnlyList<LogEntry> LoadEntries() => [.. _entries];

    /// <inheritdoc />
    public void SaveHardState(HardState hardState) => HardState = hardState;

    /// <inheritdoc />
    public void Append(IReadOnlyList<LogEntry> entries)
    {
        ArgumentNullException.ThrowIfNull(entries);
        if (entries.Count == 0)
        {
            return;
        }

        long first = entries[0].Index;
        long offset = Snapshot.Metadata.Index + 1;
        if (first < offset || first > LastIndex + 1)
        {
            throw new ArgumentException($"Entries from {first} do not fit a log holding {offset}..{LastIndex}.", nameof(entries));
        }

        int keep = (int)(first - offset);
        _entries.RemoveRange(keep, _entries.Count - keep);
        _entries.AddRange(entries);
    }

    /// <inheritdoc />
    public void SaveSnapshot(Snapshot snapshot)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        long index = snapshot.Metadata.Index;
        long offset = Snapshot.Metadata.Index + 1;
        if (index < offset)
        {
            return;
        }

        bool holdsLast = index >= offset && index <= LastIndex && _entries[(int)(index - offset)].Term == snapshot.Metadata.Term;
        if (holdsLast)
        {
            _entries.RemoveRange(0, (int)(index - offset + 1));
        }
        else
        {
            _entries.Clear();
        }

        Snapshot = snapshot;
    }
}
