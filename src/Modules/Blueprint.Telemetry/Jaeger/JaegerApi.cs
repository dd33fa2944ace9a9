using System.Globalization;
using System.Text.Json;
using Blueprint.Telemetry.Traces;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Options;

namespace Blueprint.Telemetry.Jaeger;

/// <summary>
/// Jaeger's HTTP query API (the one its UI and Grafana's Jaeger data source read) over the trace store:
/// <c>/api/services</c>, <c>/api/services/{service}/operations</c>, <c>/api/operations</c>, <c>/api/traces</c> (search, or
/// <c>traceID=</c> lookups), <c>/api/traces/{id}</c> and <c>/api/dependencies</c>. Every reply is Jaeger's envelope
/// (<c>data</c>, <c>total</c>, <c>limit</c>, <c>offset</c>, <c>errors</c>); a bad parameter is 400 with the reason in <c>errors</c>.
/// </summary>
internal static class JaegerApi
{
    public static void Map(IEndpointRouteBuilder endpoints)
    {
        var api = endpoints.MapGroup("/api").WithTags("tracing (Jaeger query API)");
        api.MapGet("/services", (SpanStore store) => Envelope(store.Services()))
            .WithSummary("Services with stored spans.");
        api.MapGet("/services/{service}/operations", (string service, SpanStore store) =>
                Envelope(store.Operations(service).Select(o => o.Operation).Distinct(StringComparer.Ordinal).ToList()))
            .WithSummary("Operation names of a service.");
        api.MapGet("/operations", (string? service, string? spanKind, SpanStore store) =>
            {
                if (string.IsNullOrEmpty(service))
                {
                    return Error(StatusCodes.Status400BadRequest, "parameter 'service' is required");
                }

                var operations = store.Operations(service)
                    .Select(o => new { name = o.Operation, spanKind = KindName(o.Kind) })
                    .Where(o => string.IsNullOrEmpty(spanKind) || o.spanKind == spanKind)
                    .ToList();
                return Envelope(operations);
            })
            .WithSummary("Operations of a service with their span kinds.");
        api.MapGet("/traces/{traceId}", (string traceId, SpanStore store) =>
            {
                if (SpanStore.ParseTraceId(traceId) is not { } id)
                {
                    return Error(StatusCodes.Status400BadRequest, $"'{traceId}' is not a trace id (up to 32 hex digits)");
                }

                var spans = store.Spans([id]);
                return spans.Count == 0
                    ? Error(StatusCodes.Status404NotFound, "trace not found")
                    : new JaegerTraces(JaegerTrace.Group(spans), 0);
            })
            .WithSummary("One trace by id.");
        api.MapGet("/traces", (HttpContext context, SpanStore store, IOptions<TelemetryOptions> options, TimeProvider time) =>
            {
                var query = context.Request.Query;
                var ids = query["traceID"].Where(id => !string.IsNullOrEmpty(id)).ToList();
                if (ids.Count > 0)
                {
                    var parsed = new List<byte[]>();
                    foreach (var text in ids)
                    {
                        if (SpanStore.ParseTraceId(text!) is not { } id)
                        {
                            return Error(StatusCodes.Status400BadRequest, $"traceID '{text}' is not a trace id (up to 32 hex digits)");
                        }

                        parsed.Add(id);
                    }

                    return new JaegerTraces(JaegerTrace.Group(store.Spans(parsed)), 0);
                }

                if (!TryParseSearch(query, options.Value, time, out var search, out var problem))
                {
                    return Error(StatusCodes.Status400BadRequest, problem);
                }

                var found = store.FindTraceIds(search);
                return new JaegerTraces(JaegerTrace.Group(store.Spans(found)), search.Limit);
            })
            .WithSummary("Search traces: service (required), operation, tags, minDuration, maxDuration, start, end (µs), lookback, limit.");
        api.MapGet("/dependencies", (long? endTs, long? lookback, SpanStore store, TimeProvider time) =>
            {
                var end = endTs ?? time.GetUtcNow().ToUnixTimeMilliseconds();
                var window = lookback ?? (long)TimeSpan.FromDays(1).TotalMilliseconds;
                if (window <= 0)
                {
                    return Error(StatusCodes.Status400BadRequest, "lookback must be a positive number of milliseconds");
                }

                var links = store.Dependencies((end - window) * 1000, end * 1000)
                    .Select(link => new { parent = link.Parent, child = link.Child, callCount = link.Calls })
                    .ToList();
                return Envelope(links);
            })
            .WithSummary("Calls between services (parent → child) in a window: endTs and lookback in milliseconds.");
    }

    internal static string KindName(int kind) => kind switch
    {
        1 => "internal",
        2 => "server",
        3 => "client",
        4 => "producer",
        5 => "consumer",
        _ => "unspecified",
    };

    private static IResult Envelope<T>(IReadOnlyCollection<T> data) =>
        Results.Json(new { data, total = data.Count, limit = 0, offset = 0, errors = (object?)null });

    private static IResult Error(int status, string message) =>
        Results.Json(new { data = (object?)null, total = 0, limit = 0, offset = 0, errors = new[] { new { code = status, msg = message } } }, statusCode: status);

