using System.Diagnostics.Metrics;
using System.Threading.Channels;
using Blueprint.Hosting;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Blueprint.Telemetry.Metrics;

/// <summary>
/// The bounded queue between the metric sources (the OTLP receiver, the node's own reader) and the store, and the one
/// loop that writes it. <see cref="Add"/> never waits: it resolves each point's series at once (so a point of a new
/// series past <see cref="TelemetryOptions.MetricsMaxSeries"/>, or of a metric known as another kind, is refused with
/// the reason) and queues the rest unless that would pass <see cref="TelemetryOptions.MetricsQueuePoints"/>. The loop
/// writes up to <see cref="TelemetryOptions.MetricsWriteBatchPoints"/> points a transaction, and every interval rolls
/// complete minutes and hours up and applies retention.
/// </summary>
internal sealed partial class MetricsIngest : BackgroundService
{
    private readonly Channel<List<StoredPoint>> _queue = Channel.CreateUnbounded<List<StoredPoint>>(new UnboundedChannelOptions { SingleReader = true });
    private readonly MetricStore _store;
    private readonly TelemetryOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger<MetricsIngest> _logger;
    private readonly Counter<long> _dropped;
    private long _queued;
    private long _droppedTotal;
    private long _writes;
    private long _nextMaintenance;

    public MetricsIngest(MetricStore store, IOptions<TelemetryOptions> options, TimeProvider time, IMeterFactory meters, ILogger<MetricsIngest> logger)
    {
        _store = store;
        _options = options.Value;
        _time = time;
        _logger = logger;
        var meter = meters.Create(ServiceDefaults.ServiceName);
        _dropped = meter.CreateCounter<long>("blueprint.telemetry.metric_points.dropped", description: "Metric points not stored, by reason (invalid, series_limit, kind_conflict, queue_full, write_failed).");
        meter.CreateObservableGauge("blueprint.telemetry.metric_series", () => _store.SeriesCount, description: "Series in the metrics store.");
    }

    /// <summary>Points waiting to be written.</summary>
    public long Queued => Interlocked.Read(ref _queued);

    /// <summary>Points dropped since the start, whatever the reason.</summary>
    public long Dropped => Interlocked.Read(ref _droppedTotal);

    /// <summary>Transactions written since the start; a test waits for one to know a batch is readable.</summary>
    public long Writes => Interlocked.Read(ref _writes);

    /// <summary>Queues <paramref name="points"/>; returns the points refused and the first reason (0 and null when none).</summary>
    public (int Rejected, string? Reason) Add(IReadOnlyList<MetricPoint> points)
    {
        var batch = new List<StoredPoint>(points.Count);
        var rejected = 0;
        string? reason = null;
        foreach (var point in points)
        {
            if (_store.Resolve(point, _options.MetricsMaxSeries, out var problem) is not { } series)
            {
                rejected++;
                reason ??= problem;
                CountDropped(1, problem!.Contains("maximum", StringComparison.Ordinal) ? "series_limit" : "kind_conflict");
                continue;
            }

            batch.Add(point.Delta ? Accumulate(series, point) : new StoredPoint(series, point.TimeMs, point.Value, point.Sum, point.Buckets));
        }

        if (batch.Count == 0)
        {
            return (rejected, reason);
        }

        if (Interlocked.Add(ref _queued, batch.Count) > _options.MetricsQueuePoints || !_queue.Writer.TryWrite(batch))
        {
            Interlocked.Add(ref _queued, -batch.Count);
            CountDropped(batch.Count, "queue_full");
            return (rejected + batch.Count, reason ?? "the metrics write queue is full (Telemetry:MetricsQueuePoints)");
        }

        return (rejected, reason);
    }

