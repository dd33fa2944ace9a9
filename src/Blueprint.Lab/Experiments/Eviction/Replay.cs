namespace Blueprint.Lab.Experiments.Eviction;

/// <summary>What one policy scored on one trace.</summary>
/// <param name="HitRatio">Hits over all accesses, the cold start included.</param>
/// <param name="RecurringHitRatio">Hits over the accesses to recurring keys only (scan keys left out).</param>
internal readonly record struct ReplayResult(double HitRatio, double RecurringHitRatio);

/// <summary>Replays a trace through a policy, the access's index being its time.</summary>
internal static class Replay
{
    public static ReplayResult Run(IEvictionPolicy policy, AccessTrace trace)
    {
        ArgumentNullException.ThrowIfNull(policy);
        ArgumentNullException.ThrowIfNull(trace);
        int[] keys = trace.Keys;
        long hits = 0;
        long recurring = 0;
        long recurringHits = 0;
        for (int i = 0; i < keys.Length; i++)
        {
            bool hit = policy.Access(keys[i], i);
            hits += hit ? 1 : 0;
            if (keys[i] < trace.DistinctKeys)
            {
                recurring++;
                recurringHits += hit ? 1 : 0;
            }
        }

        return new(hits / (double)keys.Length, recurring == 0 ? 0 : recurringHits / (double)recurring);
    }

    /// <summary>Replays <paramref name="trace"/> through an expiry-only cache with <paramref name="ttl"/>.</summary>
    /// <returns>The hit ratio, and the mean (over the second half, past the cold start) and peak count of cached keys.</returns>
    public static (ReplayResult Result, double MeanResident, int PeakResident) Ttl(AccessTrace trace, long ttl)
    {
        ArgumentNullException.ThrowIfNull(trace);
        TtlPolicy policy = new(ttl, measureResidentFrom: trace.Keys.Length / 2);
        ReplayResult result = Run(policy, trace);
        return (result, policy.MeanResident, policy.PeakResident);
    }

    /// <summary>
    /// The TTL that gives an expiry-only cache the same mean memory as a bounded cache of <paramref name="capacity"/>
    /// keys (by Little's law, mean resident = admissions per access × TTL; the admissions depend on the TTL, so it is
    /// found by bisection on a log scale, to within <paramref name="relativeTolerance"/> of the capacity).
    /// </summary>
    public static long FairTtl(AccessTrace trace, int capacity, double relativeTolerance = 0.02)
    {
        ArgumentNullException.ThrowIfNull(trace);
        long low = 1;
        long high = trace.Keys.Length;
        const int StepsMax = 40;
        for (int step = 0; step < StepsMax && high - low > 1; step++)
        {
            long middle = (long)Math.Round(Math.Sqrt(low * (double)high));
            middle = Math.Clamp(middle, low + 1, high - 1);
            double resident = Ttl(trace, middle).MeanResident;
            if (Math.Abs(resident - capacity) <= capacity * relativeTolerance)
            {
                return middle;
            }

            if (resident < capacity)
            {
                low = middle;
            }
            else
            {
                high = middle;
            }
        }

        return Math.Abs(Ttl(trace, low).MeanResident - capacity) <= Math.Abs(Ttl(trace, high).MeanResident - capacity) ? low : high;
    }
}
