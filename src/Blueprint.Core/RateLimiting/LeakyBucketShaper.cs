namespace Blueprint.Core.RateLimiting;

/// <summary>
/// Leaky bucket as a queue, i.e. a traffic shaper: requests join a FIFO of at most <see cref="QueueCapacityPermits"/>
/// permits that drains at one permit per <see cref="TicksPerPermit"/>. An admitted request learns its
/// <see cref="RateLimitDecision.DelayTicks"/>: when it reaches the head. Output never exceeds the rate: in any
/// interval of length <c>t</c> at most <c>⌊t / TicksPerPermit⌋ + 1</c> permits start.
/// </summary>
/// <param name="QueueCapacityPermits">Permits that may wait, including the one being served.</param>
/// <param name="TicksPerPermit">The service time per permit.</param>
public sealed record LeakyBucketShaper(long QueueCapacityPermits, long TicksPerPermit) : IRateLimitAlgorithm<LeakyBucketShaperState>
{
    /// <summary>Gets the permits that may wait.</summary>
    public long QueueCapacityPermits { get; } = Checked(QueueCapacityPermits, TicksPerPermit);

    /// <summary>Gets the longest backlog, <c>QueueCapacityPermits × TicksPerPermit</c>.</summary>
    public long BacklogTicksMax => QueueCapacityPermits * TicksPerPermit;

    /// <inheritdoc/>
    public LeakyBucketShaperState CreateState(long nowTicks) => new(nowTicks, nowTicks);

    /// <inheritdoc/>
    public RateLimitDecision Decide(ref LeakyBucketShaperState state, long nowTicks, int permits)
    {
        Guard.Permits(permits, QueueCapacityPermits);

        // Measured from an earlier time the backlog would look longer than it is, so act on the latest time seen.
        long now = Math.Max(nowTicks, state.LastTicks);
        long start = Math.Max(state.NextFreeTicks, now);
        long backlog = start - now;
        long work = permits * TicksPerPermit;
        bool allowed = backlog + work <= BacklogTicksMax;
        long finalBacklog = allowed ? backlog + work : backlog;
        state = new LeakyBucketShaperState(allowed ? start + work : state.NextFreeTicks, now);

        return new RateLimitDecision(
            allowed,
            (BacklogTicksMax - finalBacklog) / TicksPerPermit,
            allowed ? 0 : backlog + work - BacklogTicksMax,
            finalBacklog,
            allowed ? backlog : 0);
    }

    private static long Checked(long queueCapacityPermits, long ticksPerPermit)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(queueCapacityPermits, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(ticksPerPermit, 1);
        Guard.Product(queueCapacityPermits, ticksPerPermit, nameof(QueueCapacityPermits));
        return queueCapacityPermits;
    }
}

/// <summary>The state of a <see cref="LeakyBucketShaper"/>.</summary>
/// <param name="NextFreeTicks">When the queue will have drained everything admitted so far.</param>
/// <param name="LastTicks">The latest time a decision was made at; an earlier timestamp is treated as this one.</param>
public readonly record struct LeakyBucketShaperState(long NextFreeTicks, long LastTicks);
