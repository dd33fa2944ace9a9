namespace Blueprint.Simulation;

/// <summary>
/// The one seeded generator of a simulation run (SplitMix64): every choice of the run comes from it, so a seed
/// replays the run exactly. Written here rather than taken from <see cref="Random"/> so its sequence never changes
/// with the runtime.
/// </summary>
public sealed class SimRandom(ulong seed)
{
    private ulong _state = seed;

    /// <summary>The next 64 random bits.</summary>
    /// <returns>A uniformly distributed value.</returns>
    public ulong NextUInt64()
    {
        ulong z = _state += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    /// <summary>A value in [0, <paramref name="maxExclusive"/>).</summary>
    /// <param name="maxExclusive">The bound, at least 1.</param>
    /// <returns>The value.</returns>
    public int Next(int maxExclusive)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxExclusive, 1);
        return (int)(NextUInt64() % (ulong)maxExclusive);
    }

    /// <summary>A value in [<paramref name="min"/>, <paramref name="maxExclusive"/>).</summary>
    /// <param name="min">The lowest value.</param>
    /// <param name="maxExclusive">The bound, above <paramref name="min"/>.</param>
    /// <returns>The value.</returns>
    public int Next(int min, int maxExclusive) => min + Next(maxExclusive - min);

    /// <summary>A value in [0, 1).</summary>
    /// <returns>The value.</returns>
    public double NextDouble() => (NextUInt64() >> 11) * (1.0 / (1UL << 53));

    /// <summary>True with probability <paramref name="probability"/>.</summary>
    /// <param name="probability">From 0 to 1.</param>
    /// <returns>The outcome.</returns>
    public bool Chance(double probability) => NextDouble() < probability;

    /// <summary>A seed for a node's own <see cref="Random"/>, drawn from this generator.</summary>
    /// <returns>The seed.</returns>
    public int NextSeed() => (int)(NextUInt64() & int.MaxValue);
}
