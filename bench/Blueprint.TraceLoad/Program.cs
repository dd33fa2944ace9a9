using System.Buffers.Binary;
using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Text.Json;
using System.Text.RegularExpressions;
using Blueprint.Bench;
using Blueprint.Telemetry.Otlp.Collector.Trace;
using Blueprint.Telemetry.Otlp.Common;
using Blueprint.Telemetry.Otlp.Resource;
using Blueprint.Telemetry.Otlp.Trace;
using Google.Protobuf;
using HdrHistogram;

// Two modes, one JSON line each:
//   ingest  send --spans spans (traces of 8 spans over 10 services, 6 attributes a span) as OTLP/HTTP protobuf batches of
//           --batch spans over --connections connections, as fast as the receiver answers. Reports spans accepted and
//           rejected (OTLP partial success), the rate of answers, and — with --stored-from URL (the node's /metrics) — the
//           time until the store has written every accepted span: the ingest rate.
//   query   --lookups trace-id lookups of random traces the ingest sent (/api/traces/{id}), and --searches tag searches
//           (service + user.id tag over the last 2 hours, limit 20), one at a time: p50/p99/max in ms.
// Both regenerate the same workload from --seed, so query knows which trace ids exist.
return await LoadMain.RunAsync("Blueprint.TraceLoad", Usage.Text, args, TraceLoadOptions.Parse, RunAsync, o => $"the {o.Mode} run against {o.Target}");

static async Task<string> RunAsync(TraceLoadOptions options, CancellationToken cancellationToken) =>
    options.Mode == "ingest" ? await Ingest.RunAsync(options, cancellationToken) : await Query.RunAsync(options, cancellationToken);

internal static class Usage
{
    public const string Text = """
        Blueprint.TraceLoad ingest --target http://127.0.0.1:4318 [--spans 1000000] [--batch 512] [--connections 4] [--seed 1] [--stored-from http://127.0.0.1:8080/metrics]
        Blueprint.TraceLoad query  --target http://127.0.0.1:8080 [--spans 1000000] [--lookups 2000] [--searches 200] [--seed 1]
        """;
}

internal sealed record TraceLoadOptions(string Mode, Uri Target, int Spans, int Batch, int Connections, int Seed, Uri? StoredFrom, int Lookups, int Searches)
{
    public static TraceLoadOptions Parse(string[] args)
    {
        var problems = new List<string>();
        if (args.Length == 0 || args[0] is not ("ingest" or "query"))
        {
            throw new FormatException("the first argument is the mode: ingest or query");
        }

        Uri? target = null, stored = null;
        int spans = 1_000_000, batch = 512, connections = 4, seed = 1, lookups = 2000, searches = 200;
        foreach (var (flag, value) in Flags.Pairs(args[1..], problems))
        {
            switch (flag)
            {
                case "--target": target = Url(flag, value, problems); break;
                case "--stored-from": stored = Url(flag, value, problems); break;
                case "--spans": spans = Flags.Number(flag, value, 8, 100_000_000, problems); break;
                case "--batch": batch = Flags.Number(flag, value, 8, 65_536, problems); break;
                case "--connections": connections = Flags.Number(flag, value, 1, 256, problems); break;
                case "--seed": seed = Flags.Number(flag, value, 0, int.MaxValue, problems); break;
                case "--lookups": lookups = Flags.Number(flag, value, 1, 1_000_000, problems); break;
                case "--searches": searches = Flags.Number(flag, value, 0, 1_000_000, problems); break;
                default: problems.Add($"unknown flag {flag}"); break;
            }
        }

        if (target is null)
        {
            problems.Add("--target is required");
        }

        if (problems.Count > 0)
        {
            throw new FormatException(string.Join("; ", problems));
        }

        return new TraceLoadOptions(args[0], target!, spans, batch, connections, seed, stored, lookups, searches);
    }

