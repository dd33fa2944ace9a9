using System.Collections.Concurrent;
using System.IO.Hashing;
using System.Net;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
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
internal readonly record struct Click(string Code, long AtMs, string? Referer, string? UserAgent, IPAddress? Client);

/// <summary>
/// Clicks never slow a redirect: the redirect only offers the click to a bounded in-process queue
/// (a lock-free enqueue; when the queue is full the click is dropped and counted). A background
/// writer wakes every <see cref="ShortenerOptions.ClickFlushMilliseconds"/>, takes up to a batch at a
/// time, aggregates it per code and day, referrer host and user-agent family, and writes it to SQL
/// in one transaction per shard; unique visitors go to a HyperLogLog per code on the KV (<c>PFADD</c>
/// of the distinct hashes of address and user agent, never the address itself). At stop the writer
/// drains what is queued. A click is counted at most once: a failed write is dropped and counted, not retried.
/// </summary>
internal sealed partial class ClickRecorder : BackgroundService
{
    private const int HeaderCharsMax = 512;
    private readonly ConcurrentQueue<Click> _queue = new();
    private readonly ClickStore _store;
    private readonly IKvConnection _kv;
    private readonly ShortenerOptions _options;
    private readonly ShortenerMetrics _metrics;
    private readonly TimeProvider _time;
    private readonly ILogger<ClickRecorder> _logger;
    private readonly SemaphoreSlim _writeGate = new(1, 1);
    private int _count;
    private long _dropped;

    public ClickRecorder(ClickStore store, IKvConnection kv, IOptions<ShortenerOptions> options, ShortenerMetrics metrics, TimeProvider time, ILogger<ClickRecorder> logger)
    {
        _store = store;
        _kv = kv;
        _options = options.Value;
        _metrics = metrics;
        _time = time;
        _logger = logger;
    }

    /// <summary>How many clicks wait for the writer.</summary>
    public int Pending => Volatile.Read(ref _count);

    /// <summary>Offers a click; never blocks.</summary>
    public void Record(string code, long atMs, string? referer, string? userAgent, IPAddress? client)
    {
        if (Interlocked.Increment(ref _count) > _options.ClickBufferSize)
        {
            Interlocked.Decrement(ref _count);
            Interlocked.Increment(ref _dropped);
            _metrics.ClicksDropped("buffer_full", 1);
            return;
        }

        _queue.Enqueue(new Click(code, atMs, Truncate(referer), Truncate(userAgent), client));
    }

    /// <summary>Writes everything queued now (tests and shutdown).</summary>
    public async Task FlushAsync(CancellationToken cancellationToken)
    {
        // At least once: the write lock also waits for a write the timer already started.
        do
        {
            await WriteBatchAsync(cancellationToken).ConfigureAwait(false);
        }
        while (!_queue.IsEmpty);
    }

