using System.Globalization;
using Microsoft.AspNetCore.Http;

namespace Blueprint.Telemetry.Metrics;

/// <summary>A parsed query: a metric, a window cut into steps, an aggregation and an optional grouping.</summary>
internal sealed record MetricQuery(string Name, long FromMs, long ToMs, int StepSeconds, string Agg, IReadOnlyList<string>? Group, bool StepGiven)
{
    /// <summary>Steps the default step is chosen to stay under.</summary>
    public const int TargetPoints = 300;

    private static readonly int[] NiceSteps = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10_800, 21_600, 43_200, 86_400];

    /// <summary>Parses the query string; null with the reason when a parameter is bad.</summary>
    public static MetricQuery? Parse(IQueryCollection query, long nowMs, int minStepSeconds, out string? problem)
    {
        problem = null;
        var name = query["name"].ToString();
        if (string.IsNullOrEmpty(name))
        {
            problem = "parameter 'name' is required";
            return null;
        }

        if (!TryLong(query, "to", nowMs, out var to, ref problem) || !TryLong(query, "from", to - (15 * 60_000), out var from, ref problem))
        {
            return null;
        }

        if (from >= to)
        {
            problem = $"'from' ({from}) must be before 'to' ({to})";
            return null;
        }

        if (to - from > TimeSpan.FromDays(3660).TotalMilliseconds)
        {
            problem = "the range from 'from' to 'to' is longer than ten years";
            return null;
        }

        var step = 0;
        var stepText = query["step"].ToString();
        if (stepText.Length > 0 && (!int.TryParse(stepText, NumberStyles.None, CultureInfo.InvariantCulture, out step) || step < 1))
        {
            problem = $"'step' ('{stepText}') must be a whole number of seconds, at least 1";
            return null;
        }

        if (step == 0)
        {
            var wanted = (int)Math.Min(int.MaxValue, Math.Ceiling((to - from) / 1000.0 / TargetPoints));
            step = NiceSteps.FirstOrDefault(s => s >= Math.Max(wanted, minStepSeconds), Math.Max(wanted, minStepSeconds));
        }

        var agg = query["agg"].ToString();
        if (agg.Length > 0 && !IsAgg(agg))
        {
            problem = $"'agg' ('{agg}') must be one of rate, avg, min, max, last, or a percentile pNN such as p50, p95, p99, p99.9";
            return null;
        }

        IReadOnlyList<string>? group = query.ContainsKey("group")
            ? [.. query["group"].ToString().Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Distinct(StringComparer.Ordinal)]
            : null;
        return new MetricQuery(name, from, to, step, agg, group, stepText.Length > 0);
    }

    private static bool TryLong(IQueryCollection query, string key, long fallback, out long value, ref string? problem)
    {
        var text = query[key].ToString();
        if (text.Length == 0)
        {
            value = fallback;
            return true;
        }

        if (long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out value) && value >= 0)
        {
            return true;
        }

        problem = $"'{key}' ('{text}') must be a time in unix milliseconds";
        return false;
    }

    private static bool IsAgg(string agg) => agg is "rate" or "avg" or "min" or "max" or "last" || Quantile(agg) is not null;

    /// <summary>The quantile of a <c>pNN</c> aggregation (p99 → 0.99), or null.</summary>
    public static double? Quantile(string agg) =>
        agg.Length > 1 && agg[0] == 'p' && double.TryParse(agg.AsSpan(1), NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var p) && p > 0 && p < 100
            ? p / 100
            : null;

    /// <summary>The aggregation a metric of <paramref name="kind"/> gets when none is asked for.</summary>
    public static string DefaultAgg(MetricKind kind) => kind switch
    {
        MetricKind.Counter => "rate",
        MetricKind.Histogram => "p99",
        _ => "avg",
    };

    /// <summary>Null when <paramref name="agg"/> applies to <paramref name="kind"/>, else why not.</summary>
    public static string? Check(MetricKind kind, string agg) => (kind, agg) switch
    {
        (MetricKind.Histogram, "min" or "max" or "last") => $"'{agg}' does not apply to a histogram; use rate, avg or a percentile such as p99",
        (MetricKind.Gauge or MetricKind.UpDownCounter, "rate") => $"'rate' applies to counters and histograms; this metric is a {MetricKinds.Name(kind)}",
        (not MetricKind.Histogram, _) when Quantile(agg) is not null => $"'{agg}' applies to histograms; this metric is a {MetricKinds.Name(kind)}",
        _ => null,
    };
}

/// <summary>
/// The arithmetic of a query: rows (of any tier) into steps, steps into values, label sets into groups. A step covers
/// [t, t + step) and is reported at t. Counters: <c>rate</c> is the step's summed reset-aware increase over its length.
/// Histograms: <c>rate</c> is count per second, <c>avg</c> the sum's increase over the count's, <c>pNN</c> interpolates
/// linearly inside the bucket the rank falls in (Prometheus' <c>histogram_quantile</c>). Grouping sums the members'
/// values (<c>min</c> and <c>max</c> take the least and greatest); histograms merge their buckets before the percentile.
/// </summary>
internal static class MetricMath
{
    /// <summary>One step's accumulated rows of one series or group.</summary>
    internal sealed class Acc
    {
        public long Count { get; private set; }

