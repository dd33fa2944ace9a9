using System.Diagnostics.Metrics;
using System.Threading.Channels;
using Blueprint.Hosting;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Blueprint.Telemetry.Traces;

/// <summary>
/// The bounded queue between every span source (the OTLP receiver, the node's own exporter) and the store, and the one
/// loop that writes it. <see cref="TryEnqueue"/> never waits: a group that would take the queue past
/// <see cref="TelemetryOptions.QueueSpans"/> is dropped whole and counted, so an exporting app never blocks on a slow
/// disk. The loop writes up to <see cref="TelemetryOptions.WriteBatchSpans"/> spans per transaction, runs retention
/// between batches, and on stop writes what was queued before it returns.
/// </summary>
internal sealed partial class SpanIngest : BackgroundService
{
    private readonly Channel<SpanGroup> _queue = Channel.CreateUnbounded<SpanGroup>(new UnboundedChannelOptions { SingleReader = true });
    private readonly SpanStore _store;
    private readonly TelemetryOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger<SpanIngest> _logger;
    private readonly Counter<long> _received;
    private readonly Counter<long> _dropped;
    private readonly Counter<long> _stored;
    private long _queued;
    private long _droppedTotal;
    private long _storedTotal;
    private long _writes;
    private long _nextRetention;

    public SpanIngest(SpanStore store, IOptions<TelemetryOptions> options, TimeProvider time, IMeterFactory meters, ILogger<SpanIngest> logger)
    {
        _store = store;
        _options = options.Value;
        _time = time;
        _logger = logger;
        var meter = meters.Create(ServiceDefaults.ServiceName);
        _received = meter.CreateCounter<long>("blueprint.telemetry.spans.received", description: "Spans received, by source (otlp_grpc, otlp_http, self).");
        _dropped = meter.CreateCounter<long>("blueprint.telemetry.spans.dropped", description: "Spans not stored, by reason (queue_full, invalid, write_failed).");
        _stored = meter.CreateCounter<long>("blueprint.telemetry.spans.stored", description: "Spans written to the trace store.");
        meter.CreateObservableGauge("blueprint.telemetry.queue.spans", () => Interlocked.Read(ref _queued), description: "Spans waiting to be written.");
        meter.CreateObservableGauge("blueprint.telemetry.store.spans", () => _store.SpanCount, description: "Spans in the trace store.");
    }

    /// <summary>Spans waiting to be written.</summary>
    public long Queued => Interlocked.Read(ref _queued);

    /// <summary>Spans dropped since the start (queue full, invalid, or a failed write).</summary>
    public long Dropped => Interlocked.Read(ref _droppedTotal);

    /// <summary>Spans written since the start.</summary>
    public long Stored => Interlocked.Read(ref _storedTotal);

    /// <summary>Transactions written since the start; a test waits for one to know a batch is readable.</summary>
    public long Writes => Interlocked.Read(ref _writes);

    /// <summary>Queues <paramref name="groups"/>; returns the spans dropped because the queue is full (0 when all were queued).</summary>
    public int TryEnqueue(IReadOnlyList<SpanGroup> groups, string source)
    {
        var rejected = 0;
        foreach (var group in groups)
        {
            var count = group.Spans.Count;
            _received.Add(count, new KeyValuePair<string, object?>("source", source));
            if (Interlocked.Add(ref _queued, count) > _options.QueueSpans || !_queue.Writer.TryWrite(group))
            {
                Interlocked.Add(ref _queued, -count);
                rejected += count;
            }
        }

        if (rejected > 0)
        {
            CountDropped(rejected, "queue_full");
        }

        return rejected;
    }

    /// <summary>Counts spans refused before the queue.</summary>
    public void CountDropped(long spans, string reason)
    {
        Interlocked.Add(ref _droppedTotal, spans);
        _dropped.Add(spans, new KeyValuePair<string, object?>("reason", reason));
    }

    /// <summary>Stops taking spans; the loop writes what is queued and ends.</summary>
    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        _queue.Writer.TryComplete();
        await base.StopAsync(cancellationToken).ConfigureAwait(false);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await Task.Yield();
        _nextRetention = _time.GetTimestamp();
        var batch = new List<SpanGroup>();
        var reader = _queue.Reader;
        // Not cancelled by stoppingToken: the queue is completed on stop and drained to the end, so nothing acknowledged is lost.
        while (await WaitAsync(reader).ConfigureAwait(false))
        {
            var spans = 0;
            while (spans < _options.WriteBatchSpans && reader.TryRead(out var group))
            {
                batch.Add(group);
                spans += group.Spans.Count;
            }

            Write(batch, spans);
            batch.Clear();
            RetainIfDue();
        }

        RetainIfDue();
    }

    private static async ValueTask<bool> WaitAsync(ChannelReader<SpanGroup> reader)
    {
        try
        {
            return await reader.WaitToReadAsync(CancellationToken.None).ConfigureAwait(false);
        }
        catch (ChannelClosedException)
        {
            return false;
        }
    }

    private void Write(List<SpanGroup> batch, int spans)
    {
        try
        {
            _store.Write(batch);
            Interlocked.Add(ref _storedTotal, spans);
            _stored.Add(spans);
        }
        catch (Exception e) when (e is Microsoft.Data.Sqlite.SqliteException or IOException)
        {
            LogWriteFailed(e, spans);
            CountDropped(spans, "write_failed");
        }
        finally
        {
            Interlocked.Add(ref _queued, -spans);
            Interlocked.Increment(ref _writes);
        }
    }

    private void RetainIfDue()
    {
        var now = _time.GetTimestamp();
        if (now < _nextRetention)
        {
            return;
        }

        _nextRetention = now + (long)(TimeSpan.FromSeconds(_options.RetentionCheckSeconds).TotalSeconds * _time.TimestampFrequency);
        var cutoff = _time.GetUtcNow().AddHours(-_options.RetentionHours).ToUnixTimeMilliseconds() * 1000;
        try
        {
            var deleted = _store.Trim(cutoff, _options.MaxSpans);
            if (deleted > 0)
            {
                LogTrimmed(deleted, _store.SpanCount);
            }
        }
        catch (Microsoft.Data.Sqlite.SqliteException e)
        {
            LogWriteFailed(e, 0);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "trace store write failed; {Spans} spans dropped")]
    private partial void LogWriteFailed(Exception exception, int spans);

    [LoggerMessage(Level = LogLevel.Information, Message = "trace retention deleted {Deleted} spans; {Kept} kept")]
    private partial void LogTrimmed(long deleted, long kept);
}
