namespace Blueprint.Core.Clocks;

/// <summary>
/// A hybrid logical clock (Kulkarni et al., "Logical Physical Clocks and Consistent Snapshots in Globally Distributed
/// Databases", 2014): timestamps that follow physical time closely, never go backwards on one node, and order every
/// event after the events it has seen (<see cref="Observe"/>) even when clocks are skewed. A timestamp packs the
/// physical part (Unix milliseconds, 48 bits, good until the year 10889) over a 16-bit logical counter, so timestamps
/// compare as plain integers.
/// </summary>
/// <remarks>Thread-safe and lock-free.</remarks>
public sealed class HybridLogicalClock
{
    private const int LogicalBits = 16;
    private const long LogicalMask = (1L << LogicalBits) - 1;

    private readonly TimeProvider _time;
    private long _last;

    /// <summary>Creates a clock reading <paramref name="time"/>.</summary>
    public HybridLogicalClock(TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(time);
        _time = time;
    }

    /// <summary>The last timestamp this clock issued or observed.</summary>
    public long Last => Volatile.Read(ref _last);

    /// <summary>A timestamp for a local event: greater than every timestamp this clock issued or observed before.</summary>
    public long Now() => Advance(0);

    /// <summary>Takes in a timestamp from another node (a message, a replica's version), so later local events order after it.</summary>
    /// <returns>A timestamp greater than both <paramref name="remote"/> and everything before on this clock.</returns>
    public long Observe(long remote) => Advance(remote);

    /// <summary>The physical part of a timestamp (Unix milliseconds).</summary>
    public static long PhysicalMilliseconds(long timestamp) => timestamp >> LogicalBits;

    /// <summary>The logical counter of a timestamp.</summary>
    public static int Logical(long timestamp) => (int)(timestamp & LogicalMask);

    /// <summary>The timestamp of physical time <paramref name="unixMilliseconds"/> with counter <paramref name="logical"/>.</summary>
    public static long Pack(long unixMilliseconds, int logical) => (unixMilliseconds << LogicalBits) | (logical & LogicalMask);

    private long Advance(long floor)
    {
        var physical = Pack(_time.GetUtcNow().ToUnixTimeMilliseconds(), 0);
        while (true)
        {
            var last = Volatile.Read(ref _last);
            // The next value is above the last one, the remote one and the physical clock; a counter that would overflow
            // carries into the physical part, which then runs slightly ahead until real time catches up.
            var next = Math.Max(Math.Max(last, floor) + 1, physical);
            if (Interlocked.CompareExchange(ref _last, next, last) == last)
            {
                return next;
            }
        }
    }
}
