using System.Collections.Concurrent;
using Blueprint.Cache.Near;
using Microsoft.Extensions.Caching.Hybrid;
using Microsoft.Extensions.Caching.StackExchangeRedis;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using StackExchange.Redis;

namespace Blueprint.Cache;

/// <summary>
/// The typed cache for modules and apps: a <see cref="HybridCache"/> whose distributed level is the RESP engine
/// (Garnet or Redis, cluster or not) and whose local level is a near cache kept coherent across instances.
/// </summary>
/// <remarks>
/// <para>
/// Levels. HybridCache's own local cache (L1) is turned off on every call
/// (<see cref="HybridCacheEntryFlags.DisableLocalCache"/>) and replaced by this class's near cache, because L1 cannot
/// be made coherent from outside: HybridCache has no local-only removal (its <c>RemoveAsync</c> also deletes the
/// distributed entry, so an instance reacting to another's write would delete the value just written), and its entries
/// carry no sequence to check a fill against. HybridCache keeps doing what it is good at: serialization, the
/// distributed level (Microsoft.Extensions.Caching.StackExchangeRedis over the host's multiplexer), tags, and running
/// the factory once per key per instance.
/// </para>
/// <para>
/// Coherence (docs/cache.md, "Near cache and coherence"). Every write or removal through this cache updates the
/// distributed level, then increments its partition's sequence and publishes an invalidation (source, partition,
/// sequence, key) on a channel; every instance drops its near copy on receipt. A lost message is caught like
/// Hazelcast's near cache does: every <see cref="BlueprintCacheOptions.ReconciliationInterval"/> R each instance reads
/// the sequences and drops the partitions where one was never received. Bound: after a write completes, another
/// instance serves the old value for at most R plus one round trip, and never longer than
/// <see cref="BlueprintCacheOptions.NearTtl"/> whatever happens. A fill records its partition's epoch before it reads,
/// so a fill racing an invalidation does not keep the old value (<see cref="NearCache"/>).
/// </para>
/// <para>
/// Near copies are the deserialized objects, shared by every reader of this instance: cache immutable values (records,
/// strings). Concurrent misses of one key share one fetch (single flight), which also calls the factory once.
/// </para>
/// </remarks>
public sealed class BlueprintCache : HybridCache, IAsyncDisposable
{
    private static readonly string[] NoTags = [];

    // HybridCache's default MaximumKeyLength: a longer key is never cached by it, so none is kept near either.
    private static readonly int KeyCharsMax = new HybridCacheOptions().MaximumKeyLength;

    private readonly BlueprintCacheOptions _options;
    private readonly NearCache _near;
    private readonly HybridCacheGenerations _generations;
    private readonly NearCoherence _coherence;
    private readonly HybridCacheEntryOptions _defaultEntry;
    private readonly ConcurrentDictionary<string, Flight> _flights = new(StringComparer.Ordinal);
    private long _nearHits;
    private long _nearMisses;
    private int _disposed;

    /// <summary>Creates a cache over the connection <paramref name="connect"/> returns (the host's shared multiplexer).</summary>
    /// <param name="connect">Returns the multiplexer to the RESP engine; called when first needed, and must return the same one each time.</param>
    /// <param name="options">The settings; validated here.</param>
    /// <param name="time">The clock of the near TTL and the reconciliation timer; the system clock when null.</param>
    /// <param name="loggerFactory">Where logs go; nowhere when null.</param>
    /// <exception cref="ArgumentException">An option is out of range.</exception>
    public BlueprintCache(
        Func<CancellationToken, ValueTask<IConnectionMultiplexer>> connect,
        BlueprintCacheOptions options,
        TimeProvider? time = null,
        ILoggerFactory? loggerFactory = null)
    {
        ArgumentNullException.ThrowIfNull(connect);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        _options = options;
        time ??= TimeProvider.System;

        // Not disposed by this class: RedisCache's Dispose closes the multiplexer, which belongs to the host.
        var distributed = new RedisCache(Microsoft.Extensions.Options.Options.Create(new RedisCacheOptions
        {
            ConnectionMultiplexerFactory = async () => await connect(CancellationToken.None),
            InstanceName = $"{options.Prefix}:e:",
        }));
        _generations = new HybridCacheGenerations(distributed, loggerFactory, options);
        _near = new NearCache(options.NearEntriesMax, options.PartitionCount, time);
        _coherence = new NearCoherence(
            connect,
            options,
            time,
            loggerFactory?.CreateLogger<BlueprintCache>() ?? (ILogger)NullLogger.Instance,
            _near,
            _generations);
        _defaultEntry = new HybridCacheEntryOptions { Expiration = options.Expiration, Flags = HybridCacheEntryFlags.DisableLocalCache };
    }

    /// <summary>Counters of the near cache and its coherence.</summary>
    public NearCacheStatistics Statistics
    {
        get
        {
            var (received, dropped, published, reconciliations, gaps) = _coherence.Counters;
            return new NearCacheStatistics(
                _coherence.Active,
                Interlocked.Read(ref _nearHits),
                Interlocked.Read(ref _nearMisses),
                _near.Count,
                published,
                received,
                dropped,
                reconciliations,
                gaps);
        }
    }

    /// <summary>Completes when the near cache is active (subscribed, sequences read); until then reads go to the distributed cache.</summary>
    public Task WhenNearActiveAsync(CancellationToken cancellationToken = default) => _coherence.WhenActive.WaitAsync(cancellationToken);

