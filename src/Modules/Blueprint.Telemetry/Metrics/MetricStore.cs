using System.Globalization;
using System.Runtime.InteropServices;
using System.Text.Json;
using Microsoft.Data.Sqlite;

namespace Blueprint.Telemetry.Metrics;

/// <summary>
/// The metrics time-series store: one SQLite file (WAL), three tiers. <c>raw</c> keeps every point as written (one a
/// series every <see cref="TelemetryOptions.MetricsIntervalSeconds"/>); <c>m1</c> and <c>h1</c> keep one row a series a
/// minute and an hour with the count, sum, min, max and last of the values, the reset-aware increase of a counter and,
/// for a histogram, the increases of its count, sum and every bucket. Rollups compose (an hour is the sum of its
/// minutes), so a query over a long range reads few rows, and a rate or percentile over any window is a sum of
/// increases. Series are <c>(name, labels)</c> → id, held in memory too.
/// <para>
/// Why SQLite and not an in-memory ring in front of it: the trace store already depends on it, one writer appends a
/// few thousand points every ten seconds (a transaction of that size is well under a millisecond of work), and a
/// dashboard's 15-minute query reads about a hundred rows a series by primary key. A ring would add a second copy of
/// the recent data and a restart gap for no measured need; docs/tracing.md ("Metrics time series") has the numbers.
/// </para>
/// One writer (the ingest loop) writes, rolls up and deletes; queries use their own pooled connections.
/// </summary>
internal sealed class MetricStore : IDisposable
{
    /// <summary>The tiers, finest first.</summary>
    internal static readonly Tier[] Tiers = [new("raw", 0), new("m1", 60_000), new("h1", 3_600_000)];

    private static readonly string[] RollupParameters = ["$s", "$t", "$n", "$sum", "$min", "$max", "$last", "$inc", "$hsum", "$hb"];
    private readonly string _connectionString;
    private readonly SqliteConnection _writer;
    private readonly Lock _lock = new();
    private readonly Dictionary<string, MetricInfo> _metrics = new(StringComparer.Ordinal);
    private readonly Dictionary<(string Name, string Labels), Series> _series = [];
    private readonly Dictionary<string, List<Series>> _seriesByName = new(StringComparer.Ordinal);
    private readonly long[] _watermarks = new long[Tiers.Length];
    private long _nextSeriesId = 1;

    private MetricStore(string path)
    {
        _connectionString = new SqliteConnectionStringBuilder { DataSource = path, Pooling = true }.ToString();
        _writer = new SqliteConnection(_connectionString);
        _writer.Open();
        var tiers = string.Concat(Tiers.Skip(1).Select(tier => $"""
            CREATE TABLE IF NOT EXISTS {tier.Table} (series INTEGER NOT NULL, t INTEGER NOT NULL, n INTEGER NOT NULL, sum REAL NOT NULL,
                min REAL NOT NULL, max REAL NOT NULL, last REAL NOT NULL, inc REAL NOT NULL, hsum REAL NOT NULL, hb BLOB,
                PRIMARY KEY (series, t)) WITHOUT ROWID;
            CREATE INDEX IF NOT EXISTS {tier.Table}_t ON {tier.Table} (t);

            """));
        Execute(_writer, $"""
            PRAGMA journal_mode = WAL;
            PRAGMA synchronous = NORMAL;
            CREATE TABLE IF NOT EXISTS metrics (name TEXT PRIMARY KEY, kind INTEGER NOT NULL, unit TEXT NOT NULL, description TEXT NOT NULL) WITHOUT ROWID;
            CREATE TABLE IF NOT EXISTS series (id INTEGER PRIMARY KEY, name TEXT NOT NULL, labels TEXT NOT NULL, bounds BLOB, UNIQUE (name, labels));
            CREATE TABLE IF NOT EXISTS raw (series INTEGER NOT NULL, t INTEGER NOT NULL, v REAL NOT NULL, hsum REAL NOT NULL, hb BLOB, PRIMARY KEY (series, t)) WITHOUT ROWID;
            CREATE INDEX IF NOT EXISTS raw_t ON raw (t);
            {tiers}
            CREATE TABLE IF NOT EXISTS state (key TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID;
            """);
        Load();
    }

