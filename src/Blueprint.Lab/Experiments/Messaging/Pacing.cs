using System.Diagnostics;

namespace Blueprint.Lab.Experiments.Messaging;

/// <summary>Open-loop load: sends at a fixed rate whatever the answers do, and latency percentiles.</summary>
internal static class Pacing
{
    /// <summary>Calls <paramref name="send"/> with 0, 1, 2… at <paramref name="ratePerSecond"/> until <paramref name="count"/> were sent.</summary>
    public static void AtRate(double ratePerSecond, long count, Action<long> send)
    {
        long started = Stopwatch.GetTimestamp();
        long sent = 0;
        while (sent < count)
        {
            long due = Math.Min(count, (long)(Stopwatch.GetElapsedTime(started).TotalSeconds * ratePerSecond) + 1);
            while (sent < due)
            {
                send(sent++);
            }

            if (sent < count)
            {
                // The pace, not a wait for an event: the next records are due within the millisecond.
                Thread.Sleep(1);
            }
        }
    }

    /// <summary>The <paramref name="quantile"/> (0 to 1) of <paramref name="values"/> by nearest rank; 0 for none.</summary>
    public static double Percentile(IReadOnlyCollection<double> values, double quantile)
    {
        if (values.Count == 0)
        {
            return 0;
        }

        double[] sorted = [.. values.Order()];
        int rank = (int)Math.Ceiling(quantile * sorted.Length);
        return sorted[Math.Clamp(rank - 1, 0, sorted.Length - 1)];
    }
}
