using System.Diagnostics.Metrics;
using System.Net;
using System.Text.Json;
using Blueprint.Telemetry.Otlp;
using Blueprint.Telemetry.Otlp.Collector.Trace;
using Blueprint.Telemetry.Traces;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using OpenTelemetry.Trace;
using static Blueprint.Telemetry.Tests.Traces.TraceKit;

namespace Blueprint.Telemetry.Tests.Traces;

/// <summary>The store's indexes as Jaeger's search uses them, the queue's bound, retention and restarts.</summary>
public sealed class TraceStoreTests
{
    private static readonly DateTimeOffset Now = DateTimeOffset.UtcNow;

    [Fact]
    public async Task SearchFiltersByOperationTagsDurationAndTimeAndFindsDependencies()
    {
        var cancellationToken = TestContext.Current.CancellationToken;
        await using var node = await TestNode.StartAsync(cancellationToken: cancellationToken);
        // Trace 1: frontend GET /cart (120 ms, status 200) → cart-svc load (80 ms).
        // Trace 2: frontend GET /cart (15 ms, status 500) → cart-svc load (5 ms) and → price-svc quote.
        // Trace 3: frontend POST /pay, two hours ago.
        using (var reply = await PostProtobufAsync(node, Request("frontend",
            Span(TraceId(1), SpanId(1), null, "GET /cart", Now.AddMinutes(-3), TimeSpan.FromMilliseconds(120), ("http.response.status_code", 200)),
            Span(TraceId(2), SpanId(2), null, "GET /cart", Now.AddMinutes(-2), TimeSpan.FromMilliseconds(15), ("http.response.status_code", 500), ("user", "ann")),
            Span(TraceId(3), SpanId(3), null, "POST /pay", Now.AddHours(-2), TimeSpan.FromMilliseconds(40))), cancellationToken))
        {
            Assert.Equal(HttpStatusCode.OK, reply.StatusCode);
        }

        await (await PostProtobufAsync(node, Request("cart-svc",
            Span(TraceId(1), SpanId(11), SpanId(1), "load", Now.AddMinutes(-3), TimeSpan.FromMilliseconds(80)),
            Span(TraceId(2), SpanId(12), SpanId(2), "load", Now.AddMinutes(-2), TimeSpan.FromMilliseconds(5))), cancellationToken)).Content.ReadAsByteArrayAsync(cancellationToken);
        await (await PostProtobufAsync(node, Request("price-svc",
            Span(TraceId(2), SpanId(13), SpanId(2), "quote", Now.AddMinutes(-2), TimeSpan.FromMilliseconds(3))), cancellationToken)).Content.ReadAsByteArrayAsync(cancellationToken);
        await DrainedAsync(node, cancellationToken);

        async Task<string[]> FindAsync(string query) =>
            [.. (await JaegerAsync(node, "/api/traces?" + query, cancellationToken)).EnumerateArray().Select(t => t.GetProperty("traceID").GetString()![^2..])];

        static string Hex(int n) => Convert.ToHexStringLower(TraceId(n))[^2..];

        // Default lookback is an hour, newest first.
        Assert.Equal([Hex(2), Hex(1)], await FindAsync("service=frontend"));
        Assert.Equal([Hex(2), Hex(1), Hex(3)], await FindAsync("service=frontend&lookback=3h"));
        Assert.Equal([Hex(3)], await FindAsync("service=frontend&lookback=3h&operation=POST%20%2Fpay"));
        Assert.Equal([Hex(1)], await FindAsync("service=frontend&minDuration=100ms"));
        Assert.Equal([Hex(2)], await FindAsync("service=frontend&maxDuration=20ms"));
        Assert.Equal([Hex(2)], await FindAsync("service=frontend&tags=" + Uri.EscapeDataString("{\"http.response.status_code\":\"500\"}")));
        Assert.Equal([Hex(2)], await FindAsync("service=frontend&tag=user:ann&tag=http.response.status_code:500"));
        Assert.Empty(await FindAsync("service=frontend&tag=user:bob"));
        Assert.Equal([Hex(2)], await FindAsync("service=frontend&limit=1"));
        var start = Now.AddMinutes(-2.5).ToUnixTimeMilliseconds() * 1000;
        Assert.Equal([Hex(1)], await FindAsync($"service=frontend&end={start}&start={start - 60_000_000}"));

        // A search returns whole traces: every service's spans.
        var trace2 = (await JaegerAsync(node, "/api/traces?service=price-svc", cancellationToken))[0];
        Assert.Equal(3, trace2.GetProperty("spans").GetArrayLength());
        Assert.Equal(["cart-svc", "frontend", "price-svc"], trace2.GetProperty("processes").EnumerateObject().Select(p => p.Value.GetProperty("serviceName").GetString()).Order(StringComparer.Ordinal));

        var dependencies = await JaegerAsync(node, $"/api/dependencies?endTs={Now.AddMinutes(1).ToUnixTimeMilliseconds()}&lookback=3600000", cancellationToken);
        Assert.Equal(
            ["frontend→cart-svc×2", "frontend→price-svc×1"],
            dependencies.EnumerateArray().Select(d => $"{d.GetProperty("parent").GetString()}→{d.GetProperty("child").GetString()}×{d.GetProperty("callCount").GetInt64()}"));

        var operations = await JaegerAsync(node, "/api/operations?service=frontend&spanKind=server", cancellationToken);
        Assert.Equal(["GET /cart", "POST /pay"], operations.EnumerateArray().Select(o => o.GetProperty("name").GetString()));
    }