    /// <summary>Series known (stored or about to be).</summary>
    public int SeriesCount
    {
        get
        {
            lock (_lock)
            {
                return _series.Count;
            }
        }
    }

    /// <summary>Opens (or creates) the store at <paramref name="path"/>.</summary>
    public static MetricStore Open(string path) => new(path);

    private void Load()
    {
        using (var command = _writer.CreateCommand())
        {
            command.CommandText = "SELECT name, kind, unit, description FROM metrics";
            using var reader = command.ExecuteReader();
            while (reader.Read())
            {
                var info = new MetricInfo(reader.GetString(0), (MetricKind)reader.GetInt32(1), reader.GetString(2), reader.GetString(3));
                _metrics[info.Name] = info;
            }
        }

        using (var command = _writer.CreateCommand())
        {
            command.CommandText = "SELECT id, name, labels, bounds FROM series";
            using var reader = command.ExecuteReader();
            while (reader.Read())
            {
                var name = reader.GetString(1);
                if (!_metrics.TryGetValue(name, out var metric))
                {
                    continue;
                }

                var labels = reader.GetString(2);
                var bounds = reader.IsDBNull(3) ? null : MemoryMarshal.Cast<byte, double>((byte[])reader.GetValue(3)).ToArray();
                var series = new Series(reader.GetInt64(0), metric, labels, ParseLabels(labels), bounds) { Persisted = true };
                Add(series);
                _nextSeriesId = Math.Max(_nextSeriesId, series.Id + 1);
            }
        }

        using (var command = _writer.CreateCommand())
        {
            command.CommandText = "SELECT key, value FROM state";
            using var reader = command.ExecuteReader();
            while (reader.Read())
            {
                var index = Array.FindIndex(Tiers, tier => tier.Table == reader.GetString(0));
                if (index > 0)
                {
                    _watermarks[index] = reader.GetInt64(1);
                }
            }
        }
    }

    private void Add(Series series)
    {
        _series[(series.Metric.Name, series.LabelsJson)] = series;
        if (!_seriesByName.TryGetValue(series.Metric.Name, out var list))
        {
            _seriesByName[series.Metric.Name] = list = [];
        }

        list.Add(series);
    }

    /// <summary>Every metric with at least one series.</summary>
    public IReadOnlyList<MetricInfo> Metrics()
    {
        lock (_lock)
        {
            return [.. _seriesByName.Keys.Select(name => _metrics[name]).OrderBy(m => m.Name, StringComparer.Ordinal)];
        }
    }

    /// <summary>The metric named <paramref name="name"/> and its series, or null.</summary>
    public (MetricInfo Metric, IReadOnlyList<Series> Series)? Find(string name)
    {
        lock (_lock)
        {
            return _seriesByName.TryGetValue(name, out var list) ? (_metrics[name], [.. list]) : null;
        }
    }

    /// <summary>
    /// The series of <paramref name="point"/>, created when new; null with the reason when the metric is known as another
    /// kind, the histogram's bounds changed, or a new series would pass <paramref name="maxSeries"/>.
    /// </summary>
    public Series? Resolve(MetricPoint point, int maxSeries, out string? problem)
    {
        var labels = LabelsJson(point.Labels);
        lock (_lock)
        {
            if (_metrics.TryGetValue(point.Metric.Name, out var known) && known.Kind != point.Metric.Kind)
            {
                problem = $"metric {point.Metric.Name} is stored as a {MetricKinds.Name(known.Kind)}, not a {MetricKinds.Name(point.Metric.Kind)}";
                return null;
            }

            if (_series.TryGetValue((point.Metric.Name, labels), out var series))
            {
                if (point.Metric.Kind == MetricKind.Histogram && !(series.Bounds ?? []).AsSpan().SequenceEqual(point.Bounds ?? []))
                {
                    problem = $"histogram {point.Metric.Name} changed its bucket bounds";
                    return null;
                }

                problem = null;
                return series;
            }

            if (_series.Count >= maxSeries)
            {
                problem = $"the store holds its maximum of {maxSeries} series (Telemetry:MetricsMaxSeries)";
                return null;
            }

            if (known is null)
            {
                _metrics[point.Metric.Name] = known = point.Metric;
            }

            series = new Series(_nextSeriesId++, known, labels, point.Labels.ToDictionary(l => l.Key, l => l.Value, StringComparer.Ordinal), point.Bounds);
            Add(series);
            problem = null;
            return series;
        }
    }

