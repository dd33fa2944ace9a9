namespace Blueprint.Cache.Patterns;

/// <summary>What a write does when the write-behind queue is full.</summary>
public enum WriteBehindFullPolicy
{
    /// <summary>The write fails at once with <see cref="WriteBehindRejectedException"/> (and its cache entry is deleted): the caller sees the overload.</summary>
    Reject,

    /// <summary>The write waits for room (back-pressure), up to the caller's cancellation.</summary>
    Wait,
}

/// <summary>The limits and policies of a <see cref="WriteBehind{TKey, TValue}"/>; every one is bounded.</summary>
public sealed record WriteBehindOptions
{
    /// <summary>The most keys waiting for the database, not counting the batch being written. <value>1–1000000; default 10000.</value></summary>
    public int QueueCapacity { get; init; } = 10_000;

    /// <summary>The most records in one database transaction; at most <see cref="QueueCapacity"/>. <value>1–10000; default 100.</value></summary>
    public int BatchSizeMax { get; init; } = 100;

    /// <summary>
    /// How long the oldest queued write waits for more before a batch is written anyway; a full batch is written at
    /// once. <value>1 ms – 1 hour; default 1 s.</value>
    /// </summary>
    public TimeSpan FlushDelayMax { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>What a write does when the queue is full. <value>Default <see cref="WriteBehindFullPolicy.Reject"/>.</value></summary>
    public WriteBehindFullPolicy FullPolicy { get; init; } = WriteBehindFullPolicy.Reject;

    /// <summary>How many times a batch is tried before it is dead-lettered, the first try included. <value>1–20; default 5.</value></summary>
    public int WriteAttemptsMax { get; init; } = 5;

    /// <summary>The pause after the first failed try; it doubles after each. <value>1 ms – 1 minute; default 100 ms.</value></summary>
    public TimeSpan RetryDelayFirst { get; init; } = TimeSpan.FromMilliseconds(100);

    /// <summary>The longest pause between two tries. <value>At least <see cref="RetryDelayFirst"/>, at most 10 minutes; default 5 s.</value></summary>
    public TimeSpan RetryDelayMax { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>How many dead letters are kept for inspection (older ones are dropped; all are counted). <value>0–10000; default 100.</value></summary>
    public int DeadLettersKept { get; init; } = 100;

    /// <summary>Throws when a limit is out of its range: a programmer's error (the module validates its options at start).</summary>
    public void Validate()
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(QueueCapacity, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(QueueCapacity, 1_000_000);
        ArgumentOutOfRangeException.ThrowIfLessThan(BatchSizeMax, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(BatchSizeMax, Math.Min(10_000, QueueCapacity));
        ArgumentOutOfRangeException.ThrowIfLessThan(FlushDelayMax, TimeSpan.FromMilliseconds(1));
        ArgumentOutOfRangeException.ThrowIfGreaterThan(FlushDelayMax, TimeSpan.FromHours(1));
        ArgumentOutOfRangeException.ThrowIfLessThan(WriteAttemptsMax, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(WriteAttemptsMax, 20);
        ArgumentOutOfRangeException.ThrowIfLessThan(RetryDelayFirst, TimeSpan.FromMilliseconds(1));
        ArgumentOutOfRangeException.ThrowIfLessThan(RetryDelayMax, RetryDelayFirst);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(RetryDelayMax, TimeSpan.FromMinutes(10));
        ArgumentOutOfRangeException.ThrowIfLessThan(DeadLettersKept, 0);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(DeadLettersKept, 10_000);
        if (!Enum.IsDefined(FullPolicy))
        {
            throw new ArgumentOutOfRangeException(nameof(FullPolicy), FullPolicy, "must be Reject or Wait");
        }
    }
}

/// <summary>The write-behind's own counters at one moment.</summary>
/// <param name="QueueDepth">Keys queued, not yet taken into a batch.</param>
/// <param name="InFlight">Records in the batch being written (or retried) now.</param>
/// <param name="Accepted">Writes acknowledged (coalesced ones included).</param>
/// <param name="Coalesced">Writes folded into a queued write of the same key (no new slot, one database write for both).</param>
/// <param name="Rejected">Writes refused because the queue was full or the write-behind was stopping.</param>
/// <param name="Flushed">Records written to the database.</param>
/// <param name="Batches">Batches written (each one transaction).</param>
/// <param name="Retries">Failed tries of a batch that were tried again.</param>
/// <param name="DeadLettered">Records given up on after the last try: acknowledged but never written.</param>
public sealed record WriteBehindStats(int QueueDepth, int InFlight, long Accepted, long Coalesced, long Rejected, long Flushed, long Batches, long Retries, long DeadLettered);

/// <summary>A record the write-behind gave up on.</summary>
/// <param name="Write">The write (a null value is a delete).</param>
/// <param name="Error">The last error.</param>
/// <param name="At">When it was given up on.</param>
public sealed record DeadLetter<TKey, TValue>(RecordWrite<TKey, TValue> Write, string Error, DateTimeOffset At)
    where TValue : class;

/// <summary>A write was not acknowledged because the write-behind queue was full or is stopping: nothing of it was kept.</summary>
public sealed class WriteBehindRejectedException : Exception
{
    /// <summary>Creates the exception.</summary>
    public WriteBehindRejectedException()
    {
    }

    /// <summary>Creates the exception with the reason.</summary>
    public WriteBehindRejectedException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with the reason and its cause.</summary>
    public WriteBehindRejectedException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