    private static Uri? Url(string flag, string value, List<string> problems)
    {
        if (Uri.TryCreate(value, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https")
        {
            return uri;
        }

        problems.Add($"{flag} must be an http URL, got '{value}'");
        return null;
    }
}

/// <summary>The synthetic workload: trace i has 8 spans, its id made of the seed and i.</summary>
internal static class Workload
{
    public const int SpansPerTrace = 8;
    public const int Services = 10;
    public const int Users = 10_000;

    public static byte[] TraceId(int seed, int trace)
    {
        var id = new byte[16];
        BinaryPrimitives.WriteInt32BigEndian(id, seed + 1);
        BinaryPrimitives.WriteInt64BigEndian(id.AsSpan(8), trace + 1L);
        return id;
    }

    public static string Service(int trace, int span) => $"svc-{(trace + span) % Services}";

    public static string User(int trace) => $"u{trace % Users}";

    /// <summary>Every batch's protobuf bytes, built before the clock starts (the spans start within the last hour).</summary>
    public static List<byte[]> Batches(int seed, int spans, int batch)
    {
        var random = new Random(seed);
        var traces = spans / SpansPerTrace;
        var now = (ulong)DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() * 1_000_000UL;
        var resources = Enumerable.Range(0, Services).Select(s => Resource($"svc-{s}")).ToArray();
        var batches = new List<byte[]>();
        var request = new ExportTraceServiceRequest();
        var groups = new Dictionary<int, ScopeSpans>();
        var inBatch = 0;
        for (var trace = 0; trace < traces; trace++)
        {
            var traceId = ByteString.CopyFrom(TraceId(seed, trace));
            var start = now - (ulong)random.NextInt64(1, 3_600_000_000_000L);
            for (var s = 0; s < SpansPerTrace; s++)
            {
                var service = (trace + s) % Services;
                var spanId = new byte[8];
                BinaryPrimitives.WriteInt64BigEndian(spanId, ((long)trace * SpansPerTrace) + s + 1);
                var span = new Span
                {
                    TraceId = traceId,
                    SpanId = ByteString.CopyFrom(spanId),
                    Name = $"op-{(trace * 7 + s) % 50}",
                    Kind = s == 0 ? Span.Types.SpanKind.Server : Span.Types.SpanKind.Client,
                    StartTimeUnixNano = start + ((ulong)s * 1_000_000UL),
                    EndTimeUnixNano = start + ((ulong)s * 1_000_000UL) + (ulong)random.Next(100_000, 50_000_000),
                };
                if (s > 0)
                {
                    var parent = new byte[8];
                    BinaryPrimitives.WriteInt64BigEndian(parent, ((long)trace * SpansPerTrace) + ((s - 1) / 2) + 1);
                    span.ParentSpanId = ByteString.CopyFrom(parent);
                }

                span.Attributes.Add(Attribute("http.request.method", s % 3 == 0 ? "POST" : "GET"));
                span.Attributes.Add(Attribute("http.route", $"/api/items/{{id}}/{s}"));
                span.Attributes.Add(new KeyValue { Key = "http.response.status_code", Value = new AnyValue { IntValue = random.Next(20) == 0 ? 500 : 200 } });
                span.Attributes.Add(Attribute("server.address", $"svc-{service}.internal"));
                span.Attributes.Add(Attribute("user.id", User(trace)));
                span.Attributes.Add(new KeyValue { Key = "cache.hit", Value = new AnyValue { BoolValue = random.Next(2) == 0 } });
                if (!groups.TryGetValue(service, out var scope))
                {
                    scope = new ScopeSpans { Scope = new InstrumentationScope { Name = "trace-load" } };
                    var resourceSpans = new ResourceSpans { Resource = resources[service] };
                    resourceSpans.ScopeSpans.Add(scope);
                    request.ResourceSpans.Add(resourceSpans);
                    groups[service] = scope;
                }

                scope.Spans.Add(span);
                if (++inBatch == batch)
                {
                    batches.Add(request.ToByteArray());
                    request = new ExportTraceServiceRequest();
                    groups.Clear();
                    inBatch = 0;
                }
            }
        }

        if (inBatch > 0)
        {
            batches.Add(request.ToByteArray());
        }

        return batches;
    }

    private static KeyValue Attribute(string key, string value) => new() { Key = key, Value = new AnyValue { StringValue = value } };

    private static Resource Resource(string service)
    {
        var resource = new Resource();
        resource.Attributes.Add(Attribute("service.name", service));
        resource.Attributes.Add(Attribute("host.name", "load-host"));
        resource.Attributes.Add(Attribute("telemetry.sdk.language", "dotnet"));
        return resource;
    }
}

internal static partial class Ingest
{
    public static async Task<string> RunAsync(TraceLoadOptions options, CancellationToken cancellationToken)
    {
        var batches = Workload.Batches(options.Seed, options.Spans, options.Batch);
        var spans = (long)(options.Spans / Workload.SpansPerTrace) * Workload.SpansPerTrace;
        using var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = options.Connections, ActivityHeadersPropagator = null })
        {
            BaseAddress = options.Target,
            Timeout = TimeSpan.FromSeconds(60),
        };
        var storedBefore = options.StoredFrom is null ? 0 : await StoredAsync(http, options.StoredFrom, cancellationToken);
        long rejected = 0;
        var next = -1;
        var clock = Stopwatch.StartNew();
        var workers = Enumerable.Range(0, options.Connections).Select(_ => Task.Run(async () =>
        {
            int index;
            while ((index = Interlocked.Increment(ref next)) < batches.Count)
            {
                using var content = new ByteArrayContent(batches[index]);
                content.Headers.ContentType = new MediaTypeHeaderValue("application/x-protobuf");
                using var reply = await http.PostAsync(new Uri("/v1/traces", UriKind.Relative), content, cancellationToken);
                var body = await reply.Content.ReadAsByteArrayAsync(cancellationToken);
                if (!reply.IsSuccessStatusCode)
                {
                    throw new InvalidOperationException($"POST /v1/traces answered {(int)reply.StatusCode}");
                }

                var response = ExportTraceServiceResponse.Parser.ParseFrom(body);
                if (response.PartialSuccess is { } partial)
                {
                    Interlocked.Add(ref rejected, partial.RejectedSpans);
                }
            }
        }, cancellationToken)).ToList();
        await Task.WhenAll(workers);
        var answered = clock.Elapsed.TotalSeconds;
        var accepted = spans - rejected;
        double? storedSeconds = null;
        if (options.StoredFrom is { } metrics)
        {
            while (await StoredAsync(http, metrics, cancellationToken) - storedBefore < accepted)
            {
                await Task.Delay(20, cancellationToken);
            }

            storedSeconds = clock.Elapsed.TotalSeconds;
        }

        return JsonSerializer.Serialize(new
        {
            spans,
            batches = batches.Count,
            accepted,
            rejected,
            answered_seconds = Math.Round(answered, 3),
            answered_spans_per_second = Math.Round(spans / answered),
            stored_seconds = storedSeconds is { } s ? Math.Round(s, 3) : (double?)null,
            stored_spans_per_second = storedSeconds is { } t ? Math.Round(accepted / t) : (double?)null,
        });
    }

