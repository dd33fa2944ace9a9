using System.Diagnostics;
using HdrHistogram;

namespace Blueprint.Bench;

/// <summary>
/// The measured window of a run (<see cref="Stopwatch"/> timestamps, none until <see cref="Set"/>) and the latencies
/// recorded in it, in microseconds, safe to record from many threads.
/// </summary>
internal sealed class MeasuredWindow
{
    /// <summary>The longest latency recorded, in microseconds (longer ones are clamped to it).</summary>
    public const long LatencyMicrosecondsMax = 60_000_000;

    private readonly LongHistogram _latency = NewHistogram();
    private readonly Lock _gate = new();
    private long _from = long.MaxValue;
    private long _to = long.MaxValue;

    /// <summary>An empty histogram for latencies in microseconds.</summary>
    public static LongHistogram NewHistogram() => new(LatencyMicrosecondsMax, 3);

    /// <summary>Microseconds from <paramref name="from"/> to <paramref name="to"/>, clamped to <see cref="LatencyMicrosecondsMax"/>.</summary>
    public static long Microseconds(long from, long to) =>
        Math.Min(LatencyMicrosecondsMax, Stopwatch.GetElapsedTime(from, to).Ticks / TimeSpan.TicksPerMicrosecond);

    /// <summary>Sets the window.</summary>
    public void Set(long from, long to)
    {
        Volatile.Write(ref _to, to);
        Volatile.Write(ref _from, from);
    }

    /// <summary>Whether <paramref name="timestamp"/> falls in the window.</summary>
    public bool Contains(long timestamp) => timestamp >= Volatile.Read(ref _from) && timestamp < Volatile.Read(ref _to);

    /// <summary>Records the latency from <paramref name="sent"/> to <paramref name="now"/>.</summary>
    public void Record(long sent, long now)
    {
        var microseconds = Microseconds(sent, now);
        lock (_gate)
        {
            _latency.RecordValue(microseconds);
        }
    }

    /// <summary>Adds the recorded latencies to <paramref name="total"/>.</summary>
    public void AddLatencyTo(LongHistogram total)
    {
        ArgumentNullException.ThrowIfNull(total);
        lock (_gate)
        {
            total.Add(_latency);
        }
    }
}
