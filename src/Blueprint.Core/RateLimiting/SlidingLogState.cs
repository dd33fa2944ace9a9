namespace Blueprint.Core.RateLimiting;

/// <summary>
/// The state of a <see cref="SlidingLog"/>: a ring buffer of the timestamps of granted permits, oldest first, and
/// the latest time a decision was made at. Serialize it as the list from <see cref="ToArray"/> with
/// <see cref="LastTicks"/>, and restore it with the list constructor.
/// </summary>
/// <remarks>The buffer starts small and doubles as the log fills, up to <see cref="CapacityPermits"/> entries.</remarks>
public sealed class SlidingLogState
{
    /// <summary>The buffer length a new log starts with, so an idle or lightly used key costs little memory.</summary>
    private const int InitialBufferLength = 16;

    private long[] _timestamps;
    private int _head;

    /// <summary>Creates an empty log for a limit of <paramref name="capacityPermits"/>.</summary>
    /// <param name="capacityPermits">The limit, at most <see cref="SlidingLog.LimitPermitsMax"/>; the log never holds more entries.</param>
    public SlidingLogState(int capacityPermits)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacityPermits, 1);
        ThrowIfAboveLimitPermitsMax(capacityPermits, nameof(capacityPermits));
        CapacityPermits = capacityPermits;
        _timestamps = new long[Math.Min(capacityPermits, InitialBufferLength)];
        LastTicks = long.MinValue;
    }

    /// <summary>Restores a log from its timestamps; the newest one counts as the latest time seen.</summary>
    /// <param name="capacityPermits">The limit.</param>
    /// <param name="timestamps">The timestamps, oldest first; at most <paramref name="capacityPermits"/>.</param>
    public SlidingLogState(int capacityPermits, IEnumerable<long> timestamps)
        : this(capacityPermits)
    {
        ArgumentNullException.ThrowIfNull(timestamps);
        foreach (long timestamp in timestamps)
        {
            if (Count == capacityPermits)
            {
                throw new ArgumentException($"More than {capacityPermits} timestamps.", nameof(timestamps));
            }

            if (Count > 0 && timestamp < Newest)
            {
                throw new ArgumentException("Timestamps must be in non-decreasing order.", nameof(timestamps));
            }

            Append(timestamp);
        }

        LastTicks = Count > 0 ? Newest : long.MinValue;
    }

    /// <summary>Restores a log from its timestamps and the latest time a decision was made at.</summary>
    /// <param name="capacityPermits">The limit.</param>
    /// <param name="timestamps">The timestamps, oldest first; at most <paramref name="capacityPermits"/>.</param>
    /// <param name="lastTicks">The saved <see cref="LastTicks"/>; not earlier than the newest timestamp.</param>
    public SlidingLogState(int capacityPermits, IEnumerable<long> timestamps, long lastTicks)
        : this(capacityPermits, timestamps)
    {
        if (Count > 0 && lastTicks < Newest)
        {
            throw new ArgumentException($"The last time seen, {lastTicks}, is earlier than the newest timestamp {Newest}.", nameof(lastTicks));
        }

        LastTicks = lastTicks;
    }

    /// <summary>Gets the limit this log is sized for.</summary>
    public int CapacityPermits { get; }

    /// <summary>Gets the number of timestamps held.</summary>
    public int Count { get; private set; }

    /// <summary>Gets the latest time a decision was made at (<see cref="long.MinValue"/> before any); an earlier timestamp is treated as this one.</summary>
    public long LastTicks { get; internal set; }

    /// <summary>Returns the timestamps, oldest first.</summary>
    /// <returns>A copy of the log.</returns>
    public long[] ToArray()
    {
        long[] result = new long[Count];
        for (int i = 0; i < Count; i++)
        {
            result[i] = At(i);
        }

        return result;
    }

    internal long Newest => At(Count - 1);

    internal static void ThrowIfAboveLimitPermitsMax(int limitPermits, string paramName)
    {
        if (limitPermits > SlidingLog.LimitPermitsMax)
        {
            throw new ArgumentOutOfRangeException(paramName, limitPermits, $"A sliding log of {limitPermits} permits exceeds LimitPermitsMax ({SlidingLog.LimitPermitsMax}); use a SlidingWindowCounter for larger limits.");
        }
    }

    internal long At(int index) => _timestamps[(_head + index) % _timestamps.Length];

    internal void Append(long timestamp)
    {
        if (Count == CapacityPermits)
        {
            throw new InvalidOperationException("The sliding log is full; the algorithm should have denied the request.");
        }

        if (Count == _timestamps.Length)
        {
            long[] grown = new long[Math.Min(_timestamps.Length * 2L, CapacityPermits)];
            for (int i = 0; i < Count; i++)
            {
                grown[i] = At(i);
            }

            _timestamps = grown;
            _head = 0;
        }

        _timestamps[(_head + Count) % _timestamps.Length] = timestamp;
        Count++;
    }

    internal void ExpireThrough(long cutoffTicks)
    {
        while (Count > 0 && _timestamps[_head] <= cutoffTicks)
        {
            _head = (_head + 1) % _timestamps.Length;
            Count--;
        }
    }

    /// <summary>Returns an independent copy, so a caller can roll a decision back.</summary>
    internal SlidingLogState Clone()
    {
        SlidingLogState copy = new(CapacityPermits) { LastTicks = LastTicks };
        for (int i = 0; i < Count; i++)
        {
            copy.Append(At(i));
        }

        return copy;
    }
}
