using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Blueprint.Cache.Patterns;

/// <summary>
/// Write-behind (write-back): a write goes to the cache and into a bounded queue and is acknowledged; a background
/// flusher writes the queue to the database in batches. Writes are fast and a hot key costs the database one write
/// per batch, at the price of a loss window: what was acknowledged but not yet flushed lives only in this process
/// (and in the cache).
/// </summary>
/// <remarks>
/// <para><b>Queue.</b> A <see cref="Channel"/> of keys bounded at <see cref="WriteBehindOptions.QueueCapacity"/>,
/// beside a map of each queued key's latest value. A write of a key already queued replaces the queued value
/// (coalescing: no new slot, one database write for both) and keeps the key's place. When the queue is full a write
/// of a new key is rejected with <see cref="WriteBehindRejectedException"/> (policy
/// <see cref="WriteBehindFullPolicy.Reject"/>, its cache entry deleted so no reader sees a value that will never be
/// stored) or waits for room (<see cref="WriteBehindFullPolicy.Wait"/>, back-pressure up to the caller's
/// cancellation). Nothing is dropped silently.</para>
/// <para><b>Flush.</b> A batch of at most <see cref="WriteBehindOptions.BatchSizeMax"/> keys, in queue order, is
/// written in one transaction as soon as that many are queued, or when the oldest queued write is
/// <see cref="WriteBehindOptions.FlushDelayMax"/> old (time from the <see cref="TimeProvider"/>).</para>
/// <para><b>Failure.</b> A failed batch is tried again after a pause that doubles from
/// <see cref="WriteBehindOptions.RetryDelayFirst"/> up to <see cref="WriteBehindOptions.RetryDelayMax"/>, at most
/// <see cref="WriteBehindOptions.WriteAttemptsMax"/> tries in all; then its records are dead-lettered: counted,
/// logged, the last few kept in <see cref="DeadLetters"/>, and their cache keys deleted (unless written again since),
/// so readers fall back to what the database holds. While a batch is retried nothing else is flushed, the queue
/// fills, and the full policy pushes back on writers.</para>
/// <para><b>Stop.</b> <see cref="StopAsync"/> refuses new writes, then flushes everything queued without waiting for
/// the delay: a graceful stop loses nothing acknowledged (unless the database fails past the retries).</para>
/// <para><b>Loss window.</b> A crash (kill -9) loses exactly the writes acknowledged but not yet flushed: in steady
/// state those of the last <see cref="WriteBehindOptions.FlushDelayMax"/> (plus the batch being written), never more
/// than <see cref="WriteBehindOptions.QueueCapacity"/> + <see cref="WriteBehindOptions.BatchSizeMax"/> keys.</para>
/// <para><b>Reads.</b> Through a <see cref="ReadThroughCache{TKey, TValue}"/> whose loader looks in the queue and
/// the batch being written before the database, so a reader on this process never sees a value older than an
/// acknowledged write even when the cache lost it. A reader elsewhere that misses the cache reads the database and
/// may see the older value until the flush.</para>
/// </remarks>
/// <typeparam name="TKey">The key.</typeparam>
/// <typeparam name="TValue">The record.</typeparam>
public sealed partial class WriteBehind<TKey, TValue> : ICachingPattern<TKey, TValue>, IAsyncDisposable
    where TKey : notnull
    where TValue : class
{
    private readonly IPatternCache<TKey, TValue> _cache;
    private readonly IRecordStore<TKey, TValue> _store;
    private readonly TimeSpan _ttl;
    private readonly WriteBehindOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly ReadThroughCache<TKey, TValue> _reads;
    private readonly KeyedGate<TKey> _writes = new();
    private readonly Channel<TKey> _queue;
    private readonly Lock _gate = new();

    // Guarded by _gate: a key is in _queued exactly while it is in _queue.
    private readonly Dictionary<TKey, Queued> _queued = [];
    private readonly Dictionary<TKey, TValue?> _inFlight = [];
    private readonly Queue<DeadLetter<TKey, TValue>> _deadLetters = new();
    private TaskCompletionSource _wake = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private bool _stopping;

    private readonly Task _flusher;
    private long _accepted;
    private long _coalesced;
    private long _rejected;
    private long _flushed;
    private long _batches;
    private long _retries;
    private long _deadLettered;

    /// <summary>Creates the pattern and starts its flusher, which runs until <see cref="StopAsync"/>.</summary>
    /// <param name="cache">The cache.</param>
    /// <param name="store">The database.</param>
    /// <param name="ttl">How long a written or filled value lives in the cache.</param>
    /// <param name="options">Queue, batch, delay, full and failure policies.</param>
    /// <param name="time">The clock of the flush delay and the retry pauses.</param>
    /// <param name="logger">Where retries and dead letters are logged.</param>
    public WriteBehind(
        IPatternCache<TKey, TValue> cache, IRecordStore<TKey, TValue> store, TimeSpan ttl, WriteBehindOptions options, TimeProvider time, ILogger? logger = null)
    {
        _cache = cache ?? throw new ArgumentNullException(nameof(cache));
        _store = store ?? throw new ArgumentNullException(nameof(store));
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        _options = options;
        _ttl = ttl;
        _time = time ?? throw new ArgumentNullException(nameof(time));
        _logger = logger ?? NullLogger.Instance;
        _reads = new ReadThroughCache<TKey, TValue>(cache, LoadAsync, ttl, Counters);
        _queue = Channel.CreateBounded<TKey>(new BoundedChannelOptions(options.QueueCapacity)
        {
            FullMode = BoundedChannelFullMode.Wait,
            SingleReader = true,
        });
        _flusher = Task.Run(FlushLoopAsync);
    }

    /// <inheritdoc />
    public string Name => "write-behind";

    /// <inheritdoc />
    public PatternCounters Counters { get; } = new();

    /// <summary>The limits and policies in force.</summary>
    public WriteBehindOptions Options => _options;

    /// <summary>The queue's counters now.</summary>
    public WriteBehindStats Stats
    {
        get
        {
            lock (_gate)
            {
                return new WriteBehindStats(
                    _queued.Count, _inFlight.Count, Interlocked.Read(ref _accepted), Interlocked.Read(ref _coalesced), Interlocked.Read(ref _rejected),
                    Interlocked.Read(ref _flushed), Interlocked.Read(ref _batches), Interlocked.Read(ref _retries), Interlocked.Read(ref _deadLettered));
            }
        }
    }

    /// <summary>The most recent dead letters, oldest first (at most <see cref="WriteBehindOptions.DeadLettersKept"/>).</summary>
    public IReadOnlyList<DeadLetter<TKey, TValue>> DeadLetters
    {
        get
        {
            lock (_gate)
            {
                return [.. _deadLetters];
            }
        }
    }

    /// <inheritdoc />
    public ValueTask<PatternRead<TValue>> GetAsync(TKey key, CancellationToken cancellationToken) => _reads.GetAsync(key, cancellationToken);

    /// <inheritdoc />
    /// <remarks>Acknowledged when the cache holds the value and the queue holds the write; the database gets it at the next flush.</remarks>
    /// <exception cref="WriteBehindRejectedException">The queue is full (policy Reject) or the write-behind is stopping.</exception>
    public ValueTask SetAsync(TKey key, TValue value, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(value);
        return WriteAsync(key, value, cancellationToken);
    }

    /// <inheritdoc />
    /// <remarks>Acknowledged when the cache key is deleted and the queue holds the delete.</remarks>
    /// <exception cref="WriteBehindRejectedException">The queue is full (policy Reject) or the write-behind is stopping.</exception>
    public ValueTask RemoveAsync(TKey key, CancellationToken cancellationToken) => WriteAsync(key, null, cancellationToken);

    /// <summary>Refuses new writes, flushes everything queued (with the usual retries) and stops the flusher.</summary>
    /// <param name="cancellationToken">Stops waiting (the flush goes on in the background).</param>
    public async Task StopAsync(CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            if (!_stopping)
            {
                _stopping = true;
                _queue.Writer.TryComplete();
                _wake.TrySetResult();
            }
        }

        await _flusher.WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Stops (flushing what is queued) and releases the key gates.</summary>
    public async ValueTask DisposeAsync()
    {
        await StopAsync(CancellationToken.None).ConfigureAwait(false);
        _writes.Dispose();
    }

    private async ValueTask WriteAsync(TKey key, TValue? value, CancellationToken cancellationToken)
    {
        // One writer per key at a time here, so the cache and the queue see this process's writes of a key in one order.
        using var _ = await _writes.EnterAsync(key, cancellationToken).ConfigureAwait(false);
        if (value is null)
        {
            await _cache.RemoveAsync(key, cancellationToken).ConfigureAwait(false);
        }
        else
        {
            await _cache.SetAsync(key, value, _ttl, cancellationToken).ConfigureAwait(false);
        }

        try
        {
            await EnqueueAsync(key, value, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception error) when (error is WriteBehindRejectedException or OperationCanceledException)
        {
            // Not acknowledged: the cache must not keep a value the database will never get.
            await _cache.RemoveAsync(key, CancellationToken.None).ConfigureAwait(false);
            throw;
        }

        _reads.Written(key);
    }

    private async ValueTask EnqueueAsync(TKey key, TValue? value, CancellationToken cancellationToken)
    {
        while (true)
        {
            lock (_gate)
            {
                if (_stopping)
                {
                    Interlocked.Increment(ref _rejected);
                    throw new WriteBehindRejectedException("the write-behind is stopping and takes no more writes");
                }

                if (_queued.TryGetValue(key, out var queued))
                {
                    queued.Value = value;
                    Interlocked.Increment(ref _coalesced);
                    Interlocked.Increment(ref _accepted);
                    return;
                }

                if (_queue.Writer.TryWrite(key))
                {
                    _queued[key] = new Queued(value, _time.GetTimestamp());
                    Interlocked.Increment(ref _accepted);
                    if (_queue.Reader.Count >= _options.BatchSizeMax)
                    {
                        _wake.TrySetResult();
                    }

                    return;
                }

                if (_options.FullPolicy == WriteBehindFullPolicy.Reject)
                {
                    Interlocked.Increment(ref _rejected);
                    throw new WriteBehindRejectedException(
                        $"the write-behind queue is full ({_options.QueueCapacity} keys wait for the database); try again later");
                }
            }

            // Wait: room appears when the flusher takes a batch; false when stopping (then the loop throws).
            await _queue.Writer.WaitToWriteAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    private async ValueTask<PatternRead<TValue>> LoadAsync(TKey key, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            if (_queued.TryGetValue(key, out var queued))
            {
                return new PatternRead<TValue>(queued.Value, ReadSource.Queue);
            }

            if (_inFlight.TryGetValue(key, out var flushing))
            {
                return new PatternRead<TValue>(flushing, ReadSource.Queue);
            }
        }

        return new PatternRead<TValue>(await _store.LoadAsync(key, cancellationToken).ConfigureAwait(false), ReadSource.Database);
    }

    /// <summary>A queued write: the key's latest value (null deletes) and when the key was queued.</summary>
    private sealed class Queued(TValue? value, long queuedAt)
    {
        public TValue? Value { get; set; } = value;

        public long QueuedAt { get; } = queuedAt;
    }
}
