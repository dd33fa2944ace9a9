using System.Diagnostics.Metrics;
using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Blueprint.Telemetry.Metrics;
using Blueprint.Telemetry.Otlp.Collector.Metrics;
using Blueprint.Telemetry.Otlp.Common;
using Google.Protobuf;
using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry;
using OpenTelemetry.Exporter;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OtlpMetrics = Blueprint.Telemetry.Otlp.Metrics;
using OtlpResource = Blueprint.Telemetry.Otlp.Resource.Resource;

namespace Blueprint.Telemetry.Tests.Metrics;

/// <summary>Metrics in through OTLP/HTTP from the OpenTelemetry .NET SDK (and by hand), out through <c>/api/metrics</c>.</summary>
public sealed class MetricsApiTests
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(30);

    private static Uri OtlpMetricsUri(TestNode node) => new($"http://127.0.0.1:{node.PortOf("Telemetry:OtlpHttpPort")}/v1/metrics");

    private static Task DrainedAsync(TestNode node, CancellationToken cancellationToken)
    {
        var ingest = node.Node.Services.GetRequiredService<MetricsIngest>();
        return Eventually.TrueAsync(() => ingest.Queued == 0, Deadline, () => $"{ingest.Queued} points still queued", cancellationToken);
    }

    private static async Task<JsonElement> GetJsonAsync(TestNode node, string path, CancellationToken cancellationToken)
    {
        using var response = await node.Http.GetAsync(new Uri(path, UriKind.Relative), cancellationToken);
        var text = await response.Content.ReadAsStringAsync(cancellationToken);
        Assert.True(response.IsSuccessStatusCode, $"{path}: {(int)response.StatusCode} {text}");
        return JsonDocument.Parse(text).RootElement.Clone();
    }

    private static double? LastValue(JsonElement body, int series = 0) =>
        body.GetProperty("series")[series].GetProperty("points").EnumerateArray()
            .Where(p => p[1].ValueKind != JsonValueKind.Null).Select(p => (double?)p[1].GetDouble()).LastOrDefault();

    [Fact]
    public async Task Metrics_an_sdk_exports_over_otlp_http_are_queried_back()
    {
        var cancellationToken = TestContext.Current.CancellationToken;
        await using var node = await TestNode.StartAsync(settings: new Dictionary<string, string?> { ["Telemetry:StoreOwnMetrics"] = "false" }, cancellationToken: cancellationToken);
        using var meter = new Meter("shop");
        var orders = meter.CreateCounter<long>("shop.orders", "{order}", "Orders placed.");
        var latency = meter.CreateHistogram<double>("shop.latency", "s", "Checkout latency.");
        using var provider = Sdk.CreateMeterProviderBuilder()
            .ConfigureResource(resource => resource.AddService("shop"))
            .AddMeter("shop")
            .AddView("shop.latency", new ExplicitBucketHistogramConfiguration { Boundaries = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10] })
            .AddOtlpExporter((exporter, reader) =>
            {
                exporter.Endpoint = OtlpMetricsUri(node);
                exporter.Protocol = OtlpExportProtocol.HttpProtobuf;
                reader.TemporalityPreference = MetricReaderTemporalityPreference.Cumulative;
                reader.PeriodicExportingMetricReaderOptions.ExportIntervalMilliseconds = 3_600_000;
            })
            .Build();

        // First export: a thousand fast checkouts. Second: a hundred spread evenly over 0–10 s, which is what the
        // percentiles over the latest step must see (the increase between the two cumulative points).
        orders.Add(5, new KeyValuePair<string, object?>("region", "eu"));
        orders.Add(7, new KeyValuePair<string, object?>("region", "us"));
        for (var i = 0; i < 1000; i++)
        {
            latency.Record(0.5);
        }

        Assert.True(provider.ForceFlush(10_000));
        orders.Add(3, new KeyValuePair<string, object?>("region", "eu"));
        for (var i = 0; i < 100; i++)
        {
            latency.Record((i / 10.0) + 0.05);
        }

        Assert.True(provider.ForceFlush(10_000));
        await DrainedAsync(node, cancellationToken);

        var names = await GetJsonAsync(node, "/api/metrics/names", cancellationToken);
        var orderInfo = names.GetProperty("names").EnumerateArray().Single(n => n.GetProperty("name").GetString() == "shop.orders");
        Assert.Equal(("{order}", "counter", "Orders placed."), (orderInfo.GetProperty("unit").GetString(), orderInfo.GetProperty("kind").GetString(), orderInfo.GetProperty("description").GetString()));
        var latencyInfo = names.GetProperty("names").EnumerateArray().Single(n => n.GetProperty("name").GetString() == "shop.latency");
        Assert.Equal(("s", "histogram"), (latencyInfo.GetProperty("unit").GetString(), latencyInfo.GetProperty("kind").GetString()));

        var perRegion = await GetJsonAsync(node, "/api/metrics/query?name=shop.orders&agg=last", cancellationToken);
        Assert.Equal("{order}", perRegion.GetProperty("unit").GetString());
        Assert.Equal(2, perRegion.GetProperty("series").GetArrayLength());
        Assert.Equal("eu", perRegion.GetProperty("series")[0].GetProperty("labels").GetProperty("region").GetString());
        Assert.Equal("shop", perRegion.GetProperty("series")[0].GetProperty("labels").GetProperty("service.name").GetString());
        Assert.Equal(8.0, LastValue(perRegion, 0));
        Assert.Equal(7.0, LastValue(perRegion, 1));
        var total = await GetJsonAsync(node, "/api/metrics/query?name=shop.orders&agg=last&group=", cancellationToken);
        Assert.Equal(15.0, LastValue(total));

        var p50 = await GetJsonAsync(node, "/api/metrics/query?name=shop.latency&agg=p50&group=", cancellationToken);
        Assert.Equal(5.0, LastValue(p50)!.Value, 6);
        var p99 = await GetJsonAsync(node, "/api/metrics/query?name=shop.latency&group=", cancellationToken);
        Assert.Equal("p99", p99.GetProperty("agg").GetString());
        Assert.Equal(9.9, LastValue(p99)!.Value, 6);
        Assert.Equal(10, p99.GetProperty("step").GetInt32());
    }

    [Fact]
    public async Task Malformed_points_are_rejected_with_the_reason_and_the_good_ones_stored()
    {
        var cancellationToken = TestContext.Current.CancellationToken;
        await using var node = await TestNode.StartAsync(settings: new Dictionary<string, string?> { ["Telemetry:StoreOwnMetrics"] = "false" }, cancellationToken: cancellationToken);
        var now = (ulong)DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() * 1_000_000;
        var gauge = new OtlpMetrics.Metric { Name = "app.temperature", Unit = "Cel", Gauge = new OtlpMetrics.Gauge() };
        gauge.Gauge.DataPoints.Add(new OtlpMetrics.NumberDataPoint { TimeUnixNano = now, AsDouble = 21.5 });
        gauge.Gauge.DataPoints.Add(new OtlpMetrics.NumberDataPoint { TimeUnixNano = 0, AsDouble = 22 });
        gauge.Gauge.DataPoints.Add(new OtlpMetrics.NumberDataPoint { TimeUnixNano = now, AsDouble = double.NaN });
        var histogram = new OtlpMetrics.Metric { Name = "app.latency", Unit = "s", Histogram = new OtlpMetrics.Histogram { AggregationTemporality = OtlpMetrics.AggregationTemporality.Cumulative } };
        var bad = new OtlpMetrics.HistogramDataPoint { TimeUnixNano = now, Count = 3, Sum = 1 };
        bad.ExplicitBounds.Add([0.1, 1]);
        bad.BucketCounts.Add([1, 2]);
        histogram.Histogram.DataPoints.Add(bad);
        var request = new ExportMetricsServiceRequest();
        var resource = new OtlpMetrics.ResourceMetrics { Resource = new OtlpResource() };
        resource.Resource.Attributes.Add(new KeyValue { Key = "service.name", Value = new AnyValue { StringValue = "thermo" } });
        resource.ScopeMetrics.Add(new OtlpMetrics.ScopeMetrics { Metrics = { gauge, histogram } });
        request.ResourceMetrics.Add(resource);

        using var http = new HttpClient();
        using var content = new ByteArrayContent(request.ToByteArray());
        content.Headers.ContentType = new MediaTypeHeaderValue("application/x-protobuf");
        using var response = await http.PostAsync(OtlpMetricsUri(node), content, cancellationToken);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var reply = ExportMetricsServiceResponse.Parser.ParseFrom(await response.Content.ReadAsByteArrayAsync(cancellationToken));
        Assert.Equal(3, reply.PartialSuccess.RejectedDataPoints);
        Assert.Contains("time_unix_nano 0", reply.PartialSuccess.ErrorMessage, StringComparison.Ordinal);
        await DrainedAsync(node, cancellationToken);
        var stored = await GetJsonAsync(node, "/api/metrics/query?name=app.temperature&agg=last", cancellationToken);
        Assert.Equal(21.5, LastValue(stored));
        using var missing = await node.Http.GetAsync(new Uri("/api/metrics/query?name=app.latency", UriKind.Relative), cancellationToken);
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
    }

    [Fact]
    public void A_histogram_whose_buckets_do_not_match_its_bounds_is_rejected_by_the_sink_with_that_reason()
    {
        using var kit = new MetricsKit();
        var sink = new MetricsSink(kit.Ingest, kit.Clock);
        var histogram = new OtlpMetrics.Metric { Name = "app.latency", Unit = "s", Histogram = new OtlpMetrics.Histogram { AggregationTemporality = OtlpMetrics.AggregationTemporality.Cumulative } };
        var point = new OtlpMetrics.HistogramDataPoint { TimeUnixNano = (ulong)MetricsKit.Start * 1_000_000, Count = 3, Sum = 1 };
        point.ExplicitBounds.Add([0.1, 1]);
        point.BucketCounts.Add([1, 2]);
        histogram.Histogram.DataPoints.Add(point);
        var request = new ExportMetricsServiceRequest { ResourceMetrics = { new OtlpMetrics.ResourceMetrics { ScopeMetrics = { new OtlpMetrics.ScopeMetrics { Metrics = { histogram } } } } } };

        var (rejected, reason) = sink.Accept(request);

        Assert.Equal(1, rejected);
        Assert.Contains("2 bucket counts for 2 bounds (it needs 3)", reason, StringComparison.Ordinal);
        point.BucketCounts.Add(1);
        Assert.Contains("summing to 4, not its count 3", sink.Accept(request).Reason, StringComparison.Ordinal);
        point.Count = 4;
        Assert.Equal(0, sink.Accept(request).Rejected);
    }

    [Theory]
    [InlineData("from=10&to=5", "'from' (10) must be before 'to' (5)")]
    [InlineData("from=abc", "'from' ('abc') must be a time in unix milliseconds")]
    [InlineData("step=0", "'step' ('0') must be a whole number of seconds")]
    [InlineData("step=1.5", "'step' ('1.5') must be a whole number of seconds")]
    [InlineData("agg=median", "'agg' ('median') must be one of")]
    [InlineData("agg=rate", "'rate' applies to counters and histograms")]
    [InlineData("agg=p99", "'p99' applies to histograms")]
    [InlineData("FIVE_HOURS&step=1", "a step of 1 s over 18000 s gives")]
    public async Task A_bad_query_parameter_is_a_400_problem_naming_it(string parameters, string detail)
    {
        var cancellationToken = TestContext.Current.CancellationToken;
        await using var node = await TestNode.StartAsync(settings: new Dictionary<string, string?> { ["Telemetry:StoreOwnMetrics"] = "false" }, cancellationToken: cancellationToken);
        var ingest = node.Node.Services.GetRequiredService<MetricsIngest>();
        ingest.Add([new Blueprint.Telemetry.Metrics.MetricPoint(MetricsKit.Gauge(), MetricsKit.Labels("k=a"), DateTimeOffset.UtcNow.ToUnixTimeMilliseconds(), 1)]);

        var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        parameters = parameters.Replace("FIVE_HOURS", $"from={now - (5 * 3_600_000)}&to={now}", StringComparison.Ordinal);

        using var response = await node.Http.GetAsync(new Uri($"/api/metrics/query?name=test.gauge&{parameters}", UriKind.Relative), cancellationToken);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = JsonDocument.Parse(await response.Content.ReadAsStringAsync(cancellationToken)).RootElement;
        Assert.Contains(detail, problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_query_without_a_name_is_a_400_and_an_unknown_name_a_404()
    {
        var cancellationToken = TestContext.Current.CancellationToken;
        await using var node = await TestNode.StartAsync(settings: new Dictionary<string, string?> { ["Telemetry:StoreOwnMetrics"] = "false" }, cancellationToken: cancellationToken);

        using var noName = await node.Http.GetAsync(new Uri("/api/metrics/query", UriKind.Relative), cancellationToken);
        using var unknown = await node.Http.GetAsync(new Uri("/api/metrics/query?name=no.such", UriKind.Relative), cancellationToken);

        Assert.Equal(HttpStatusCode.BadRequest, noName.StatusCode);
        Assert.Contains("'name' is required", await noName.Content.ReadAsStringAsync(cancellationToken), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
        Assert.Equal("application/problem+json", unknown.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task The_node_stores_its_own_metrics()
    {
        var cancellationToken = TestContext.Current.CancellationToken;
        await using var node = await TestNode.StartAsync(settings: new Dictionary<string, string?> { ["Telemetry:MetricsIntervalSeconds"] = "1" }, cancellationToken: cancellationToken);
        using (await node.Http.GetAsync(new Uri("/healthz", UriKind.Relative), cancellationToken))
        {
        }

        var names = await Eventually.ValueAsync(
            () => GetJsonAsync(node, "/api/metrics/names", cancellationToken),
            body => body.GetProperty("names").EnumerateArray().Any(n => n.GetProperty("name").GetString() == "http.server.request.duration"),
            Deadline,
            body => $"no http.server.request.duration in {body}",
            cancellationToken);
        var duration = names.GetProperty("names").EnumerateArray().Single(n => n.GetProperty("name").GetString() == "http.server.request.duration");
        Assert.Equal(("s", "histogram"), (duration.GetProperty("unit").GetString(), duration.GetProperty("kind").GetString()));
        Assert.Contains(names.GetProperty("names").EnumerateArray(), n => n.GetProperty("name").GetString() == "blueprint.telemetry.metric_series" && n.GetProperty("kind").GetString() == "gauge");
        // Stored as a series of its own. (Its value is not checked here: every test node in this process has a
        // "blueprint" meter with this gauge, and the OpenTelemetry SDK listens to meters by name, not by node.)
        var series = await GetJsonAsync(node, "/api/metrics/query?name=blueprint.telemetry.metric_series&agg=last&group=", cancellationToken);
        Assert.Equal(1, series.GetProperty("series").GetArrayLength());
        Assert.True(node.Node.Services.GetRequiredService<MetricStore>().SeriesCount > 0);
    }
}