    /// <summary>Writes <paramref name="points"/> in one transaction (a point at a time a series already has replaces it). Only the ingest loop calls it.</summary>
    public void Write(IReadOnlyList<StoredPoint> points)
    {
        using var transaction = _writer.BeginTransaction();
        using var insert = _writer.CreateCommand();
        insert.Transaction = transaction;
        insert.CommandText = "INSERT OR REPLACE INTO raw VALUES ($s, $t, $v, $h, $b)";
        var pSeries = insert.Parameters.Add("$s", SqliteType.Integer);
        var pTime = insert.Parameters.Add("$t", SqliteType.Integer);
        var pValue = insert.Parameters.Add("$v", SqliteType.Real);
        var pSum = insert.Parameters.Add("$h", SqliteType.Real);
        var pBuckets = insert.Parameters.Add("$b", SqliteType.Blob);
        insert.Prepare();
        var created = new HashSet<Series>();
        foreach (var point in points)
        {
            if (!point.Series.Persisted && created.Add(point.Series))
            {
                Persist(point.Series, transaction);
            }

            pSeries.Value = point.Series.Id;
            pTime.Value = point.TimeMs;
            pValue.Value = point.Value;
            pSum.Value = point.Sum;
            pBuckets.Value = point.Buckets is null ? DBNull.Value : Bytes(point.Buckets);
            insert.ExecuteNonQuery();
        }

        transaction.Commit();
        // Only once committed: a batch that failed leaves its new series to be written with their next point.
        foreach (var series in created)
        {
            series.Persisted = true;
        }
    }

    private void Persist(Series series, SqliteTransaction transaction)
    {
        using var command = _writer.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = """
            INSERT OR IGNORE INTO metrics VALUES ($name, $kind, $unit, $description);
            INSERT OR IGNORE INTO series VALUES ($id, $name, $labels, $bounds);
            """;
        command.Parameters.AddWithValue("$name", series.Metric.Name);
        command.Parameters.AddWithValue("$kind", (int)series.Metric.Kind);
        command.Parameters.AddWithValue("$unit", series.Metric.Unit);
        command.Parameters.AddWithValue("$description", series.Metric.Description);
        command.Parameters.AddWithValue("$id", series.Id);
        command.Parameters.AddWithValue("$labels", series.LabelsJson);
        command.Parameters.AddWithValue("$bounds", series.Bounds is null ? DBNull.Value : MemoryMarshal.AsBytes(series.Bounds.AsSpan()).ToArray());
        command.ExecuteNonQuery();
    }

    /// <summary>
    /// Rolls complete minutes (those that ended at least <paramref name="graceMs"/> before <paramref name="nowMs"/>) up
    /// from raw points into <c>m1</c>, then complete hours from minutes into <c>h1</c>; at most
    /// <paramref name="maxBuckets"/> buckets of each tier a call, so catching up after a long stop is spread over
    /// calls. Points written for a minute already rolled up stay raw only. Returns the rows written.
    /// </summary>
    public int Rollup(long nowMs, long graceMs, int maxBuckets = 120)
    {
        var written = 0;
        for (var index = 1; index < Tiers.Length; index++)
        {
            var tier = Tiers[index];
            var source = Tiers[index - 1];
            // A tier rolls up what its source has complete: raw up to now minus the grace, a rollup up to its watermark.
            var sourceEnd = index == 1 ? nowMs - graceMs : _watermarks[index - 1];
            var end = Floor(sourceEnd, tier.ResolutionMs);
            // Skip what the source no longer holds (a stop longer than its retention) instead of walking through it.
            var start = Math.Max(_watermarks[index], Floor(FirstTime(source) ?? end, tier.ResolutionMs));

            end = Math.Min(end, start + (maxBuckets * tier.ResolutionMs));
            if (end <= start)
            {
                continue;
            }

            using var transaction = _writer.BeginTransaction();
            var rows = Roll(source, tier, start, end, transaction);
            SetWatermark(index, end, transaction);
            transaction.Commit();
            Volatile.Write(ref _watermarks[index], end);
            written += rows;
        }

        return written;
    }

