using System.IO.Hashing;
using System.Text;
using System.Threading.Channels;
using Blueprint.Kv;
using Blueprint.Shortener.Storage;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace Blueprint.Shortener.Clicks;

/// <summary>One redirect, as captured on the hot path (raw headers, classified later).</summary>
/// <param name="Code">The code.</param>
/// <param name="AtMs">Unix milliseconds.</param>
/// <param name="Referer">The Referer header, or null.</param>
/// <param name="UserAgent">The User-Agent header, or null.</param>
/// <param name="Client">The client address, or null.</param>
internal readonly record struct Click(string Code, long AtMs, string? Referer, string? UserAgent, System.Net.IPAddress? Client);

/// <summary>
/// Clicks never slow a redirect: the redirect only offers the click to a bounded in-process buffer
/// (a failed offer, when the buffer is full, is counted as a drop). A background writer takes up to
/// a batch at a time, aggregates it per code and day, referrer host and user-agent family, and
/// writes it to SQL in one transaction per shard; unique visitors go to a HyperLogLog per code on
/// the KV (<c>PFADD</c> of a hash of address and user agent, never the address itself). At stop the
/// writer drains what is buffered. A click is counted at most once: a failed write is dropped and counted, not retried.
/// </summary>
internal sealed partial class ClickRecorder : BackgroundService
{
    private const int HeaderCharsMax = 512;
    private readonly Channel<Click> _buffer;
    private readonly LinkStore _store;
    private readonly IKvConnection _kv;
    private readonly ShortenerOptions _options;
    private readonly ShortenerMetrics _metrics;
    private readonly TimeProvider _time;
    private readonly ILogger<ClickRecorder> _logger;
    private readonly SemaphoreSlim _writeGate = new(1, 1);

    public ClickRecorder(LinkStore store, IKvConnection kv, IOptions<ShortenerOptions> options, ShortenerMetrics metrics, TimeProvider time, ILogger<ClickRecorder> logger)
    {
        _store = store;
        _kv = kv;
        _options = options.Value;
        _metrics = metrics;
        _time = time;
        _logger = logger;
        _buffer = Channel.CreateBounded<Click>(new BoundedChannelOptions(_options.ClickBufferSize)
        {
            SingleReader = true,
            FullMode = BoundedChannelFullMode.Wait, // TryWrite then fails instead of evicting: the drop is counted.
        });
    }

    /// <summary>How many clicks wait for the writer.</summary>
    public int Pending => _buffer.Reader.Count;

    /// <summary>Offers a click; never blocks.</summary>
    public void Record(string code, long atMs, string? referer, string? userAgent, System.Net.IPAddress? client)
    {
        if (!_buffer.Writer.TryWrite(new Click(code, atMs, Truncate(referer), Truncate(userAgent), client)))
        {
            _metrics.ClicksDropped("buffer_full", 1);
        }
    }

    /// <summary>Writes everything buffered now (tests and shutdown).</summary>
    public async Task FlushAsync(CancellationToken cancellationToken)
    {
        while (_buffer.Reader.Count > 0)
        {
            await WriteBatchAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            while (await _buffer.Reader.WaitToReadAsync(stoppingToken).ConfigureAwait(false))
            {
                // Let a batch gather, so a busy link costs one upsert per interval, not one per click.
                await Task.Delay(TimeSpan.FromMilliseconds(_options.ClickFlushMilliseconds), _time, stoppingToken).ConfigureAwait(false);
                while (_buffer.Reader.Count > 0)
                {
                    await WriteBatchAsync(stoppingToken).ConfigureAwait(false);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        _buffer.Writer.TryComplete();
        await base.StopAsync(cancellationToken).ConfigureAwait(false);
        await FlushAsync(cancellationToken).ConfigureAwait(false);
    }

    private async Task WriteBatchAsync(CancellationToken cancellationToken)
    {
        await _writeGate.WaitAsync(cancellationToken).ConfigureAwait(false);
        var batch = new List<Click>();
        try
        {
            while (batch.Count < _options.ClickBatchSize && _buffer.Reader.TryRead(out var click))
            {
                batch.Add(click);
            }

            if (batch.Count == 0)
            {
                return;
            }

            var aggregate = new ClickAggregate();
            var visitors = new Dictionary<string, List<RedisValue>>(StringComparer.Ordinal);
            foreach (var click in batch)
            {
                var day = (int)(click.AtMs / 86_400_000);
                Add(aggregate.Daily, (click.Code, day));
                Add(aggregate.Referrers, (click.Code, ReferrerHost.Of(click.Referer)));
                Add(aggregate.Agents, (click.Code, UserAgentFamily.Classify(click.UserAgent)));
                if (!visitors.TryGetValue(click.Code, out var list))
                {
                    visitors[click.Code] = list = [];
                }

                list.Add(VisitorOf(click));
            }

            await _store.AddClicksAsync(aggregate, cancellationToken).ConfigureAwait(false);
            var database = (await _kv.GetAsync(cancellationToken).ConfigureAwait(false)).GetDatabase();
            await Task.WhenAll(visitors.Select(pair => database.HyperLogLogAddAsync(UniqueKey(_options, pair.Key), pair.Value.ToArray())))
                .WaitAsync(TimeSpan.FromSeconds(5), cancellationToken).ConfigureAwait(false);
        }
        catch (Exception error) when (error is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            _metrics.ClicksDropped("write_failed", batch.Count);
            LogWriteFailed(_logger, batch.Count, error);
        }
        finally
        {
            _writeGate.Release();
        }
    }

    /// <summary>The KV key of a code's unique-visitor HyperLogLog.</summary>
    public static string UniqueKey(ShortenerOptions options, string code) => options.KeyPrefix + "uv:" + code;

    private static RedisValue VisitorOf(Click click)
    {
        var bytes = Encoding.UTF8.GetBytes($"{click.Client}\n{click.UserAgent}");
        return XxHash64.HashToUInt64(bytes);
    }

    private static void Add<TKey>(Dictionary<TKey, long> counts, TKey key)
        where TKey : notnull
    {
        counts[key] = counts.GetValueOrDefault(key) + 1;
    }

    private static string? Truncate(string? value) => value is { Length: > HeaderCharsMax } ? value[..HeaderCharsMax] : value;

    public override void Dispose()
    {
        _writeGate.Dispose();
        base.Dispose();
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Shortener could not write {Count} clicks; they are dropped")]
    private static partial void LogWriteFailed(ILogger logger, int count, Exception error);
}
