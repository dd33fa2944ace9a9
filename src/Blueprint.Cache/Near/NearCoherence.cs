using Microsoft.Extensions.Logging;
using StackExchange.Redis;

namespace Blueprint.Cache.Near;

/// <summary>
/// Keeps one instance's near cache coherent with the others: announces this instance's writes, applies the others'
/// invalidations as they arrive, and every <see cref="BlueprintCacheOptions.ReconciliationInterval"/> compares the
/// partition sequences on the server with those it applied, dropping the partitions where one was lost.
/// </summary>
/// <remarks>
/// Until the subscription is up and the sequences read once, the near cache is off (<see cref="Active"/> false) and
/// every read goes to the distributed cache. Failing closed: a reconciliation that cannot read the sequences, or a
/// connection that fails or is restored (messages may have been missed while it was down), makes every near copy stale.
/// Nothing is queued: each message is applied inside StackExchange.Redis's ordered handler in O(1) (a tag: a scan of
/// the near cache, bounded by its size).
/// </remarks>
internal sealed partial class NearCoherence : IAsyncDisposable
{
    private readonly Func<CancellationToken, ValueTask<IConnectionMultiplexer>> _connect;
    private readonly BlueprintCacheOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly NearCache _near;
    private readonly HybridCacheGenerations _generations;
    private readonly SequenceTracker _tracker;
    private readonly CancellationTokenSource _stopping = new();
    private readonly TaskCompletionSource _active = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Task _loop;
    private IConnectionMultiplexer? _connection;
    private CoherenceChannel? _channel;
    private long _received;
    private long _dropped;
    private long _published;
    private long _reconciliations;
    private long _gaps;

    public NearCoherence(
        Func<CancellationToken, ValueTask<IConnectionMultiplexer>> connect,
        BlueprintCacheOptions options,
        TimeProvider time,
        ILogger logger,
        NearCache near,
        HybridCacheGenerations generations)
    {
        _connect = connect;
        _options = options;
        _time = time;
        _logger = logger;
        _near = near;
        _generations = generations;
        _tracker = new SequenceTracker(options.PartitionCount + 1);
        SourceId = Guid.NewGuid().ToString("N");
        _loop = options.NearCacheEnabled ? Task.Run(() => RunAsync(_stopping.Token)) : Task.CompletedTask;
    }

    /// <summary>This instance's name in the invalidations it publishes.</summary>
    public string SourceId { get; }

    /// <summary>The stream of tag removals: the one after the partitions.</summary>
    public int TagStream => _options.PartitionCount;

    /// <summary>Whether the near cache may be read and filled: subscribed, and the sequences read once.</summary>
    public bool Active => _active.Task.IsCompletedSuccessfully;

    /// <summary>Completes when the near cache becomes active.</summary>
    public Task WhenActive => _active.Task;

    /// <summary>Test hook: drop incoming invalidations from other instances, as a lossy network would.</summary>
    internal bool DropIncoming { get; set; }

    /// <summary>Test hook: a broken reconciler that reads the sequences and forgets to drop anything.</summary>
    internal bool ReconciliationBroken { get; set; }

    /// <summary>A snapshot of the counters.</summary>
    public (long Received, long Dropped, long Published, long Reconciliations, long Gaps) Counters =>
        (Interlocked.Read(ref _received), Interlocked.Read(ref _dropped), Interlocked.Read(ref _published),
         Interlocked.Read(ref _reconciliations), Interlocked.Read(ref _gaps));

    /// <summary>
    /// Applies this instance's own write locally, then increments the stream's sequence and publishes it. Call it after
    /// the distributed cache holds the new state: a fill that reads the sequence afterwards then reads the new value.
    /// </summary>
    /// <exception cref="TimeoutException">The server did not answer in time; other instances may serve the old value up to the near TTL.</exception>
    public async Task AnnounceAsync(int stream, bool isTag, string target, CancellationToken cancellationToken)
    {
        ApplyLocally(stream, isTag, target, renewHybridCache: false);
        if (!_options.NearCacheEnabled)
        {
            return;
        }

        var channel = await ChannelAsync(cancellationToken);
        var sequence = await channel.IncrementAsync(stream);
        _tracker.Received(stream, sequence);
        await channel.PublishAsync(new Invalidation(SourceId, stream, sequence, isTag, target));
        Interlocked.Increment(ref _published);
    }