    private long? FirstTime(Tier tier)
    {
        using var command = _writer.CreateCommand();
        command.CommandText = $"SELECT MIN(t) FROM {tier.Table}";
        return command.ExecuteScalar() is long t ? t : null;
    }

    private void SetWatermark(int index, long value, SqliteTransaction transaction)
    {
        using var command = _writer.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = "INSERT OR REPLACE INTO state VALUES ($k, $v)";
        command.Parameters.AddWithValue("$k", Tiers[index].Table);
        command.Parameters.AddWithValue("$v", value);
        command.ExecuteNonQuery();
    }

    private int Roll(Tier source, Tier tier, long start, long end, SqliteTransaction transaction)
    {
        List<long> ids;
        using (var command = _writer.CreateCommand())
        {
            command.Transaction = transaction;
            command.CommandText = $"SELECT DISTINCT series FROM {source.Table} WHERE t >= $a AND t < $b";
            command.Parameters.AddWithValue("$a", start);
            command.Parameters.AddWithValue("$b", end);
            ids = [];
            using var reader = command.ExecuteReader();
            while (reader.Read())
            {
                ids.Add(reader.GetInt64(0));
            }
        }

        Dictionary<long, Series> byId;
        lock (_lock)
        {
            byId = _series.Values.ToDictionary(s => s.Id);
        }

        using var insert = _writer.CreateCommand();
        insert.Transaction = transaction;
        insert.CommandText = $"INSERT OR REPLACE INTO {tier.Table} VALUES ($s, $t, $n, $sum, $min, $max, $last, $inc, $hsum, $hb)";
        var p = RollupParameters.Select(name => insert.Parameters.AddWithValue(name, DBNull.Value)).ToArray();
        var rows = 0;
        foreach (var id in ids)
        {
            if (!byId.TryGetValue(id, out var series))
            {
                continue;
            }

            Bucket? bucket = null;
            foreach (var row in Read(_writer, transaction, series, source, start, end))
            {
                var t = Floor(row.TimeMs, tier.ResolutionMs);
                if (bucket is not null && bucket.TimeMs != t)
                {
                    Insert(bucket);
                    bucket = null;
                }

                bucket ??= new Bucket(t);
                bucket.Add(row);
            }

            if (bucket is not null)
            {
                Insert(bucket);
            }

            void Insert(Bucket b)
            {
                p[0].Value = id;
                p[1].Value = b.TimeMs;
                p[2].Value = b.Count;
                p[3].Value = b.Sum;
                p[4].Value = b.Min;
                p[5].Value = b.Max;
                p[6].Value = b.Last;
                p[7].Value = b.Increase;
                p[8].Value = b.SumIncrease;
                p[9].Value = b.Buckets is null ? DBNull.Value : Bytes(b.Buckets);
                insert.ExecuteNonQuery();
                rows++;
            }
        }

        return rows;
    }

    /// <summary>
    /// Deletes raw points older than <paramref name="rawBeforeMs"/>, minute rows older than <paramref name="minuteBeforeMs"/>
    /// and hour rows older than <paramref name="hourBeforeMs"/>; returns the rows deleted.
    /// </summary>
    public long Retain(long rawBeforeMs, long minuteBeforeMs, long hourBeforeMs)
    {
        long deleted = 0;
        foreach (var (table, before) in new[] { ("raw", rawBeforeMs), ("m1", minuteBeforeMs), ("h1", hourBeforeMs) })
        {
            using var command = _writer.CreateCommand();
            command.CommandText = $"DELETE FROM {table} WHERE t < $t";
            command.Parameters.AddWithValue("$t", before);
            deleted += command.ExecuteNonQuery();
        }

        return deleted;
    }

