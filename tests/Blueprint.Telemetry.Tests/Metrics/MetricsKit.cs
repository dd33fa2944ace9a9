using System.Diagnostics.Metrics;
using System.Text.Json;
using Blueprint.Telemetry.Metrics;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace Blueprint.Telemetry.Tests.Metrics;

/// <summary>A metrics store in a temporary directory with its ingest on a fake clock, and helpers to write points and query.</summary>
internal sealed class MetricsKit : IDisposable
{
    /// <summary>An hour boundary: tests write from here.</summary>
    public static readonly long Start = DateTimeOffset.Parse("2026-03-01T00:00:00Z", System.Globalization.CultureInfo.InvariantCulture).ToUnixTimeMilliseconds();

    private readonly TempDirectory _directory = new("blueprint-metrics");
    private readonly ServiceProvider _services = new ServiceCollection().AddMetrics().AddLogging().BuildServiceProvider();

    public MetricsKit(TelemetryOptions? options = null)
    {
        Options = options ?? new TelemetryOptions();
        Store = MetricStore.Open(Path.Combine(_directory.Path, "metrics.db"));
        Clock = new FakeTimeProvider(DateTimeOffset.FromUnixTimeMilliseconds(Start));
        Ingest = new MetricsIngest(Store, Microsoft.Extensions.Options.Options.Create(Options), Clock, _services.GetRequiredService<IMeterFactory>(), NullLogger<MetricsIngest>.Instance);
    }

    public TelemetryOptions Options { get; }

    public MetricStore Store { get; }

    public MetricsIngest Ingest { get; }

    public FakeTimeProvider Clock { get; }

    public static MetricInfo Gauge(string name = "test.gauge") => new(name, MetricKind.Gauge, "1", "a gauge");

    public static MetricInfo Counter(string name = "test.counter") => new(name, MetricKind.Counter, "{request}", "a counter");

    public static MetricInfo Histogram(string name = "test.histogram") => new(name, MetricKind.Histogram, "s", "a histogram");

    public static KeyValuePair<string, string>[] Labels(params string[] pairs) =>
        [.. pairs.Select(p => p.Split('=')).Select(p => new KeyValuePair<string, string>(p[0], p[1]))];

    /// <summary>Writes <paramref name="points"/> straight into the store (no queue).</summary>
    public void Write(params MetricPoint[] points)
    {
        var stored = new List<StoredPoint>();
        foreach (var point in points)
        {
            var series = Store.Resolve(point, Options.MetricsMaxSeries, out var problem) ?? throw new InvalidOperationException(problem);
            stored.Add(new StoredPoint(series, point.TimeMs, point.Value, point.Sum, point.Buckets));
        }

        Store.Write(stored);
    }

    /// <summary>Rolls up everything complete at <paramref name="nowMs"/>, however many calls it takes.</summary>
    public void RollupAll(long nowMs)
    {
        while (true)
        {
            var before = (Store.Watermark(1), Store.Watermark(2));
            Store.Rollup(nowMs, 0);
            if ((Store.Watermark(1), Store.Watermark(2)) == before)
            {
                return;
            }
        }
    }

    /// <summary>Runs a query as the endpoint does and returns its status and JSON body.</summary>
    public async Task<(int Status, JsonElement Body)> QueryAsync(string queryString, long nowMs)
    {
        var query = new QueryCollection(QueryHelpers.ParseQuery(queryString));
        var result = MetricsApi.Query(query, Store, Options, nowMs);
        var context = new DefaultHttpContext { RequestServices = _services };
        using var body = new MemoryStream();
        context.Response.Body = body;
        await result.ExecuteAsync(context);
        return (context.Response.StatusCode, JsonDocument.Parse(body.ToArray()).RootElement.Clone());
    }

    /// <summary>The values of the only series of a query's answer (null where a step has no data).</summary>
    public static double?[] Values(JsonElement body, int series = 0) =>
        [.. body.GetProperty("series")[series].GetProperty("points").EnumerateArray().Select(p => p[1].ValueKind == JsonValueKind.Null ? (double?)null : p[1].GetDouble())];

    public void Dispose()
    {
        Ingest.Dispose();
        Store.Dispose();
        _services.Dispose();
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        _directory.Dispose();
    }
}
