namespace Blueprint.Core.RateLimiting;

/// <summary>
/// Leaky bucket as a meter (Turner, "New directions in communications", 1986): each request pours water into a
/// bucket of <see cref="CapacityPermits"/> that leaks one permit per <see cref="TicksPerPermit"/>; a request that
/// would overflow is denied. As a policer it is the mirror image of a <see cref="TokenBucket"/> (the level is the
/// tokens spent), so it also admits bursts up to its capacity; to smooth output use <see cref="LeakyBucketShaper"/>.
/// </summary>
/// <param name="CapacityPermits">The bucket size.</param>
/// <param name="TicksPerPermit">The leak interval per permit.</param>
public sealed record LeakyBucketMeter(long CapacityPermits, long TicksPerPermit) : IRateLimitAlgorithm<LeakyBucketMeterState>
{
    /// <summary>Gets the bucket size.</summary>
    public long CapacityPermits { get; } = Checked(CapacityPermits, TicksPerPermit);

    /// <summary>Gets the full-bucket level in ticks, <c>CapacityPermits × TicksPerPermit</c>.</summary>
    public long LevelTicksMax => CapacityPermits * TicksPerPermit;

    /// <inheritdoc/>
    public LeakyBucketMeterState CreateState(long nowTicks) => new(0, nowTicks);

    /// <inheritdoc/>
    public RateLimitDecision Decide(ref LeakyBucketMeterState state, long nowTicks, int permits)
    {
        Guard.Permits(permits, CapacityPermits);
        long now = Math.Max(nowTicks, state.LastTicks);
        long level = Math.Max(0, state.LevelTicks - (now - state.LastTicks));
        long poured = permits * TicksPerPermit;
        bool allowed = level + poured <= LevelTicksMax;
        if (allowed)
        {
            level += poured;
        }

        state = new LeakyBucketMeterState(level, now);
        return new RateLimitDecision(allowed, (LevelTicksMax - level) / TicksPerPermit, allowed ? 0 : level + poured - LevelTicksMax, level);
    }

    private static long Checked(long capacityPermits, long ticksPerPermit)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacityPermits, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(ticksPerPermit, 1);
        Guard.Product(capacityPermits, ticksPerPermit, nameof(CapacityPermits));
        return capacityPermits;
    }
}

/// <summary>The state of a <see cref="LeakyBucketMeter"/>.</summary>
/// <param name="LevelTicks">Water in the bucket, as ticks of leaking (permits × TicksPerPermit).</param>
/// <param name="LastTicks">The time of the last decision.</param>
public readonly record struct LeakyBucketMeterState(long LevelTicks, long LastTicks);
