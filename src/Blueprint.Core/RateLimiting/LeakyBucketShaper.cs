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
    public LeakyBucketShaperState CreateState(long nowTicks) => new(nowTicks);

    /// <inheritdoc/>
    public RateLimitDecision Decide(ref LeakyBucketShaperState state, long nowTicks, int permits)
    {
        Guard.Permits(permits, QueueCapacityPermits);
        long start = Math.Max(state.NextFreeTicks, nowTicks);
        long backlog = start - nowTicks;
        long work = permits * TicksPerPermit;
        bool allowed = backlog + work <= BacklogTicksMax;
        long finalBacklog = backlog;
        if (allowed)
        {
            state = new LeakyBucketShaperState(start + work);
            finalBacklog = backlog + work;
        }

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
public readonly record struct LeakyBucketShaperState(long NextFreeTicks);