    /// <summary>How many clicks were dropped since start (also the metric blueprint.shortener.clicks.dropped).</summary>
    public long Dropped => Interlocked.Read(ref _dropped);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        // A busy link costs one upsert per interval, not one per click.
        using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(_options.ClickFlushMilliseconds), _time);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false))
            {
                // Not cancelled by the stop: a write cut off mid-transaction would lose its clicks uncounted.
                await FlushAsync(CancellationToken.None).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken).ConfigureAwait(false);
        await FlushAsync(cancellationToken).ConfigureAwait(false);
    }

    private async Task WriteBatchAsync(CancellationToken cancellationToken)
    {
        await _writeGate.WaitAsync(cancellationToken).ConfigureAwait(false);
        var taken = 0;
        try
        {
            // Two stages. First, identical clicks are counted by reference: Kestrel reuses a header's
            // string while a connection sends the same value, and a connection keeps its address, so
            // this costs one cheap dictionary step per click. Then each distinct click is classified.
            var identical = new Dictionary<Click, long>(SameClick.Instance);
            while (taken < _options.ClickBatchSize && _queue.TryDequeue(out var click))
            {
                Interlocked.Decrement(ref _count);
                taken++;
                // Keyed by day: the key's AtMs holds the day number.
                ref var count = ref CollectionsMarshal.GetValueRefOrAddDefault(identical, click with { AtMs = click.AtMs / 86_400_000 }, out _);
                count++;
            }

            var aggregate = new ClickAggregate();
            var visitors = new Dictionary<string, HashSet<ulong>>(StringComparer.Ordinal);
            // The same few referrers and user agents repeat across connections too: classify each once.
            var referrers = new Dictionary<string, string>(StringComparer.Ordinal);
            var families = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var (click, count) in identical)
            {
                var day = (int)click.AtMs;
                Add(aggregate.Daily, (click.Code, day), count);
                Add(aggregate.Referrers, (click.Code, Classify(referrers, click.Referer, ReferrerHost.Of)), count);
                Add(aggregate.Agents, (click.Code, Classify(families, click.UserAgent, UserAgentFamily.Classify)), count);
                if (!visitors.TryGetValue(click.Code, out var set))
                {
                    visitors[click.Code] = set = [];
                }

                set.Add(VisitorOf(click));
            }

            if (taken == 0)
            {
                return;
            }

            await _store.AddClicksAsync(aggregate, cancellationToken).ConfigureAwait(false);
            var database = (await _kv.GetAsync(cancellationToken).ConfigureAwait(false)).GetDatabase();
            await Task.WhenAll(visitors.Select(pair => database.HyperLogLogAddAsync(UniqueKey(_options, pair.Key), pair.Value.Select(hash => (RedisValue)hash).ToArray())))
                .WaitAsync(TimeSpan.FromSeconds(5), cancellationToken).ConfigureAwait(false);
        }
        catch (Exception error) when (error is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            Interlocked.Add(ref _dropped, taken);
            _metrics.ClicksDropped("write_failed", taken);
            LogWriteFailed(_logger, taken, error);
        }
        finally
        {
            _writeGate.Release();
        }
    }

    /// <summary>The KV key of a code's unique-visitor HyperLogLog.</summary>
    public static string UniqueKey(ShortenerOptions options, string code) => options.KeyPrefix + "uv:" + code;

    private static string Classify(Dictionary<string, string> seen, string? value, Func<string?, string> classify)
    {
        if (value is null)
        {
            return classify(null);
        }

        if (!seen.TryGetValue(value, out var result))
        {
            seen[value] = result = classify(value);
        }

        return result;
    }

    private static ulong VisitorOf(Click click)
    {
        var hash = new XxHash64();
        Span<byte> address = stackalloc byte[16];
        if (click.Client is { } client && client.TryWriteBytes(address, out var written))
        {
            hash.Append(address[..written]);
        }

        hash.Append(MemoryMarshal.AsBytes((click.UserAgent ?? "").AsSpan()));
        return hash.GetCurrentHashAsUInt64();
    }

    private static void Add<TKey>(Dictionary<TKey, long> counts, TKey key, long count)
        where TKey : notnull
    {
        CollectionsMarshal.GetValueRefOrAddDefault(counts, key, out _) += count;
    }

    /// <summary>
    /// Clicks equal by code and day, and by the very same referrer, user-agent and address objects.
    /// Equal values in different objects are merely counted apart here and merged by value after.
    /// </summary>
    private sealed class SameClick : IEqualityComparer<Click>
    {
        public static readonly SameClick Instance = new();

        public bool Equals(Click x, Click y) =>
            x.AtMs == y.AtMs && ReferenceEquals(x.Referer, y.Referer) && ReferenceEquals(x.UserAgent, y.UserAgent)
            && ReferenceEquals(x.Client, y.Client) && string.Equals(x.Code, y.Code, StringComparison.Ordinal);

        public int GetHashCode(Click obj) => HashCode.Combine(
            obj.Code.GetHashCode(StringComparison.Ordinal), obj.AtMs,
            RuntimeHelpers.GetHashCode(obj.Referer), RuntimeHelpers.GetHashCode(obj.UserAgent), RuntimeHelpers.GetHashCode(obj.Client));
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
