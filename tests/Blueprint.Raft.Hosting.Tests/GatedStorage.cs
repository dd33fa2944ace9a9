using Blueprint.Core.Raft;

namespace Blueprint.Raft.Hosting.Tests;

/// <summary>
/// Memory storage whose writes wait while the gate is closed, as a slow disk would: a test closes it to hold a node's
/// driver loop inside its own write and watch what the rest of the cluster does meanwhile.
/// </summary>
internal sealed class GatedStorage(MemoryRaftStorage inner) : IRaftStorage
{
    private readonly object _gate = new();
    private bool _closed;

    public MemoryRaftStorage Inner { get; } = inner;

    /// <summary>Writes that found the gate closed and are waiting.</summary>
    public int Waiting => Volatile.Read(ref _waiting);

    private int _waiting;

    public HardState HardState => Inner.HardState;

    public Snapshot Snapshot => Inner.Snapshot;

    public void Close()
    {
        lock (_gate)
        {
            _closed = true;
        }
    }

    public void Open()
    {
        lock (_gate)
        {
            _closed = false;
            Monitor.PulseAll(_gate);
        }
    }

    public IReadOnlyList<LogEntry> LoadEntries() => Inner.LoadEntries();

    public void SaveHardState(HardState hardState)
    {
        Pass();
        Inner.SaveHardState(hardState);
    }

    public void Append(IReadOnlyList<LogEntry> entries)
    {
        Pass();
        Inner.Append(entries);
    }

    public void SaveSnapshot(Snapshot snapshot)
    {
        Pass();
        Inner.SaveSnapshot(snapshot);
    }

    private void Pass()
    {
        lock (_gate)
        {
            if (!_closed)
            {
                return;
            }

            Interlocked.Increment(ref _waiting);
            Monitor.Wait(_gate, Wait.Deadline);
            Interlocked.Decrement(ref _waiting);
        }
    }
}
