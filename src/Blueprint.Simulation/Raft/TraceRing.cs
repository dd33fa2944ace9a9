using System.Globalization;
using System.Text;

namespace Blueprint.Simulation.Raft;

/// <summary>What happened at one step of a simulation, for the failure trace.</summary>
/// <param name="Step">The step.</param>
/// <param name="Kind">What happened, e.g. "deliver", "crash", "leader".</param>
/// <param name="Node">The node concerned.</param>
/// <param name="Other">The other node, or 0.</param>
/// <param name="A">A detail: a term, an index, a message type.</param>
/// <param name="B">A second detail.</param>
public readonly record struct TraceEvent(long Step, string Kind, int Node, int Other, long A, long B)
{
    /// <summary>One line for a report.</summary>
    /// <returns>The line.</returns>
    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"step {Step,6}: {Kind} n{Node}{(Other != 0 ? $"->n{Other}" : "")} {A} {B}");
}

/// <summary>
/// The last <see cref="CapacityMax"/> events of a run (older ones are overwritten) and a hash of all of them, which
/// two runs of one seed must share.
/// </summary>
public sealed class TraceRing
{
    /// <summary>Events kept for a failure report.</summary>
    public const int CapacityMax = 64;

    private readonly TraceEvent[] _events = new TraceEvent[CapacityMax];
    private long _count;

    /// <summary>A hash (FNV-1a) of every event recorded, in order.</summary>
    public ulong Hash { get; private set; } = 14695981039346656037UL;

    /// <summary>How many events were recorded.</summary>
    public long Count => _count;

    /// <summary>Records an event.</summary>
    /// <param name="traceEvent">The event.</param>
    public void Add(TraceEvent traceEvent)
    {
        _events[_count % CapacityMax] = traceEvent;
        _count++;
        ulong hash = Hash;
        hash = Mix(hash, (ulong)traceEvent.Step);
        hash = Mix(hash, (ulong)traceEvent.Kind.Length ^ ((ulong)traceEvent.Kind[0] << 8));
        hash = Mix(hash, (ulong)(uint)traceEvent.Node | ((ulong)(uint)traceEvent.Other << 32));
        hash = Mix(hash, (ulong)traceEvent.A);
        Hash = Mix(hash, (ulong)traceEvent.B);
    }

    /// <summary>The kept events, oldest first, one per line.</summary>
    /// <returns>The trace.</returns>
    public IReadOnlyList<string> Lines()
    {
        long first = Math.Max(0, _count - CapacityMax);
        var lines = new List<string>();
        for (long i = first; i < _count; i++)
        {
            lines.Add(_events[i % CapacityMax].ToString());
        }

        return lines;
    }

    /// <summary>The trace as one text block.</summary>
    /// <returns>The text.</returns>
    public override string ToString() => new StringBuilder().AppendJoin('\n', Lines()).ToString();

    private static ulong Mix(ulong hash, ulong value) => (hash ^ value) * 1099511628211UL;
}
