using System.Collections.Concurrent;
using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.Playwright;

namespace Blueprint.Dashboard.Browser.Tests;

/// <summary>
/// Answers in the shape of the telemetry module's metrics query API (<c>GET /api/metrics/names</c> and
/// <c>/api/metrics/query</c>), served to the page in place of the node's, with every query it was asked recorded.
/// Some names the dashboard charts are left out, so a chart with no metric can be seen saying so.
/// </summary>
internal static partial class MetricsApi
{
    private static readonly object[] Names =
    [
        new { name = "http.server.request.duration", unit = "s", kind = "histogram", description = "Duration of HTTP server requests." },
        new { name = "blueprint.ratelimit.decisions", unit = "", kind = "counter", description = "Rate-limit decisions by rule and outcome." },
        new { name = "blueprint.telemetry.spans.received", unit = "", kind = "counter", description = "Spans received, by source." },
        new { name = "blueprint.telemetry.spans.dropped", unit = "", kind = "counter", description = "Spans not stored, by reason." },
        new { name = "blueprint.raft.term", unit = "", kind = "gauge", description = "The Raft term." },
    ];

    public static async Task RouteAsync(IPage page, ConcurrentQueue<Dictionary<string, string>> queries)
    {
        await page.RouteAsync("**/api/metrics/names", route => route.FulfillAsync(new() { Status = 200, ContentType = "application/json", Body = JsonSerializer.Serialize(new { names = Names }) }));
        await page.RouteAsync(QueryPath(), route =>
        {
            var query = System.Web.HttpUtility.ParseQueryString(new Uri(route.Request.Url).Query);
            var asked = query.AllKeys.Where(key => key is not null).ToDictionary(key => key!, key => query[key] ?? "");
            queries.Enqueue(asked);
            return route.FulfillAsync(new() { Status = 200, ContentType = "application/json", Body = JsonSerializer.Serialize(Answer(asked)) });
        });
    }

    private static object Answer(Dictionary<string, string> query)
    {
        var from = long.Parse(query["from"], CultureInfo.InvariantCulture);
        var to = long.Parse(query["to"], CultureInfo.InvariantCulture);
        var step = int.Parse(query["step"], CultureInfo.InvariantCulture);
        var name = query["name"];
        var agg = query["agg"];
        object[] Points(Func<int, double?> value)
        {
            var points = new List<object>();
            var i = 0;
            for (var t = from - (from % (step * 1000L)) + step * 1000L; t <= to; t += step * 1000L, i++)
            {
                points.Add(new object?[] { t, value(i) });
            }

            return [.. points];
        }

        object Series(Dictionary<string, string> labels, Func<int, double?> value) => new { labels, points = Points(value) };
        var series = (name, agg) switch
        {
            ("http.server.request.duration", "p99") => [Series([], i => 0.004 + 0.002 * Math.Sin(i / 4.0) + (i % 17 == 0 ? 0.006 : 0))],
            ("http.server.request.duration", _) => [Series([], i => 40 + 12 * Math.Sin(i / 5.0))],
            ("blueprint.ratelimit.decisions", _) =>
                new[] { Series(new() { ["outcome"] = "allowed" }, i => 18 + 4 * Math.Cos(i / 6.0)), Series(new() { ["outcome"] = "limited" }, i => i < 20 ? 0 : 3 + Math.Sin(i / 3.0)) },
            ("blueprint.telemetry.spans.received", _) => [Series(new() { }, i => i % 9 == 4 ? null : 120 + 30 * Math.Sin(i / 7.0))],
            ("blueprint.raft.term", _) => [Series([], i => i < 40 ? 3 : 4)],
            _ => Array.Empty<object>(),
        };
        return new { name, unit = name == "http.server.request.duration" ? "s" : "", step, agg, series };
    }

    [GeneratedRegex(@"/api/metrics/query\?")]
    private static partial Regex QueryPath();
}
