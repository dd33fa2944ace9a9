using Blueprint.Telemetry.Metrics;
using static Blueprint.Telemetry.Tests.Metrics.MetricsKit;

namespace Blueprint.Telemetry.Tests.Metrics;

public sealed class MetricStoreTests
{
    private const long Second = 1000;
    private const long Minute = 60 * Second;
    private const long Hour = 60 * Minute;

    [Fact]
    public void A_minute_rollup_holds_the_count_sum_min_max_and_last_of_its_points()
    {
        using var kit = new MetricsKit();
        // Minute 0: 3, 1, 4, 1, 5, 9 (every 10 s); minute 1: 2, 6.
        double[] values = [3, 1, 4, 1, 5, 9, 2, 6];
        kit.Write([.. values.Select((v, i) => new MetricPoint(Gauge(), Labels("k=a"), Start + (i * 10 * Second), v))]);

        kit.RollupAll(Start + (5 * Minute));

        var series = kit.Store.Find("test.gauge")!.Value.Series[0];
        var rows = kit.Store.Rows(series, 1, Start, Start + (5 * Minute));
        Assert.Equal(2, rows.Count);
        Assert.Equal((Start, 6L, 23.0, 1.0, 9.0, 9.0), (rows[0].TimeMs, rows[0].Count, rows[0].Sum, rows[0].Min, rows[0].Max, rows[0].Last));
        Assert.Equal((Start + Minute, 2L, 8.0, 2.0, 6.0, 6.0), (rows[1].TimeMs, rows[1].Count, rows[1].Sum, rows[1].Min, rows[1].Max, rows[1].Last));
    }

    [Theory]
    [InlineData("test.gauge", "avg")]
    [InlineData("test.gauge", "min")]
    [InlineData("test.gauge", "max")]
    [InlineData("test.gauge", "last")]
    [InlineData("test.counter", "rate")]
    [InlineData("test.counter", "last")]
    [InlineData("test.histogram", "rate")]
    [InlineData("test.histogram", "avg")]
    [InlineData("test.histogram", "p50")]
    [InlineData("test.histogram", "p99")]
    public async Task A_query_that_reads_rollups_answers_what_the_raw_points_answer(string name, string agg)
    {
        using var kit = new MetricsKit();
        WriteThreeHours(kit);
        var now = Start + (3 * Hour) + (5 * Minute);
        var query = $"?name={name}&from={Start}&to={Start + (3 * Hour)}&agg={agg}";

        // Before any rollup every tier's read falls through to the raw points.
        var (_, rawMinutes) = await kit.QueryAsync(query + "&step=60", now);
        var (_, rawHours) = await kit.QueryAsync(query + "&step=3600", now);
        kit.RollupAll(now);
        Assert.True(kit.Store.Watermark(2) >= Start + (3 * Hour), "the hours are rolled up");
        var (status, minutes) = await kit.QueryAsync(query + "&step=60", now);
        var (_, hours) = await kit.QueryAsync(query + "&step=3600", now);

        Assert.Equal(200, status);
        Assert.Equal(180, Values(minutes).Length);
        Assert.Equal(3, Values(hours).Length);
        Assert.Equal(Values(rawMinutes), Values(minutes), Close);
        Assert.Equal(Values(rawHours), Values(hours), Close);
        Assert.Contains(Values(hours), v => v is not null && v != 0);
    }

    private static bool Close(double? a, double? b) => a is null ? b is null : b is not null && Math.Abs(a.Value - b.Value) <= 1e-9 * Math.Max(1, Math.Abs(a.Value));

    /// <summary>Three hours of points every 10 s: a wandering gauge, a counter that resets once, a histogram that grows.</summary>
    private static void WriteThreeHours(MetricsKit kit)
    {
        var points = new List<MetricPoint>();
        double counter = 0;
        var buckets = new long[4];
        double sum = 0;
        for (var i = 0; i < 3 * 360; i++)
        {
            var t = Start + (i * 10 * Second);
            points.Add(new MetricPoint(Gauge(), Labels("k=a"), t, Math.Sin(i / 7.0) * 100));
            counter = i == 500 ? 3 : counter + (i % 7);
            points.Add(new MetricPoint(Counter(), Labels("k=a"), t, counter));
            buckets[i % 4] += 1 + (i % 3);
            buckets[0] += i % 2;
            sum += 0.5 * (i % 5);
            points.Add(new MetricPoint(Histogram(), Labels("k=a"), t, buckets.Sum(), sum, [0.1, 0.5, 1.0], [.. buckets]));
        }

        kit.Write([.. points]);
    }

