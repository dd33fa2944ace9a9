namespace Blueprint.Lab.Experiments;

/// <summary>Arrival traces and window counting shared by the rate-limit experiments. Times are TimeSpan ticks.</summary>
internal static class Trace
{
    public const long TicksPerSecond = TimeSpan.TicksPerSecond;

    /// <summary>Poisson arrivals at <paramref name="ratePerSecond"/> over <paramref name="seconds"/>, plus instantaneous bursts.</summary>
    public static long[] Bursty(Random random, double ratePerSecond, int seconds, IEnumerable<(double AtSecond, int Count)> bursts)
    {
        List<long> arrivals = [];
        double t = 0;
        while (true)
        {
            t += -Math.Log(1 - random.NextDouble()) / ratePerSecond;
            if (t >= seconds)
            {
                break;
            }

            arrivals.Add((long)(t * TicksPerSecond));
        }

        foreach ((double atSecond, int count) in bursts)
        {
            // A burst arrives within one millisecond.
            for (int i = 0; i < count; i++)
            {
                arrivals.Add((long)(atSecond * TicksPerSecond) + (i * TimeSpan.TicksPerMillisecond / count));
            }
        }

        arrivals.Sort();
        return [.. arrivals];
    }

    /// <summary>The most events in any half-open interval <c>[t, t + length)</c>, for sorted <paramref name="times"/>.</summary>
    public static int MaxInWindow(IReadOnlyList<long> times, long lengthTicks)
    {
        int best = 0;
        int start = 0;
        for (int end = 0; end < times.Count; end++)
        {
            while (times[end] - times[start] >= lengthTicks)
            {
                start++;
            }

            best = Math.Max(best, end - start + 1);
        }

        return best;
    }

    /// <summary>Counts sorted <paramref name="times"/> into bins of <paramref name="binTicks"/> over <paramref name="durationTicks"/>.</summary>
    public static double[] Histogram(IEnumerable<long> times, long binTicks, long durationTicks)
    {
        double[] bins = new double[(int)((durationTicks + binTicks - 1) / binTicks)];
        foreach (long t in times)
        {
            int bin = (int)(t / binTicks);
            if (bin < bins.Length)
            {
                bins[bin]++;
            }
        }

        return bins;
    }
}