    /// <summary>Test hook: drop incoming invalidations from other instances.</summary>
    internal bool DropIncomingInvalidations
    {
        get => _coherence.DropIncoming;
        set => _coherence.DropIncoming = value;
    }

    /// <summary>Test hook: a reconciler that finds gaps and drops nothing.</summary>
    internal bool ReconciliationBroken
    {
        get => _coherence.ReconciliationBroken;
        set => _coherence.ReconciliationBroken = value;
    }

    /// <summary>How many times the HybridCache underneath was renewed after a tag removal by another instance.</summary>
    internal int HybridCacheRenewals => _generations.Renewals;

    /// <inheritdoc />
    public override async ValueTask<T> GetOrCreateAsync<TState, T>(
        string key,
        TState state,
        Func<TState, CancellationToken, ValueTask<T>> factory,
        HybridCacheEntryOptions? options = null,
        IEnumerable<string>? tags = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(factory);
        var flags = options?.Flags ?? HybridCacheEntryFlags.None;
        if (!_coherence.Active || key.Length > KeyCharsMax || (flags & HybridCacheEntryFlags.DisableLocalCacheRead) != 0)
        {
            return await _generations.Current.GetOrCreateAsync(key, state, factory, Distributed(options), tags, cancellationToken);
        }

        if (_near.TryGet(key, out T near))
        {
            Interlocked.Increment(ref _nearHits);
            return near;
        }

        Interlocked.Increment(ref _nearMisses);
        var partition = _near.PartitionOf(key);
        var flight = new Flight(_near.EpochOf(partition));
        var running = _flights.GetOrAdd(key, flight);
        if (running == flight)
        {
            _ = FlyAsync(key, partition, flight, state, factory, options, tags);
        }

        var value = await running.Result.Task.WaitAsync(cancellationToken);
        if (value is T typed)
        {
            return typed;
        }

        return value is null && default(T) is null
            ? default!
            : await _generations.Current.GetOrCreateAsync(key, state, factory, Distributed(options), tags, cancellationToken);
    }

    /// <inheritdoc />
    public override async ValueTask SetAsync<T>(
        string key,
        T value,
        HybridCacheEntryOptions? options = null,
        IEnumerable<string>? tags = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(key);
        await _generations.Current.SetAsync(key, value, Distributed(options), tags, cancellationToken);
        await _coherence.AnnounceAsync(_near.PartitionOf(key), isTag: false, key, cancellationToken);
    }

    /// <inheritdoc />
    public override async ValueTask RemoveAsync(string key, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(key);
        await _generations.Current.RemoveAsync(key, cancellationToken);
        await _coherence.AnnounceAsync(_near.PartitionOf(key), isTag: false, key, cancellationToken);
    }

    /// <inheritdoc />
    public override async ValueTask RemoveByTagAsync(string tag, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(tag);
        await _generations.Current.RemoveByTagAsync(tag, cancellationToken);
        await _coherence.AnnounceAsync(_coherence.TagStream, isTag: true, tag, cancellationToken);
    }

    /// <summary>Stops the subscription and the reconciliation timer. The multiplexer stays open: it is the host's.</summary>
    /// <remarks>Idempotent: a container that registered the cache under two service types disposes it twice.</remarks>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        await _coherence.DisposeAsync();
        _generations.Dispose();
    }

    // Runs detached from any one caller's cancellation: other callers may be waiting on the same flight.
    private async Task FlyAsync<TState, T>(
        string key,
        int partition,
        Flight flight,
        TState state,
        Func<TState, CancellationToken, ValueTask<T>> factory,
        HybridCacheEntryOptions? options,
        IEnumerable<string>? tags)
    {
        try
        {
            var value = await _generations.Current.GetOrCreateAsync(key, state, factory, Distributed(options), tags, CancellationToken.None);
            if (((options?.Flags ?? HybridCacheEntryFlags.None) & HybridCacheEntryFlags.DisableLocalCacheWrite) == 0)
            {
                _near.Fill(key, partition, flight.Epoch, value, tags is null ? NoTags : [.. tags], NearTtl(options));
            }

            // Removed before completion, so a caller arriving later starts a new flight with a fresh epoch.
            _flights.TryRemove(new KeyValuePair<string, Flight>(key, flight));
            flight.Result.SetResult(value);
        }
        catch (Exception exception)
        {
            _flights.TryRemove(new KeyValuePair<string, Flight>(key, flight));
            flight.Result.SetException(exception);
        }
    }

    private HybridCacheEntryOptions Distributed(HybridCacheEntryOptions? options) =>
        options is null
            ? _defaultEntry
            : new HybridCacheEntryOptions
            {
                Expiration = options.Expiration ?? _options.Expiration,
                LocalCacheExpiration = options.LocalCacheExpiration,
                Flags = (options.Flags ?? HybridCacheEntryFlags.None) | HybridCacheEntryFlags.DisableLocalCache,
            };

    private TimeSpan NearTtl(HybridCacheEntryOptions? options)
    {
        var ttl = _options.NearTtl;
        if (options?.LocalCacheExpiration is { } local && local < ttl)
        {
            ttl = local;
        }

        if (options?.Expiration is { } expiration && expiration < ttl)
        {
            ttl = expiration;
        }

        return ttl;
    }

    /// <summary>One fetch of one key, shared by the callers that missed it meanwhile; the epoch is read before it starts.</summary>
    private sealed class Flight(long epoch)
    {
        public long Epoch { get; } = epoch;

        public TaskCompletionSource<object?> Result { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}