    [Fact]
    public void Retention_deletes_the_rows_past_each_tier_s_age_and_only_those()
    {
        using var kit = new MetricsKit(new TelemetryOptions { MetricsRawRetentionHours = 6, MetricsMinuteRetentionDays = 1, MetricsHourRetentionDays = 2 });
        // A point a minute for three days.
        var points = Enumerable.Range(0, 3 * 24 * 60).Select(i => new MetricPoint(Gauge(), Labels("k=a"), Start + (i * Minute), i)).ToArray();
        kit.Write(points);
        var end = Start + (3 * 24 * Hour);
        kit.RollupAll(end);
        var series = kit.Store.Find("test.gauge")!.Value.Series[0];
        Assert.Equal(3 * 24 * 60, kit.Store.Rows(series, 1, Start, end).Count);

        kit.Clock.SetUtcNow(DateTimeOffset.FromUnixTimeMilliseconds(end));
        kit.Ingest.Maintain();

        var raw = kit.Store.Rows(series, 0, 0, long.MaxValue);
        Assert.Equal(end - (6 * Hour), raw[0].TimeMs);
        Assert.Equal(6 * 60, raw.Count);
        var minutes = RowsOf(kit, "m1", series);
        Assert.Equal(end - (24 * Hour), minutes.Min());
        Assert.Equal(24 * 60, minutes.Count);
        var hours = RowsOf(kit, "h1", series);
        Assert.Equal(end - (48 * Hour), hours.Min());
        Assert.Equal(48, hours.Count);
    }

    private static List<long> RowsOf(MetricsKit kit, string table, Series series)
    {
        var tier = Array.FindIndex(MetricStore.Tiers, t => t.Table == table);
        // Read only that tier: up to its watermark, from the start of time.
        return [.. kit.Store.Rows(series, tier, 0, kit.Store.Watermark(tier)).Select(r => r.TimeMs)];
    }

    [Fact]
    public async Task The_rate_of_a_counter_is_its_increase_per_second_and_a_reset_counts_from_zero()
    {
        using var kit = new MetricsKit();
        double[] values = [100, 110, 120, 150, 5, 15];
        kit.Write([.. values.Select((v, i) => new MetricPoint(Counter(), Labels("k=a"), Start + (i * 10 * Second), v))]);

        var (status, body) = await kit.QueryAsync($"?name=test.counter&from={Start + (10 * Second)}&to={Start + (60 * Second)}&step=10", Start + Minute);

        Assert.Equal(200, status);
        Assert.Equal("rate", body.GetProperty("agg").GetString());
        Assert.Equal([1.0, 1.0, 3.0, 0.5, 1.0], Values(body));
        // Wider steps sum the increases inside them; the first point of all has nothing before it to increase from.
        var (_, wide) = await kit.QueryAsync($"?name=test.counter&from={Start}&to={Start + (60 * Second)}&step=30", Start + Minute);
        Assert.Equal([(0 + 10 + 10) / 30.0, (30 + 5 + 10) / 30.0], Values(wide));
    }

    [Fact]
    public async Task Percentiles_of_a_histogram_come_from_the_bucket_increases_over_the_step()
    {
        using var kit = new MetricsKit();
        double[] bounds = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
        // Before the step: 1000 observations all in the first bucket, which the step must not see.
        var before = new long[11];
        before[0] = 1000;
        // During the step: 100 observations spread evenly over 0–10 s (10 a bucket), so pNN is NN/10 s exactly.
        var after = (long[])before.Clone();
        for (var i = 0; i < 10; i++)
        {
            after[i] += 10;
        }

        kit.Write(
            new MetricPoint(Histogram(), Labels("k=a"), Start, 1000, 300, bounds, before),
            new MetricPoint(Histogram(), Labels("k=a"), Start + (10 * Second), 1100, 800, bounds, after));

        async Task<double> Agg(string agg)
        {
            var (status, body) = await kit.QueryAsync($"?name=test.histogram&from={Start + (10 * Second)}&to={Start + (20 * Second)}&step=10&agg={agg}", Start + Minute);
            Assert.Equal(200, status);
            return Values(body).Single()!.Value;
        }

        Assert.Equal(5.0, await Agg("p50"), 9);
        Assert.Equal(9.5, await Agg("p95"), 9);
        Assert.Equal(9.9, await Agg("p99"), 9);
        Assert.Equal(5.0, await Agg("avg"), 9);
        Assert.Equal(10.0, await Agg("rate"), 9);
    }

    [Theory]
    [InlineData(0.5, 50.0 / 90)]
    [InlineData(0.9, 1.0)]
    [InlineData(0.95, 1.5)]
    [InlineData(0.99, 1.9)]
    public void A_quantile_interpolates_inside_its_bucket_as_prometheus_does(double q, double expected)
    {
        // 90 observations in (0, 1], 10 in (1, 2], none above.
        Assert.Equal(expected, MetricMath.Quantile(q, [1, 2, 4], [90, 10, 0, 0])!.Value, 9);
    }