    [Theory]
    [InlineData("/api/traces", "parameter 'service' is required")]
    [InlineData("/api/traces?service=a&minDuration=fast", "minDuration 'fast' is not a duration")]
    [InlineData("/api/traces?service=a&tags=%7Bnope", "is not a JSON object")]
    [InlineData("/api/traces?service=a&limit=-3", "limit '-3' is not a whole number")]
    [InlineData("/api/traces?service=a&start=99&end=5", "start must be microseconds since the epoch, not after end")]
    [InlineData("/api/traces/xyz", "'xyz' is not a trace id")]
    [InlineData("/api/traces/0123456789abcdef0123456789abcdef", "trace not found")]
    [InlineData("/api/dependencies?lookback=-1", "lookback must be a positive number")]
    public async Task BadQueriesGetJaegersErrorEnvelope(string path, string reason)
    {
        var cancellationToken = TestContext.Current.CancellationToken;
        await using var node = await TestNode.StartAsync(cancellationToken: cancellationToken);
        using var reply = await node.Http.GetAsync(new Uri(path, UriKind.Relative), cancellationToken);
        Assert.True(reply.StatusCode is HttpStatusCode.BadRequest or HttpStatusCode.NotFound, $"{path}: {reply.StatusCode}");
        using var body = JsonDocument.Parse(await reply.Content.ReadAsStringAsync(cancellationToken));
        var error = Assert.Single(body.RootElement.GetProperty("errors").EnumerateArray());
        Assert.Equal((int)reply.StatusCode, error.GetProperty("code").GetInt32());
        Assert.Contains(reason, error.GetProperty("msg").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task AFullQueueDropsAndCountsWithoutWaiting()
    {
        using var directory = new TempDirectory();
        using var store = SpanStore.Open(Path.Combine(directory.Path, "traces.db"));
        using var meters = new ServiceCollection().AddMetrics().BuildServiceProvider();
        var options = Options.Create(new TelemetryOptions { QueueSpans = 1024 });
        // Not started: nothing drains the queue, as when the disk stalls.
        using var ingest = new SpanIngest(store, options, TimeProvider.System, meters.GetRequiredService<IMeterFactory>(), NullLogger<SpanIngest>.Instance);
        var receiver = new OtlpReceiver(ingest, new NoMetrics(), options);

        static ExportTraceServiceRequest Batch(int first, int count) =>
            Request("flood", [.. Enumerable.Range(first, count).Select(i => Span(TraceId(i), SpanId(i), null, "op", Now, TimeSpan.FromMilliseconds(1)))]);

        Assert.Null(receiver.Accept(Batch(0, 1000), "otlp_http").PartialSuccess);
        var refused = receiver.Accept(Batch(1000, 100), "otlp_http").PartialSuccess;
        Assert.Equal(100, refused.RejectedSpans);
        Assert.Contains("ingest queue is full", refused.ErrorMessage, StringComparison.Ordinal);
        Assert.Null(receiver.Accept(Batch(2000, 24), "otlp_http").PartialSuccess);
        Assert.Equal(1024, ingest.Queued);
        Assert.Equal(100, ingest.Dropped);
    }

    [Fact]
    public async Task RetentionDeletesTheOldestSegmentsByAgeAndCount()
    {
        using var directory = new TempDirectory();
        using var store = SpanStore.Open(Path.Combine(directory.Path, "traces.db"));
        var old = Now.AddDays(-4);
        for (var batch = 0; batch < 5; batch++)
        {
            var start = batch < 2 ? old : Now;
            var request = Request("svc", [.. Enumerable.Range(batch * 100, 100).Select(i => Span(TraceId(i), SpanId(i), null, "op", start, TimeSpan.FromMilliseconds(1), ("batch", batch)))]);
            store.Write(SpanGroup.From(request.ResourceSpans, out _));
        }

        Assert.Equal(500, store.SpanCount);
        var cutoff = Now.AddDays(-3).ToUnixTimeMilliseconds() * 1000;
        Assert.Equal(200, store.Trim(cutoff, maxSpans: 1_000_000));
        Assert.Equal(300, store.SpanCount);
        Assert.Empty(store.Spans([TraceId(150)]));
        Assert.Single(store.Spans([TraceId(250)]));

        Assert.Equal(100, store.Trim(cutoff, maxSpans: 250));
        Assert.Equal(200, store.SpanCount);
        Assert.Empty(store.Spans([TraceId(250)]));
        Assert.Single(store.Spans([TraceId(350)]));
        // The tag index went with its spans: a search by the deleted batch's tag finds nothing, the kept batch's does.
        static TraceQuery ByBatch(int batch) => new() { Service = "svc", Tags = [("batch", batch.ToString(System.Globalization.CultureInfo.InvariantCulture))], StartMicros = 0, EndMicros = long.MaxValue, Limit = 1000 };
        Assert.Empty(store.FindTraceIds(ByBatch(2)));
        Assert.Equal(100, store.FindTraceIds(ByBatch(4)).Count);
        await Task.CompletedTask;
    }

    [Fact]
    public async Task StoredSpansSurviveARestartAndTheNodeTracesItself()
    {
        var cancellationToken = TestContext.Current.CancellationToken;
        using var directory = new TempDirectory();
        var settings = new Dictionary<string, string?>(TestNode.FreeListenerPorts(TestNode.RequireCatalog()));
        await using (var node = await TestNode.StartAsync(directory.Path, settings, cancellationToken))
        {
            await PostProtobufAsync(node, Request("durable", Span(TraceId(42), SpanId(1), null, "kept", Now, TimeSpan.FromMilliseconds(2))), cancellationToken);
            // The node's own request (traced by ASP.NET Core's instrumentation) lands in its own store as service "blueprint".
            using var own = await node.Http.GetAsync(new Uri("/healthz?probe", UriKind.Relative), cancellationToken);
            using var traced = await node.Http.GetAsync(new Uri("/openapi/v1.json", UriKind.Relative), cancellationToken);
            node.Node.Services.GetRequiredService<OpenTelemetry.Trace.TracerProvider>().ForceFlush(10_000);
            await Eventually.TrueAsync(
                async () => (await JaegerAsync(node, "/api/services", cancellationToken)).EnumerateArray().Any(s => s.GetString() == "blueprint"),
                TimeSpan.FromSeconds(20), () => "the node's own spans never arrived", cancellationToken);
            var operations = Strings(await JaegerAsync(node, "/api/services/blueprint/operations", cancellationToken)).ToList();
            Assert.Contains(operations, o => o.Contains("openapi", StringComparison.Ordinal));
            Assert.DoesNotContain(operations, o => o.Contains("healthz", StringComparison.Ordinal) || o.Contains("/api/services", StringComparison.Ordinal));
            await DrainedAsync(node, cancellationToken);
        }

        await using var restarted = await TestNode.StartAsync(directory.Path, settings, cancellationToken);
        var trace = await TraceAsync(restarted, Convert.ToHexStringLower(TraceId(42)), 1, cancellationToken);
        Assert.Equal("kept", trace.GetProperty("spans")[0].GetProperty("operationName").GetString());
        Assert.Contains("durable", Strings(await JaegerAsync(restarted, "/api/services", cancellationToken)));
    }

    private sealed class NoMetrics : IOtlpMetricsSink
    {
        public (long Rejected, string Reason) Accept(Otlp.Collector.Metrics.ExportMetricsServiceRequest request) => (0, "");
    }
}
