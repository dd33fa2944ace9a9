using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Options;

namespace Blueprint.Telemetry.Metrics;

/// <summary>
/// The metrics query API the dashboard draws from: <c>GET /api/metrics/names</c> and <c>GET /api/metrics/query</c>
/// (see docs/tracing.md, "Metrics time series"). A bad parameter is 400 and an unknown metric 404, both problem+json
/// with the reason in <c>detail</c>.
/// </summary>
internal static class MetricsApi
{
    public static void Map(IEndpointRouteBuilder endpoints)
    {
        var api = endpoints.MapGroup("/api/metrics").WithTags("metrics (time series)");
        api.MapGet("/names", (MetricStore store) => Results.Json(new
        {
            names = store.Metrics().Select(m => new { name = m.Name, unit = m.Unit, kind = MetricKinds.Name(m.Kind), description = m.Description }),
        }))
            .WithSummary("Every stored metric with its unit, kind and description.");
        api.MapGet("/query", (HttpContext context, MetricStore store, IOptions<TelemetryOptions> options, TimeProvider time) =>
                Query(context.Request.Query, store, options.Value, time.GetUtcNow().ToUnixTimeMilliseconds()))
            .WithSummary("One metric's series over a window: name, from, to (unix ms), step (s), agg (rate|avg|min|max|last|pNN), group (labels to sum by).");
    }

    /// <summary>Answers one query (the endpoint's body, callable without HTTP).</summary>
    public static IResult Query(IQueryCollection parameters, MetricStore store, TelemetryOptions options, long nowMs)
    {
        if (MetricQuery.Parse(parameters, nowMs, options.MetricsIntervalSeconds, out var problem) is not { } query)
        {
            return Results.Problem(problem, statusCode: StatusCodes.Status400BadRequest, title: "Bad metrics query");
        }

        if (store.Find(query.Name) is not var (metric, allSeries))
        {
            return Results.Problem($"no metric named '{query.Name}' is stored (GET /api/metrics/names lists them)", statusCode: StatusCodes.Status404NotFound, title: "Unknown metric");
        }

        var agg = query.Agg.Length > 0 ? query.Agg : MetricQuery.DefaultAgg(metric.Kind);
        if (MetricQuery.Check(metric.Kind, agg) is { } wrong)
        {
            return Results.Problem(wrong, statusCode: StatusCodes.Status400BadRequest, title: "Bad metrics query");
        }

        var (tier, step) = ChooseTier(query, nowMs, options);
        var stepMs = step * 1000L;
        var start = MetricStore.Floor(query.FromMs, stepMs);
        var steps = (query.ToMs - start + stepMs - 1) / stepMs;
        if (steps > options.MetricsQueryMaxPoints)
        {
            return Results.Problem(
                $"a step of {step} s over {(query.ToMs - query.FromMs) / 1000} s gives {steps} points; at most {options.MetricsQueryMaxPoints} a series (Telemetry:MetricsQueryMaxPoints): give a larger step or a shorter range",
                statusCode: StatusCodes.Status400BadRequest,
                title: "Bad metrics query");
        }

        var ordered = allSeries.OrderBy(s => s.LabelsJson, StringComparer.Ordinal).ToList();
        var truncated = false;
        if (query.Group is null && ordered.Count > options.MetricsQueryMaxSeries)
        {
            ordered = ordered[..options.MetricsQueryMaxSeries];
            truncated = true;
        }

        var groups = new SortedDictionary<string, (IReadOnlyDictionary<string, string> Labels, List<(Series Series, MetricMath.Acc?[] Steps)> Members)>(StringComparer.Ordinal);
        foreach (var series in ordered)
        {
            var labels = query.Group is null
                ? series.Labels
                : query.Group.Where(series.Labels.ContainsKey).ToDictionary(key => key, key => series.Labels[key], StringComparer.Ordinal);
            var key = query.Group is null ? series.LabelsJson : MetricStore.LabelsJson(labels);
            if (!groups.TryGetValue(key, out var group))
            {
                if (groups.Count >= options.MetricsQueryMaxSeries)
                {
                    truncated = true;
                    continue;
                }

                groups[key] = group = (labels, []);
            }

            var rows = store.Rows(series, tier, start, query.ToMs);
            group.Members.Add((series, MetricMath.Steps(rows, start, stepMs, (int)steps)));
        }

        var result = new List<object>(groups.Count);
        foreach (var (labels, members) in groups.Values)
        {
            var points = new List<object?[]>((int)steps);
            for (var i = 0; i < steps; i++)
            {
                double? value;
                if (metric.Kind == MetricKind.Histogram)
                {
                    // A histogram group merges its members' increases first: a percentile of the union, not a sum of percentiles.
                    MetricMath.Acc? merged = null;
                    foreach (var (_, memberSteps) in members)
                    {
                        if (memberSteps[i] is { } acc)
                        {
                            (merged ??= new MetricMath.Acc()).Add(acc);
                        }
                    }

                    value = MetricMath.Value(merged, metric.Kind, agg, step, members[0].Series.Bounds);
                }
                else
                {
                    value = MetricMath.Combine(agg, members.Select(m => MetricMath.Value(m.Steps[i], metric.Kind, agg, step, null)));
                }

                points.Add([start + (i * stepMs), value]);
            }

            result.Add(new { labels, points });
        }

        return Results.Json(new { name = metric.Name, unit = metric.Unit, step, agg, series = result, truncated });
    }

    /// <summary>
    /// The coarsest tier the step allows whose retention still covers <c>from</c>: hours for steps of an hour or more (or
    /// a start older than minutes are kept), minutes for a minute or more (or a start older than raw points are kept),
    /// raw points otherwise. The step is rounded up to a whole number of the tier's rows.
    /// </summary>
    internal static (int Tier, int Step) ChooseTier(MetricQuery query, long nowMs, TelemetryOptions options)
    {
        var rawKept = nowMs - (options.MetricsRawRetentionHours * 3_600_000L);
        var minutesKept = nowMs - (options.MetricsMinuteRetentionDays * 86_400_000L);
        if (query.StepSeconds >= 3600 || query.FromMs < minutesKept)
        {
            return (2, RoundUp(query.StepSeconds, 3600));
        }

        return query.StepSeconds >= 60 || query.FromMs < rawKept ? (1, RoundUp(query.StepSeconds, 60)) : (0, query.StepSeconds);
    }

    private static int RoundUp(int value, int multiple) => (value + multiple - 1) / multiple * multiple;
}