    /// <summary>Reads the sequences and drops what a lost invalidation may have left stale; the timer calls it every interval.</summary>
    public async Task ReconcileAsync()
    {
        try
        {
            var channel = await ChannelAsync(_stopping.Token);
            var sequences = await channel.ReadSequencesAsync();
            for (var stream = 0; stream < sequences.Length; stream++)
            {
                if (!_tracker.Reconcile(stream, sequences[stream]))
                {
                    continue;
                }

                Interlocked.Increment(ref _gaps);
                LogGap(stream, sequences[stream]);
                if (ReconciliationBroken)
                {
                    continue;
                }

                if (stream == TagStream)
                {
                    // Renewed first: a fill that reads the epoch after the bump must also fetch through the new generation.
                    _generations.Renew();
                    _near.MarkAllStale();
                }
                else
                {
                    _near.MarkStale(stream);
                }
            }

            Interlocked.Increment(ref _reconciliations);
        }
        catch (Exception exception) when (!_stopping.IsCancellationRequested)
        {
            _near.MarkAllStale();
            LogReconciliationFailed(exception);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync();
        await _loop.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        if (_connection is not null)
        {
            _connection.ConnectionFailed -= OnConnectionChanged;
            _connection.ConnectionRestored -= OnConnectionChanged;
        }

        if (_channel is not null && Active)
        {
            try
            {
                await _channel.UnsubscribeAsync();
            }
            catch (Exception exception) when (exception is RedisException or TimeoutException)
            {
                LogUnsubscribeFailed(exception);
            }
        }

        _stopping.Dispose();
    }

    private async Task RunAsync(CancellationToken stopping)
    {
        // One timer paces both the start attempts and reconciliation; it exists before the near cache is active,
        // so no tick after activation is missed.
        using var timer = new PeriodicTimer(_options.ReconciliationInterval, _time);
        try
        {
            while (!await TryStartAsync(stopping))
            {
                await timer.WaitForNextTickAsync(stopping);
            }

            while (await timer.WaitForNextTickAsync(stopping))
            {
                await ReconcileAsync();
            }
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
            _active.TrySetCanceled(stopping);
        }
    }

    private async Task<bool> TryStartAsync(CancellationToken stopping)
    {
        try
        {
            var channel = await ChannelAsync(stopping);
            await channel.SubscribeAsync(OnMessage);
            _tracker.Reset(await channel.ReadSequencesAsync());
            _connection!.ConnectionFailed += OnConnectionChanged;
            _connection.ConnectionRestored += OnConnectionChanged;
            _active.TrySetResult();
            LogNearActive(_options.PartitionCount, _options.ReconciliationInterval);
            return true;
        }
        catch (Exception exception) when (!stopping.IsCancellationRequested)
        {
            LogStartFailed(exception);
            return false;
        }
    }

    private async ValueTask<CoherenceChannel> ChannelAsync(CancellationToken cancellationToken)
    {
        if (_channel is { } channel)
        {
            return channel;
        }

        var connection = await _connect(cancellationToken).AsTask().WaitAsync(_options.NetworkTimeout, _time, cancellationToken);
        _connection = connection;
        return _channel = new CoherenceChannel(connection, _options, _time);
    }

    private void OnMessage(RedisValue message)
    {
        if (!Invalidation.TryParse(message, out var invalidation))
        {
            // Unreadable or from an instance with other settings: the key is unknown, so nothing near can be trusted.
            _near.MarkAllStale();
            LogMalformed(Invalidation.MessageCharsMax);
            return;
        }

        if (invalidation.Source == SourceId)
        {
            return;
        }

        if (DropIncoming)
        {
            Interlocked.Increment(ref _dropped);
            return;
        }

        if (invalidation.Stream > TagStream || (invalidation.IsTag != (invalidation.Stream == TagStream)))
        {
            _near.MarkAllStale();
            LogMalformed(Invalidation.MessageCharsMax);
            return;
        }

        ApplyLocally(invalidation.Stream, invalidation.IsTag, invalidation.Target, renewHybridCache: true);
        _tracker.Received(invalidation.Stream, invalidation.Sequence);
        Interlocked.Increment(ref _received);
    }

    private void ApplyLocally(int stream, bool isTag, string target, bool renewHybridCache)
    {
        if (!isTag)
        {
            _near.Invalidate(target, stream);
            return;
        }

        // The generation is renewed before the epochs are bumped. The other order let a read slip in between: it
        // missed the near cache, took the bumped epoch, fetched through the old generation (which still trusts the
        // entries the tag retired), and its fill was accepted, keeping the retired value until the near TTL.
        if (renewHybridCache)
        {
            _generations.Renew();
        }

        _near.InvalidateTag(target);
    }

    private void OnConnectionChanged(object? sender, ConnectionFailedEventArgs args)
    {
        _near.MarkAllStale();
        LogConnectionChanged(args.EndPoint, args.FailureType);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Near cache active: {Partitions} partitions, reconciliation every {Interval}")]
    private partial void LogNearActive(int partitions, TimeSpan interval);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Near cache could not start (subscribe or read sequences); reads go to the distributed cache until it does")]
    private partial void LogStartFailed(Exception exception);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Near cache reconciliation failed; every near copy is dropped")]
    private partial void LogReconciliationFailed(Exception exception);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Near cache stream {Stream} reached sequence {Sequence} with an invalidation never received; its near copies are dropped")]
    private partial void LogGap(int stream, long sequence);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Near cache ignored an invalidation it could not read (longer than {CharsMax} characters, malformed, or from an instance with other settings); every near copy is dropped")]
    private partial void LogMalformed(int charsMax);

    [LoggerMessage(Level = LogLevel.Information, Message = "Near cache connection to {Endpoint} changed ({Failure}); every near copy is dropped")]
    private partial void LogConnectionChanged(System.Net.EndPoint? endpoint, ConnectionFailureType failure);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Near cache could not unsubscribe on disposal")]
    private partial void LogUnsubscribeFailed(Exception exception);
}