    internal static bool TryParseSearch(IQueryCollection query, TelemetryOptions options, TimeProvider time, out TraceQuery search, out string problem)
    {
        search = null!;
        problem = "";
        var service = query["service"].ToString();
        if (service.Length == 0)
        {
            problem = "parameter 'service' is required";
            return false;
        }

        var nowMicros = time.GetUtcNow().ToUnixTimeMilliseconds() * 1000;
        if (!TryMicros(query["end"], nowMicros, out var end) || !TryDuration(query["lookback"], TimeSpan.FromHours(1), out var lookback))
        {
            problem = "end must be microseconds since the epoch and lookback a duration such as 1h or 30m";
            return false;
        }

        if (!TryMicros(query["start"], end - (long)(lookback.TotalMilliseconds * 1000), out var start) || start > end)
        {
            problem = "start must be microseconds since the epoch, not after end";
            return false;
        }

        long? min = null, max = null;
        if (query["minDuration"].ToString() is { Length: > 0 } minText)
        {
            if (!TryDuration(minText, TimeSpan.Zero, out var parsed))
            {
                problem = $"minDuration '{minText}' is not a duration such as 1.2ms, 500us or 2s";
                return false;
            }

            min = (long)(parsed.Ticks / 10);
        }

        if (query["maxDuration"].ToString() is { Length: > 0 } maxText)
        {
            if (!TryDuration(maxText, TimeSpan.Zero, out var parsed))
            {
                problem = $"maxDuration '{maxText}' is not a duration such as 1.2ms, 500us or 2s";
                return false;
            }

            max = (long)(parsed.Ticks / 10);
        }

        var limit = 20;
        if (query["limit"].ToString() is { Length: > 0 } limitText
            && (!int.TryParse(limitText, NumberStyles.None, CultureInfo.InvariantCulture, out limit) || limit < 0))
        {
            problem = $"limit '{limitText}' is not a whole number";
            return false;
        }

        if (!TryParseTags(query["tags"], query["tag"], out var tags, out problem))
        {
            return false;
        }

        search = new TraceQuery
        {
            Service = service,
            Operation = query["operation"].ToString() is { Length: > 0 } operation ? operation : null,
            Tags = tags,
            MinDurationMicros = min,
            MaxDurationMicros = max,
            StartMicros = start,
            EndMicros = end,
            Limit = Math.Clamp(limit == 0 ? 20 : limit, 1, options.SearchLimitMax),
        };
        return true;
    }

    /// <summary>Tags as Jaeger takes them: <c>tags</c> a JSON object (<c>{"http.status_code":"500"}</c>), <c>tag</c> repeated <c>key:value</c>.</summary>
    private static bool TryParseTags(Microsoft.Extensions.Primitives.StringValues json, Microsoft.Extensions.Primitives.StringValues pairs, out List<(string, string)> tags, out string problem)
    {
        tags = [];
        problem = "";
        foreach (var text in json)
        {
            if (string.IsNullOrWhiteSpace(text))
            {
                continue;
            }

            try
            {
                using var document = JsonDocument.Parse(text);
                if (document.RootElement.ValueKind != JsonValueKind.Object)
                {
                    throw new JsonException("not an object");
                }

                foreach (var property in document.RootElement.EnumerateObject())
                {
                    tags.Add((property.Name, property.Value.ValueKind == JsonValueKind.String ? property.Value.GetString()! : property.Value.GetRawText()));
                }
            }
            catch (JsonException)
            {
                problem = $"tags '{text}' is not a JSON object of key to value, such as {{\"error\":\"true\"}}";
                return false;
            }
        }

        foreach (var pair in pairs)
        {
            var colon = pair?.IndexOf(':', StringComparison.Ordinal) ?? -1;
            if (colon <= 0)
            {
                problem = $"tag '{pair}' is not key:value";
                return false;
            }

            tags.Add((pair![..colon], pair[(colon + 1)..]));
        }

        if (tags.Count > 8)
        {
            problem = "at most 8 tags may be searched at once";
            return false;
        }

        return true;
    }

    private static bool TryMicros(string? text, long fallback, out long micros)
    {
        micros = fallback;
        return string.IsNullOrEmpty(text) || (long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out micros) && micros >= 0);
    }

    /// <summary>A Go-style duration as Jaeger takes it: a number and a unit (ns, us, µs, ms, s, m, h), such as <c>1.5ms</c>.</summary>
    internal static bool TryDuration(string? text, TimeSpan fallback, out TimeSpan duration)
    {
        duration = fallback;
        if (string.IsNullOrEmpty(text))
        {
            return true;
        }

        var split = text.Length;
        while (split > 0 && !char.IsAsciiDigit(text[split - 1]) && text[split - 1] != '.')
        {
            split--;
        }

        if (!double.TryParse(text[..split], NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var number))
        {
            return false;
        }

        double? ticksPerUnit = text[split..] switch
        {
            "ns" => 0.01,
            "us" or "µs" => 10,
            "ms" => TimeSpan.TicksPerMillisecond,
            "s" => TimeSpan.TicksPerSecond,
            "m" => TimeSpan.TicksPerMinute,
            "h" => TimeSpan.TicksPerHour,
            _ => null,
        };
        if (ticksPerUnit is not { } unit || number * unit > TimeSpan.MaxValue.Ticks)
        {
            return false;
        }

        duration = TimeSpan.FromTicks((long)(number * unit));
        return true;
    }
}