    /// <summary>The watermark of tier <paramref name="index"/>: everything before it is rolled up into that tier.</summary>
    public long Watermark(int index) => index == 0 ? long.MaxValue : Volatile.Read(ref _watermarks[index]);

    /// <summary>
    /// The rows of <paramref name="series"/> in [<paramref name="fromMs"/>, <paramref name="toMs"/>) read from tier
    /// <paramref name="tierIndex"/> up to its watermark and from finer tiers after it, each a <see cref="Row"/> whose
    /// increases are measured from the row before (so a raw counter's first row in the range has its increase too).
    /// </summary>
    public List<Row> Rows(Series series, int tierIndex, long fromMs, long toMs)
    {
        using var connection = new SqliteConnection(_connectionString);
        connection.Open();
        var rows = new List<Row>();
        for (var index = tierIndex; index >= 0 && fromMs < toMs; index--)
        {
            var until = Math.Min(toMs, Watermark(index));
            if (fromMs < until)
            {
                rows.AddRange(Read(connection, null, series, Tiers[index], fromMs, until));
            }

            fromMs = Math.Max(fromMs, until);
        }

        return rows;
    }

    private static IEnumerable<Row> Read(SqliteConnection connection, SqliteTransaction? transaction, Series series, Tier tier, long fromMs, long toMs)
    {
        using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.Parameters.AddWithValue("$s", series.Id);
        command.Parameters.AddWithValue("$a", fromMs);
        command.Parameters.AddWithValue("$b", toMs);
        if (tier.ResolutionMs > 0)
        {
            command.CommandText = $"SELECT t, n, sum, min, max, last, inc, hsum, hb FROM {tier.Table} WHERE series = $s AND t >= $a AND t < $b ORDER BY t";
            using var rollup = command.ExecuteReader();
            while (rollup.Read())
            {
                yield return new Row(rollup.GetInt64(0), rollup.GetInt64(1), rollup.GetDouble(2), rollup.GetDouble(3), rollup.GetDouble(4),
                    rollup.GetDouble(5), rollup.GetDouble(6), rollup.GetDouble(7), rollup.IsDBNull(8) ? null : Longs((byte[])rollup.GetValue(8)));
            }

            yield break;
        }

        // Raw points are cumulative: each row's increase is measured from the point before it, the first from the last point before the range.
        command.CommandText = """
            SELECT * FROM (SELECT t, v, hsum, hb FROM raw WHERE series = $s AND t < $a ORDER BY t DESC LIMIT 1)
            UNION ALL SELECT * FROM (SELECT t, v, hsum, hb FROM raw WHERE series = $s AND t >= $a AND t < $b ORDER BY t)
            """;
        using var reader = command.ExecuteReader();
        (double Value, double Sum, long[]? Buckets)? previous = null;
        var histogram = series.Metric.Kind == MetricKind.Histogram;
        while (reader.Read())
        {
            var t = reader.GetInt64(0);
            var value = reader.GetDouble(1);
            var sum = reader.GetDouble(2);
            var buckets = reader.IsDBNull(3) ? null : Longs((byte[])reader.GetValue(3));
            if (t >= fromMs)
            {
                var reset = previous is not { } p || value < p.Value || (histogram && Decreased(p.Buckets, buckets));
                var increase = previous is null ? 0 : reset ? value : value - previous.Value.Value;
                var sumIncrease = previous is null ? 0 : reset ? sum : sum - previous.Value.Sum;
                var bucketIncrease = buckets is null ? null : previous is null ? new long[buckets.Length] : reset ? buckets : Subtract(buckets, previous.Value.Buckets!);
                yield return new Row(t, 1, value, value, value, value, histogram || series.Metric.Kind == MetricKind.Counter ? increase : 0, sumIncrease, bucketIncrease);
            }

            previous = (value, sum, buckets);
        }
    }

    private static bool Decreased(long[]? before, long[]? after) =>
        before is not null && after is not null && (before.Length != after.Length || before.Where((count, i) => after[i] < count).Any());

