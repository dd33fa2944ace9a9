using System.Buffers.Binary;
using Blueprint.Core.Raft;
using Blueprint.Simulation.Raft.Checkers;

namespace Blueprint.Simulation.Raft;

/// <summary>
/// One node of the simulated cluster: its storage (which survives a crash), its Raft core and state machine (which
/// do not), its clock rate and its clients' pending requests.
/// </summary>
internal sealed class SimNode(int id, MemoryRaftStorage storage, double tickRate) : ILogView
{
    public int Id { get; } = id;

    public MemoryRaftStorage Storage { get; } = storage;

    /// <summary>Ticks per step: nodes' clocks run at slightly different rates.</summary>
    public double TickRate { get; } = tickRate;

    public double TickCredit { get; set; }

    public RaftNode? Raft { get; set; }

    public bool IsUp => Raft is not null;

    public long DownUntil { get; set; }

    /// <summary>Crash once the next Ready is persisted, before its messages go out or its entries apply.</summary>
    public bool CrashAfterPersist { get; set; }

    /// <summary>The state machine: a hash chain over every applied entry, so equal hashes mean equal applied prefixes.</summary>
    public long AppliedIndex { get; set; }

    public ulong StateHash { get; set; }

    /// <summary>Writes this node accepted as leader, by index, until they apply here.</summary>
    public Dictionary<long, PendingWrite> Writes { get; } = [];

    /// <summary>Reads asked of this node, by request id, with the bound of the read checker.</summary>
    public Dictionary<long, long> Reads { get; } = [];

    /// <summary>Reads with a read index, waiting for the state machine to reach it.</summary>
    public List<ConfirmedRead> ConfirmedReads { get; } = [];

    long ILogView.SnapshotIndex => Raft!.SnapshotIndex;

    long ILogView.TermAt(long index) => Raft!.TermAt(index);

    public void LoseVolatileState()
    {
        Raft = null;
        CrashAfterPersist = false;
        Writes.Clear();
        Reads.Clear();
        ConfirmedReads.Clear();
        TickCredit = 0;
    }

    public void RestoreStateMachine(Snapshot snapshot)
    {
        AppliedIndex = snapshot.Metadata.Index;
        StateHash = snapshot.Data.Length == sizeof(ulong) ? BinaryPrimitives.ReadUInt64LittleEndian(snapshot.Data.Span) : 0;
    }

    public byte[] EncodeStateMachine()
    {
        var bytes = new byte[sizeof(ulong)];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, StateHash);
        return bytes;
    }

    public void Apply(in LogEntry entry, ulong dataHash)
    {
        AppliedIndex = entry.Index;
        StateHash = Hashes.Combine(Hashes.Combine(StateHash, (ulong)entry.Index), Hashes.Combine((ulong)entry.Term, dataHash));
    }
}

/// <summary>A write a leader accepted, waiting to apply on that leader.</summary>
internal readonly record struct PendingWrite(long Term, long Command, long ProposedAt);

/// <summary>A read with its read index and the checker's bound.</summary>
internal readonly record struct ConfirmedRead(long RequestId, long Index, long Bound);

/// <summary>The hashes the checkers compare.</summary>
internal static class Hashes
{
    public static ulong Combine(ulong hash, ulong value)
    {
        ulong z = (hash ^ value) + 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    public static ulong Entry(in LogEntry entry)
    {
        ulong hash = (ulong)entry.Kind + 1;
        foreach (byte b in entry.Data.Span)
        {
            hash = (hash ^ b) * 1099511628211UL;
        }

        return hash;
    }
}