        public double Sum { get; private set; }

        public double Min { get; private set; } = double.PositiveInfinity;

        public double Max { get; private set; } = double.NegativeInfinity;

        public double Last { get; private set; }

        public long LastTime { get; private set; } = long.MinValue;

        public double Increase { get; private set; }

        public double SumIncrease { get; private set; }

        public long[]? Buckets { get; private set; }

        public void Add(MetricStore.Row row) => Add(row.Count, row.Sum, row.Min, row.Max, row.Last, row.TimeMs, row.Increase, row.SumIncrease, row.Buckets);

        public void Add(Acc other) => Add(other.Count, other.Sum, other.Min, other.Max, other.Last, other.LastTime, other.Increase, other.SumIncrease, other.Buckets);

        private void Add(long count, double sum, double min, double max, double last, long time, double increase, double sumIncrease, long[]? buckets)
        {
            Count += count;
            Sum += sum;
            Min = Math.Min(Min, min);
            Max = Math.Max(Max, max);
            if (time >= LastTime)
            {
                (Last, LastTime) = (last, time);
            }

            Increase += increase;
            SumIncrease += sumIncrease;
            if (buckets is not null)
            {
                Buckets ??= new long[buckets.Length];
                if (Buckets.Length == buckets.Length)
                {
                    for (var i = 0; i < buckets.Length; i++)
                    {
                        Buckets[i] += buckets[i];
                    }
                }
            }
        }
    }

    /// <summary>The rows of one series cut into <paramref name="steps"/> steps of <paramref name="stepMs"/> from <paramref name="startMs"/>.</summary>
    public static Acc?[] Steps(IEnumerable<MetricStore.Row> rows, long startMs, long stepMs, int steps)
    {
        var result = new Acc?[steps];
        foreach (var row in rows)
        {
            var index = (row.TimeMs - startMs) / stepMs;
            if (index >= 0 && index < steps)
            {
                (result[index] ??= new Acc()).Add(row);
            }
        }

        return result;
    }

    /// <summary>The value of one step of one series (or a merged histogram group); null when it has no data.</summary>
    public static double? Value(Acc? acc, MetricKind kind, string agg, double stepSeconds, double[]? bounds)
    {
        if (acc is null || acc.Count == 0)
        {
            return null;
        }

        double? value = agg switch
        {
            "rate" => acc.Increase / stepSeconds,
            "avg" when kind == MetricKind.Histogram => acc.Increase > 0 ? acc.SumIncrease / acc.Increase : null,
            "avg" => acc.Sum / acc.Count,
            "min" => acc.Min,
            "max" => acc.Max,
            "last" => acc.Last,
            _ when MetricQuery.Quantile(agg) is { } q && acc.Buckets is not null && bounds is not null => Quantile(q, bounds, acc.Buckets),
            _ => null,
        };
        return value is { } v && double.IsFinite(v) ? v : null;
    }

    /// <summary>
    /// The <paramref name="q"/> quantile of a histogram of per-bucket counts (<paramref name="buckets"/>, one more than
    /// <paramref name="bounds"/>, the last above the last bound): linear inside the bucket the rank falls in, the first
    /// bucket from 0 (or from its bound when that is not positive), and the last finite bound when the rank is in +Inf.
    /// </summary>
    public static double? Quantile(double q, IReadOnlyList<double> bounds, IReadOnlyList<long> buckets)
    {
        var total = buckets.Sum();
        if (total <= 0 || buckets.Count != bounds.Count + 1)
        {
            return null;
        }

        var rank = q * total;
        long below = 0;
        for (var i = 0; i < buckets.Count; i++)
        {
            var cumulative = below + buckets[i];
            if (cumulative >= rank && buckets[i] > 0)
            {
                if (i == bounds.Count)
                {
                    return bounds.Count == 0 ? null : bounds[^1];
                }

                var upper = bounds[i];
                var lower = i == 0 ? Math.Min(0, upper) : bounds[i - 1];
                return lower + ((upper - lower) * (rank - below) / buckets[i]);
            }

            below = cumulative;
        }

        return bounds.Count == 0 ? null : bounds[^1];
    }

    /// <summary>How the values of a group's members combine into the group's for <paramref name="agg"/> (histograms merge instead).</summary>
    public static double? Combine(string agg, IEnumerable<double?> values)
    {
        double? result = null;
        foreach (var value in values)
        {
            if (value is not { } v)
            {
                continue;
            }

            result = result is not { } r ? v : agg switch
            {
                "min" => Math.Min(r, v),
                "max" => Math.Max(r, v),
                _ => r + v,
            };
        }

        return result;
    }
}
