using System.Globalization;
using BitFaster.Caching.Lru;
using Blueprint.Core.Probabilistic;
using Blueprint.Kv;
using Blueprint.Shortener.Storage;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace Blueprint.Shortener.Caching;

/// <summary>What a redirect needs of a link.</summary>
/// <param name="Url">The target.</param>
/// <param name="RedirectType">301 or 302.</param>
/// <param name="ExpiresAtMs">Unix milliseconds after which it answers 410; <see cref="long.MaxValue"/> for never.</param>
internal sealed record CachedLink(string Url, int RedirectType, long ExpiresAtMs)
{
    public static CachedLink From(Link link) => new(link.Url, link.RedirectType, link.ExpiresAt?.ToUnixTimeMilliseconds() ?? long.MaxValue);
}

/// <summary>How a lookup was answered, for metrics.</summary>
internal enum LookupSource
{
    NearCache,
    Bloom,
    Kv,
    Sql,
}

/// <summary>
/// The read path, cheapest first: the in-process near cache (BitFaster's concurrent LRU with a
/// time-to-live), then the Bloom filter of existing codes (an unknown code, say from a scanner,
/// ends here without touching the KV or SQL), then the KV (cache-aside, with a short negative
/// entry for codes that do not exist), then SQL. Creates and deletes are broadcast on a KV
/// pub/sub channel: every node adds created codes to its Bloom filter and drops deleted ones from
/// its near cache. A read that raced with a delete does not fill the near cache (an invalidation
/// counter is compared before and after), and a delete writes a negative KV entry that a
/// concurrent fill (<c>SET NX</c>) cannot overwrite. If the subscription drops, the near cache is
/// cleared and the Bloom filter rebuilt when it comes back, since messages may have been missed.
/// </summary>
internal sealed partial class LinkCache : IAsyncDisposable
{
    private const string Missing = "!";
    private static readonly TimeSpan KvTimeout = TimeSpan.FromSeconds(2);

    private readonly LinkStore _store;
    private readonly IKvConnection _kv;
    private readonly ShortenerOptions _options;
    private readonly ILogger<LinkCache> _logger;
    private readonly ShortenerMetrics _metrics;
    private readonly ConcurrentTLru<string, CachedLink>? _near;
    private readonly RedisChannel _channel;
    private readonly string _linkPrefix;
    private readonly SemaphoreSlim _rebuildGate = new(1, 1);
    private volatile BloomFilter _bloom;
    private volatile BloomFilter? _pending;
    private long _invalidations;
    private ISubscriber? _subscriber;

    public LinkCache(LinkStore store, IKvConnection kv, IOptions<ShortenerOptions> options, ShortenerMetrics metrics, ILogger<LinkCache> logger)
    {
        _metrics = metrics;
        _store = store;
        _kv = kv;
        _options = options.Value;
        _logger = logger;
        _near = _options.NearCacheSize > 0
            ? new ConcurrentTLru<string, CachedLink>(_options.NearCacheSize, TimeSpan.FromSeconds(_options.NearCacheTtlSeconds))
            : null;
        _channel = RedisChannel.Literal(_options.KeyPrefix + "events");
        _linkPrefix = _options.KeyPrefix + "link:";
        _bloom = new BloomFilter(_options.BloomExpectedCodes, _options.BloomFalsePositiveRate);
    }

    /// <summary>The Bloom filter in use (for tests and the node page).</summary>
    public BloomFilter Bloom => _bloom;

    /// <summary>Rebuilds the Bloom filter from SQL and subscribes to the other nodes' changes.</summary>
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var connection = await _kv.GetAsync(cancellationToken).ConfigureAwait(false);
        _subscriber = connection.GetSubscriber();
        await _subscriber.SubscribeAsync(_channel, (_, message) => OnMessage(message)).WaitAsync(KvTimeout, cancellationToken).ConfigureAwait(false);
        connection.ConnectionRestored += OnConnectionRestored;
        await RebuildBloomAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Finds the link for a redirect without I/O when the near cache has it: a completed task then.
    /// Null when the code does not exist.
    /// </summary>
    public ValueTask<CachedLink?> FindAsync(string code, CancellationToken cancellationToken)
    {
        return TryGetNear(code, out var hit) ? new ValueTask<CachedLink?>(hit) : FindSlowAsync(code, cancellationToken);
    }