    private static long[] Subtract(long[] a, long[] b)
    {
        var result = new long[a.Length];
        for (var i = 0; i < a.Length; i++)
        {
            result[i] = a[i] - b[i];
        }

        return result;
    }

    internal static long Floor(long ms, long resolution) => ms - (((ms % resolution) + resolution) % resolution);

    private static byte[] Bytes(long[] values) => MemoryMarshal.AsBytes(values.AsSpan()).ToArray();

    private static long[] Longs(byte[] bytes) => MemoryMarshal.Cast<byte, long>(bytes).ToArray();

    internal static string LabelsJson(IEnumerable<KeyValuePair<string, string>> labels)
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            foreach (var (key, value) in labels.OrderBy(l => l.Key, StringComparer.Ordinal))
            {
                writer.WriteString(key, value);
            }

            writer.WriteEndObject();
        }

        return System.Text.Encoding.UTF8.GetString(buffer.ToArray());
    }

    private static Dictionary<string, string> ParseLabels(string json) =>
        JsonSerializer.Deserialize<Dictionary<string, string>>(json) ?? [];

    private static void Execute(SqliteConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }

    /// <inheritdoc />
    public void Dispose() => _writer.Dispose();

    /// <summary>A tier: its table and the width of its rows (0 for raw points).</summary>
    internal sealed record Tier(string Table, long ResolutionMs);

    /// <summary>
    /// One row as a query sees it, whatever its tier: <see cref="Count"/> points whose values sum to <see cref="Sum"/>, their
    /// min, max and last (a histogram's values are its cumulative count); <see cref="Increase"/> the counter's (or the
    /// histogram count's) reset-aware increase over the row; <see cref="SumIncrease"/> and <see cref="Buckets"/> a histogram's.
    /// </summary>
    internal sealed record Row(long TimeMs, long Count, double Sum, double Min, double Max, double Last, double Increase, double SumIncrease, long[]? Buckets);

    /// <summary>A rollup row being built from finer rows.</summary>
    private sealed class Bucket(long timeMs)
    {
        public long TimeMs { get; } = timeMs;

        public long Count { get; private set; }

        public double Sum { get; private set; }

        public double Min { get; private set; } = double.PositiveInfinity;

        public double Max { get; private set; } = double.NegativeInfinity;

        public double Last { get; private set; }

        public double Increase { get; private set; }

        public double SumIncrease { get; private set; }

        public long[]? Buckets { get; private set; }

        public void Add(Row row)
        {
            Count += row.Count;
            Sum += row.Sum;
            Min = Math.Min(Min, row.Min);
            Max = Math.Max(Max, row.Max);
            Last = row.Last;
            Increase += row.Increase;
            SumIncrease += row.SumIncrease;
            if (row.Buckets is not null)
            {
                Buckets ??= new long[row.Buckets.Length];
                if (Buckets.Length == row.Buckets.Length)
                {
                    for (var i = 0; i < Buckets.Length; i++)
                    {
                        Buckets[i] += row.Buckets[i];
                    }
                }
            }
        }
    }
}

/// <summary>A series: a metric and one label set, with the running totals that turn OTLP delta points into cumulative ones.</summary>
internal sealed class Series(long id, MetricInfo metric, string labelsJson, IReadOnlyDictionary<string, string> labels, double[]? bounds)
{
    public long Id { get; } = id;

    public MetricInfo Metric { get; } = metric;

    /// <summary>The labels as canonical JSON (keys sorted): the series' identity with the name.</summary>
    public string LabelsJson { get; } = labelsJson;

    public IReadOnlyDictionary<string, string> Labels { get; } = labels;

    public double[]? Bounds { get; } = bounds;

    /// <summary>Whether its row is in the database (only the writer reads or sets it).</summary>
    public bool Persisted { get; set; }

    /// <summary>Running totals for delta temporality, under the series' own lock.</summary>
    public (double Value, double Sum, long[]? Buckets) Totals { get; set; }
}

/// <summary>A point resolved to its series, cumulative, waiting to be written.</summary>
internal readonly record struct StoredPoint(Series Series, long TimeMs, double Value, double Sum, long[]? Buckets);