    private static StoredPoint Accumulate(Series series, MetricPoint point)
    {
        lock (series)
        {
            var (value, sum, buckets) = series.Totals;
            value += point.Value;
            sum += point.Sum;
            if (point.Buckets is not null)
            {
                buckets = buckets is null || buckets.Length != point.Buckets.Length ? new long[point.Buckets.Length] : [.. buckets];
                for (var i = 0; i < buckets.Length; i++)
                {
                    buckets[i] += point.Buckets[i];
                }
            }

            series.Totals = (value, sum, buckets);
            return new StoredPoint(series, point.TimeMs, value, sum, buckets);
        }
    }

    /// <summary>Counts points refused before the queue.</summary>
    public void CountDropped(long points, string reason)
    {
        Interlocked.Add(ref _droppedTotal, points);
        _dropped.Add(points, new KeyValuePair<string, object?>("reason", reason));
    }

    /// <summary>Stops taking points; the loop writes what is queued and ends.</summary>
    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        _queue.Writer.TryComplete();
        await base.StopAsync(cancellationToken).ConfigureAwait(false);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await Task.Yield();
        var batch = new List<StoredPoint>();
        var reader = _queue.Reader;
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(_options.MetricsIntervalSeconds), _time);
        var tick = timer.WaitForNextTickAsync(CancellationToken.None).AsTask();
        // One wait on the queue at a time (it has a single reader): a tick does not start another.
        // Not cancelled by stoppingToken: the queue is completed on stop and drained to the end.
        var read = reader.WaitToReadAsync(CancellationToken.None).AsTask();
        while (true)
        {
            if (await Task.WhenAny(read, tick).ConfigureAwait(false) == tick)
            {
                Maintain();
                tick = timer.WaitForNextTickAsync(CancellationToken.None).AsTask();
                continue;
            }

            if (!await ReadResult(read).ConfigureAwait(false))
            {
                break;
            }

            while (batch.Count < _options.MetricsWriteBatchPoints && reader.TryRead(out var points))
            {
                batch.AddRange(points);
            }

            Write(batch);
            batch.Clear();
            read = reader.WaitToReadAsync(CancellationToken.None).AsTask();
        }
    }

    private static async Task<bool> ReadResult(Task<bool> read)
    {
        try
        {
            return await read.ConfigureAwait(false);
        }
        catch (ChannelClosedException)
        {
            return false;
        }
    }

    private void Write(List<StoredPoint> batch)
    {
        try
        {
            _store.Write(batch);
        }
        catch (Exception e) when (e is Microsoft.Data.Sqlite.SqliteException or IOException)
        {
            LogWriteFailed(e, batch.Count);
            CountDropped(batch.Count, "write_failed");
        }
        finally
        {
            Interlocked.Add(ref _queued, -batch.Count);
            Interlocked.Increment(ref _writes);
        }
    }

    /// <summary>Rolls up what is complete and, every <see cref="TelemetryOptions.RetentionCheckSeconds"/>, deletes what is past retention.</summary>
    internal void Maintain()
    {
        var now = _time.GetUtcNow().ToUnixTimeMilliseconds();
        try
        {
            // A minute is rolled up once its points have had two intervals to arrive.
            _store.Rollup(now, (2L * _options.MetricsIntervalSeconds * 1000) + 5000);
            if (now >= _nextMaintenance)
            {
                _nextMaintenance = now + (_options.RetentionCheckSeconds * 1000L);
                var deleted = _store.Retain(
                    now - (_options.MetricsRawRetentionHours * 3_600_000L),
                    now - (_options.MetricsMinuteRetentionDays * 86_400_000L),
                    now - (_options.MetricsHourRetentionDays * 86_400_000L));
                if (deleted > 0)
                {
                    LogTrimmed(deleted);
                }
            }
        }
        catch (Microsoft.Data.Sqlite.SqliteException e)
        {
            LogWriteFailed(e, 0);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "metrics store write failed; {Points} points dropped")]
    private partial void LogWriteFailed(Exception exception, int points);

    [LoggerMessage(Level = LogLevel.Debug, Message = "metrics retention deleted {Deleted} rows")]
    private partial void LogTrimmed(long deleted);
}