    /// <summary>The link if this node's near cache has it: no I/O at all.</summary>
    public bool TryGetNear(string code, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out CachedLink? link)
    {
        if (_near is not null && _near.TryGet(code, out var hit))
        {
            link = hit;
            return true;
        }

        link = null;
        return false;
    }

    private async ValueTask<CachedLink?> FindSlowAsync(string code, CancellationToken cancellationToken)
    {
        if (!_bloom.Contains(code))
        {
            _metrics.Lookup(LookupSource.Bloom);
            return null;
        }

        var epoch = Interlocked.Read(ref _invalidations);
        var key = _linkPrefix + code;
        IDatabase? database = null;
        RedisValue cached = default;
        try
        {
            database = (await _kv.GetAsync(cancellationToken).ConfigureAwait(false)).GetDatabase();
            cached = await database.StringGetAsync(key).WaitAsync(KvTimeout, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception error) when (error is RedisException or TimeoutException)
        {
            // The KV is only a cache: without it, SQL answers (and nothing is cached).
            LogKvUnavailable(_logger, error.Message);
            database = null;
        }

        CachedLink? link;
        if (cached.HasValue)
        {
            _metrics.Lookup(LookupSource.Kv);
            link = Decode(cached.ToString());
        }
        else
        {
            _metrics.Lookup(LookupSource.Sql);
            var stored = await _store.FindAsync(code, cancellationToken).ConfigureAwait(false);
            link = stored is null ? null : CachedLink.From(stored);
            if (database is null)
            {
                return link;
            }

            // NX: a delete's negative entry, or a create's entry, written meanwhile, wins over this fill.
            await database.StringSetAsync(key, link is null ? Missing : Encode(link),
                TimeSpan.FromSeconds(link is null ? _options.NegativeCacheTtlSeconds : _options.CacheTtlSeconds), When.NotExists)
                .WaitAsync(KvTimeout, cancellationToken).ConfigureAwait(false);
        }

        if (link is not null && _near is not null && Interlocked.Read(ref _invalidations) == epoch)
        {
            _near.AddOrUpdate(code, link);
        }

        return link;
    }

    /// <summary>
    /// Makes a new link visible: to this node's Bloom filter now, in the KV (a plain <c>SET</c>, so a
    /// reader's late negative fill, which is <c>SET NX</c>, cannot hide it), and to the other nodes
    /// through pub/sub. Runs after the SQL commit, so it is not cancelled with the request, and a KV
    /// failure is logged, not thrown: the link exists; other nodes learn of it at their next rebuild.
    /// </summary>
    public async Task OnCreatedAsync(Link link)
    {
        AddToBloom(link.Code);
        await BroadcastAsync(_linkPrefix + link.Code, Encode(CachedLink.From(link)), TimeSpan.FromSeconds(_options.CacheTtlSeconds), "c:" + link.Code).ConfigureAwait(false);
    }

    /// <summary>
    /// Makes a delete visible: this node's near cache, a negative KV entry (overwriting the cached
    /// link), then every other node's near cache. Not cancelled with the request; a KV failure is
    /// logged: the near-cache time-to-live bounds what other nodes may still serve.
    /// </summary>
    public async Task OnDeletedAsync(string code)
    {
        Invalidate(code);
        await BroadcastAsync(_linkPrefix + code, Missing, TimeSpan.FromSeconds(_options.NegativeCacheTtlSeconds), "d:" + code).ConfigureAwait(false);
    }

    private async Task BroadcastAsync(string key, string value, TimeSpan ttl, string message)
    {
        try
        {
            var database = (await _kv.GetAsync(CancellationToken.None).ConfigureAwait(false)).GetDatabase();
            var set = database.StringSetAsync(key, value, ttl);
            var publish = database.PublishAsync(_channel, message);
            await Task.WhenAll(set, publish).WaitAsync(KvTimeout, CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception error) when (error is RedisException or TimeoutException)
        {
            LogBroadcastFailed(_logger, message, error);
        }
    }

    /// <summary>
    /// Rebuilds the Bloom filter from every code in SQL, sized for twice the count (at least the
    /// configured size). Codes created meanwhile go into both filters, so none is lost in the swap.
    /// </summary>
    public async Task RebuildBloomAsync(CancellationToken cancellationToken)
    {
        await _rebuildGate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var count = await _store.CountAsync(cancellationToken).ConfigureAwait(false);
            var next = new BloomFilter(Math.Max(_options.BloomExpectedCodes, count * 2), _options.BloomFalsePositiveRate);
            _pending = next;
            await foreach (var code in _store.AllCodesAsync(cancellationToken).ConfigureAwait(false))
            {
                next.Add(code);
            }

            _bloom = next;
            _pending = null;
            LogBloomRebuilt(_logger, count, next.SizeBytes);
        }
        finally
        {
            _pending = null;
            _rebuildGate.Release();
        }
    }

    private void AddToBloom(string code)
    {
        // The pending filter first: if the rebuild swaps in between, the code is still in the new filter.
        var pending = _pending;
        _bloom.Add(code);
        pending?.Add(code);
    }

    private void Invalidate(string code)
    {
        Interlocked.Increment(ref _invalidations);
        _near?.TryRemove(code);
    }

    private void OnMessage(RedisValue message)
    {
        var text = message.ToString();
        if (text.Length < 3)
        {
            return;
        }

        var code = text[2..];
        switch (text[0])
        {
            case 'c':
                AddToBloom(code);
                // A miss may have been filled from the KV between the create and this message; harmless.
                break;
            case 'd':
                Invalidate(code);
                break;
        }
    }

    private void OnConnectionRestored(object? sender, ConnectionFailedEventArgs e)
    {
        if (e.ConnectionType != ConnectionType.Subscription)
        {
            return;
        }

        // Messages may have been missed while the subscription was down.
        Interlocked.Increment(ref _invalidations);
        _near?.Clear();
        _ = Task.Run(async () =>
        {
            try
            {
                await RebuildBloomAsync(CancellationToken.None).ConfigureAwait(false);
            }
#pragma warning disable CA1031 // A failed rebuild is logged; the periodic one tries again.
            catch (Exception error)
#pragma warning restore CA1031
            {
                LogRebuildFailed(_logger, error);
            }
        });
    }

    internal static string Encode(CachedLink link) =>
        string.Create(CultureInfo.InvariantCulture, $"{link.RedirectType}|{(link.ExpiresAtMs == long.MaxValue ? "" : link.ExpiresAtMs)}|{link.Url}");

    internal static CachedLink? Decode(string value)
    {
        if (value == Missing)
        {
            return null;
        }

        var first = value.IndexOf('|', StringComparison.Ordinal);
        var second = first < 0 ? -1 : value.IndexOf('|', first + 1);
        if (second < 0
            || !int.TryParse(value.AsSpan(0, first), NumberStyles.None, CultureInfo.InvariantCulture, out var type))
        {
            return null;
        }

        var expires = second == first + 1
            ? long.MaxValue
            : long.Parse(value.AsSpan(first + 1, second - first - 1), NumberStyles.None, CultureInfo.InvariantCulture);
        return new CachedLink(value[(second + 1)..], type, expires);
    }

    public async ValueTask DisposeAsync()
    {
        if (_subscriber is not null)
        {
            try
            {
                await _subscriber.UnsubscribeAsync(_channel).WaitAsync(KvTimeout).ConfigureAwait(false);
            }
#pragma warning disable CA1031 // Best effort at shutdown: the KV may already be gone.
            catch (Exception)
#pragma warning restore CA1031
            {
            }
        }

        _rebuildGate.Dispose();
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Shortener Bloom filter rebuilt: {Count} codes, {Bytes} bytes")]
    private static partial void LogBloomRebuilt(ILogger logger, long count, long bytes);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Shortener KV unavailable ({Reason}); reading SQL directly")]
    private static partial void LogKvUnavailable(ILogger logger, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Shortener could not announce {Message} through the KV; other nodes see it at their next Bloom rebuild or near-cache expiry")]
    private static partial void LogBroadcastFailed(ILogger logger, string message, Exception error);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Shortener Bloom filter rebuild failed; the next periodic rebuild tries again")]
    private static partial void LogRebuildFailed(ILogger logger, Exception error);
}
