using Blueprint.Core.RateLimiting;

namespace Blueprint.Core.Tests.RateLimiting;

/// <summary>Random arrival traces and helpers that replay them through an algorithm.</summary>
internal static class Traces
{
    /// <summary>Traces of (time, permits), non-decreasing in time, with gaps up to 40 ticks and 1–3 permits.</summary>
    public static readonly Gen<(long Ticks, int Permits)[]> Bursty =
        Gen.Select(Gen.Long[0, 40], Gen.Int[1, 3]).Array[1, 250].Select(static steps =>
        {
            long now = 0;
            return steps.Select(s => (now += s.Item1, s.Item2)).ToArray();
        });

    public static RateLimitDecision[] Replay<TState>(IRateLimitAlgorithm<TState> algorithm, (long Ticks, int Permits)[] trace)
    {
        TState state = algorithm.CreateState(0);
        return [.. trace.Select(a => algorithm.Decide(ref state, a.Ticks, a.Permits))];
    }

    /// <summary>The largest number of admitted permits in any closed interval of length <paramref name="lengthTicks"/> or less.</summary>
    public static long MaxAdmittedWithin((long Ticks, int Permits)[] trace, RateLimitDecision[] decisions, long lengthTicks)
    {
        long best = 0;
        for (int i = 0; i < trace.Length; i++)
        {
            long sum = 0;
            for (int j = i; j < trace.Length && trace[j].Ticks - trace[i].Ticks <= lengthTicks; j++)
            {
                sum += decisions[j].Allowed ? trace[j].Permits : 0;
            }

            best = Math.Max(best, sum);
        }

        return best;
    }
}