    private static async Task<long> StoredAsync(HttpClient http, Uri metrics, CancellationToken cancellationToken)
    {
        var text = await http.GetStringAsync(metrics, cancellationToken);
        var match = StoredLine().Match(text);
        return match.Success ? (long)double.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture) : 0;
    }

    [GeneratedRegex(@"^blueprint_telemetry_spans_stored_total(?:\{[^}]*\})? ([0-9.e+]+)", RegexOptions.Multiline)]
    private static partial Regex StoredLine();
}

internal static class Query
{
    public static async Task<string> RunAsync(TraceLoadOptions options, CancellationToken cancellationToken)
    {
        using var http = new HttpClient(new SocketsHttpHandler { ActivityHeadersPropagator = null }) { BaseAddress = options.Target, Timeout = TimeSpan.FromSeconds(60) };
        var traces = options.Spans / Workload.SpansPerTrace;
        var random = new Random(options.Seed + 7);

        // Warm the connection and the store's caches with a few of each, unrecorded.
        for (var i = 0; i < 20; i++)
        {
            await LookupAsync(http, options.Seed, random.Next(traces), cancellationToken);
        }

        var lookups = new LongHistogram(TimeStamp.Minutes(1), 3);
        for (var i = 0; i < options.Lookups; i++)
        {
            var started = Stopwatch.GetTimestamp();
            await LookupAsync(http, options.Seed, random.Next(traces), cancellationToken);
            lookups.RecordValue(Stopwatch.GetTimestamp() - started);
        }

        var searches = new LongHistogram(TimeStamp.Minutes(1), 3);
        long found = 0;
        for (var i = 0; i < options.Searches; i++)
        {
            var trace = random.Next(traces);
            var started = Stopwatch.GetTimestamp();
            var tags = Uri.EscapeDataString($"{{\"user.id\":\"{Workload.User(trace)}\"}}");
            using var reply = await http.GetAsync(new Uri($"/api/traces?service={Workload.Service(trace, 0)}&tags={tags}&lookback=2h&limit=20", UriKind.Relative), cancellationToken);
            var body = await reply.Content.ReadAsByteArrayAsync(cancellationToken);
            searches.RecordValue(Stopwatch.GetTimestamp() - started);
            reply.EnsureSuccessStatusCode();
            using var document = JsonDocument.Parse(body);
            found += document.RootElement.GetProperty("data").GetArrayLength();
        }

        return JsonSerializer.Serialize(new
        {
            lookups = options.Lookups,
            lookup_p50_ms = Ms(lookups, 50),
            lookup_p99_ms = Ms(lookups, 99),
            lookup_max_ms = Math.Round(lookups.GetMaxValue() * 1000.0 / Stopwatch.Frequency, 3),
            searches = options.Searches,
            search_p50_ms = options.Searches > 0 ? Ms(searches, 50) : 0,
            search_p99_ms = options.Searches > 0 ? Ms(searches, 99) : 0,
            traces_found_per_search = options.Searches > 0 ? Math.Round((double)found / options.Searches, 1) : 0,
        });
    }

    private static async Task LookupAsync(HttpClient http, int seed, int trace, CancellationToken cancellationToken)
    {
        var id = Convert.ToHexStringLower(Workload.TraceId(seed, trace));
        using var reply = await http.GetAsync(new Uri($"/api/traces/{id}", UriKind.Relative), cancellationToken);
        var body = await reply.Content.ReadAsByteArrayAsync(cancellationToken);
        reply.EnsureSuccessStatusCode();
        using var document = JsonDocument.Parse(body);
        var spans = document.RootElement.GetProperty("data")[0].GetProperty("spans").GetArrayLength();
        if (spans != Workload.SpansPerTrace)
        {
            throw new InvalidOperationException($"trace {id} has {spans} spans, not {Workload.SpansPerTrace}");
        }
    }

    private static double Ms(LongHistogram histogram, double percentile) =>
        Math.Round(histogram.GetValueAtPercentile(percentile) * 1000.0 / Stopwatch.Frequency, 3);
}
