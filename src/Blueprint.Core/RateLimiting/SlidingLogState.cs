namespace Blueprint.Core.RateLimiting;

/// <summary>
/// The state of a <see cref="SlidingLog"/>: a ring buffer of the timestamps of granted permits, oldest first.
/// Serialize it as the list from <see cref="ToArray"/> and restore it with the list constructor.
/// </summary>
public sealed class SlidingLogState
{
    private readonly long[] _timestamps;
    private int _head;

    /// <summary>Creates an empty log for a limit of <paramref name="capacityPermits"/>.</summary>
    /// <param name="capacityPermits">The limit; the log never holds more entries.</param>
    public SlidingLogState(int capacityPermits)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacityPermits, 1);
        _timestamps = new long[capacityPermits];
    }

    /// <summary>Restores a log from its timestamps.</summary>
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
    }

    /// <summary>Gets the limit this log is sized for.</summary>
    public int CapacityPermits => _timestamps.Length;

    /// <summary>Gets the number of timestamps held.</summary>
    public int Count { get; private set; }

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

    internal long At(int index) => _timestamps[(_head + index) % _timestamps.Length];

    internal void Append(long timestamp)
    {
        if (Count == _timestamps.Length)
        {
            throw new InvalidOperationException("The sliding log is full; the algorithm should have denied the request.");
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
}