    [Fact]
    public void A_quantile_in_the_overflow_bucket_is_the_last_bound_and_an_empty_histogram_has_none()
    {
        Assert.Equal(4.0, MetricMath.Quantile(0.99, [1, 2, 4], [10, 10, 10, 70]));
        Assert.Null(MetricMath.Quantile(0.5, [1, 2, 4], [0, 0, 0, 0]));
    }

    [Fact]
    public async Task Grouping_sums_label_sets_and_an_empty_group_sums_them_all()
    {
        using var kit = new MetricsKit();
        kit.Write(
            new MetricPoint(Gauge(), Labels("route=/a", "code=200"), Start, 1),
            new MetricPoint(Gauge(), Labels("route=/a", "code=500"), Start, 2),
            new MetricPoint(Gauge(), Labels("route=/b", "code=200"), Start, 4));
        var range = $"&from={Start}&to={Start + (10 * Second)}&step=10";

        var (_, all) = await kit.QueryAsync("?name=test.gauge" + range, Start + Minute);
        var (_, byRoute) = await kit.QueryAsync("?name=test.gauge&group=route" + range, Start + Minute);
        var (_, one) = await kit.QueryAsync("?name=test.gauge&group=" + range, Start + Minute);

        Assert.Equal(3, all.GetProperty("series").GetArrayLength());
        Assert.Equal(2, byRoute.GetProperty("series").GetArrayLength());
        Assert.Equal("/a", byRoute.GetProperty("series")[0].GetProperty("labels").GetProperty("route").GetString());
        Assert.Equal([3.0], Values(byRoute, 0));
        Assert.Equal([4.0], Values(byRoute, 1));
        Assert.Equal([7.0], Values(one));
        Assert.Empty(one.GetProperty("series")[0].GetProperty("labels").EnumerateObject());
    }

    [Fact]
    public void Points_of_new_series_past_the_limit_are_refused_and_counted_while_known_series_still_take_points()
    {
        using var kit = new MetricsKit(new TelemetryOptions { MetricsMaxSeries = 10 });
        var first = Enumerable.Range(0, 12).Select(i => new MetricPoint(Gauge(), Labels($"i={i}"), Start, i)).ToList();

        var (rejected, reason) = kit.Ingest.Add(first);

        Assert.Equal(2, rejected);
        Assert.Contains("maximum of 10 series", reason, StringComparison.Ordinal);
        Assert.Equal(10, kit.Store.SeriesCount);
        Assert.Equal(2, kit.Ingest.Dropped);
        var (again, _) = kit.Ingest.Add([new MetricPoint(Gauge(), Labels("i=3"), Start + Second, 3), new MetricPoint(Gauge(), Labels("i=11"), Start + Second, 11)]);
        Assert.Equal(1, again);
        Assert.Equal(3, kit.Ingest.Dropped);
    }

    [Fact]
    public void A_metric_sent_as_another_kind_is_refused()
    {
        using var kit = new MetricsKit();
        kit.Ingest.Add([new MetricPoint(Gauge("x"), Labels("k=a"), Start, 1)]);

        var (rejected, reason) = kit.Ingest.Add([new MetricPoint(Counter("x"), Labels("k=b"), Start, 1)]);

        Assert.Equal(1, rejected);
        Assert.Contains("stored as a gauge", reason, StringComparison.Ordinal);
    }

    [Fact]
    public void The_store_keeps_series_and_rollup_progress_across_a_reopen()
    {
        using var directory = new TempDirectory("blueprint-metrics");
        var path = Path.Combine(directory.Path, "metrics.db");
        using (var store = MetricStore.Open(path))
        {
            var series = store.Resolve(new MetricPoint(Gauge(), Labels("k=a"), Start, 1), 100, out _)!;
            store.Write([new StoredPoint(series, Start, 1, 0, null), new StoredPoint(series, Start + Minute, 2, 0, null)]);
            store.Rollup(Start + (2 * Minute), 0);
        }

        using (var store = MetricStore.Open(path))
        {
            var found = store.Find("test.gauge")!.Value;
            Assert.Equal(MetricKind.Gauge, found.Metric.Kind);
            Assert.Equal("a", found.Series[0].Labels["k"]);
            Assert.Equal(Start + (2 * Minute), store.Watermark(1));
            Assert.Equal([1.0, 2.0], store.Rows(found.Series[0], 1, Start, Start + (2 * Minute)).Select(r => r.Sum));
        }

        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
    }
}
