using System.Buffers;
using System.Diagnostics.CodeAnalysis;
using System.Text.Json;
using Microsoft.Extensions.Caching.Distributed;
using Microsoft.Extensions.Caching.Hybrid;
using Microsoft.Extensions.Caching.Memory;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Blueprint.Cache;

/// <summary>
/// The HybridCache a <see cref="BlueprintCache"/> stores through, replaceable by a fresh one: the only way to make
/// an instance forget what it learnt about a tag.
/// </summary>
/// <remarks>
/// HybridCache reads a tag's invalidation time from the distributed cache the first time it meets the tag and never
/// again, so an instance does not learn of a <c>RemoveByTagAsync</c> made by another instance after that: it would go
/// on accepting, from the distributed cache, entries that the tag removal retired. When such a removal is announced
/// (or one is known to be lost), the cache starts a new generation; the new HybridCache reads each tag's time afresh
/// on first use. Operations in flight finish on the old generation. Its local cache is never used (every call carries
/// <see cref="HybridCacheEntryFlags.DisableLocalCache"/>; the near cache is the local level).
/// HybridCache's implementation is obtained the one way its package offers, through dependency injection: the type
/// <c>AddHybridCache</c> registers, built over a small provider of exactly the services it asks for.
/// </remarks>
internal sealed class HybridCacheGenerations : IDisposable
{
    private readonly Type _implementation;
    private readonly GenerationServices _services;
    private readonly Microsoft.Extensions.Options.IOptions<HybridCacheOptions> _options;
    private HybridCache _current;
    private int _renewals;

    public HybridCacheGenerations(IDistributedCache distributed, ILoggerFactory? loggerFactory, BlueprintCacheOptions options)
    {
        _implementation = new ServiceCollection().AddHybridCache().Services
            .Last(descriptor => descriptor.ServiceType == typeof(HybridCache) && !descriptor.IsKeyedService)
            .ImplementationType
            ?? throw new InvalidOperationException("AddHybridCache registered no implementation type for HybridCache.");
        _services = new GenerationServices(distributed, loggerFactory);
        _options = Microsoft.Extensions.Options.Options.Create(new HybridCacheOptions
        {
            DefaultEntryOptions = new HybridCacheEntryOptions
            {
                Expiration = options.Expiration,
                Flags = HybridCacheEntryFlags.DisableLocalCache,
            },
        });
        _current = Create();
    }

    /// <summary>The generation new operations use.</summary>
    public HybridCache Current => Volatile.Read(ref _current);

    /// <summary>How many generations were started after the first.</summary>
    public int Renewals => Volatile.Read(ref _renewals);

    /// <summary>Starts a new generation, which knows no tag invalidation time until it reads it.</summary>
    public void Renew()
    {
        Volatile.Write(ref _current, Create());
        Interlocked.Increment(ref _renewals);
    }

    public void Dispose() => _services.Dispose();

    private HybridCache Create() => (HybridCache)ActivatorUtilities.CreateInstance(_services, _implementation, _options);

    /// <summary>The services HybridCache's implementation resolves, and nothing else.</summary>
    private sealed class GenerationServices(IDistributedCache distributed, ILoggerFactory? loggerFactory) : IServiceProvider, IKeyedServiceProvider, IDisposable
    {
        // HybridCache requires an IMemoryCache even with its local level off; this one stays empty.
        private readonly MemoryCache _unusedLocal = new(new MemoryCacheOptions());
        private readonly IHybridCacheSerializerFactory[] _serializers = [new JsonSerializerFactory()];

        public object? GetService(Type serviceType) =>
            serviceType == typeof(IServiceProvider) ? this
            : serviceType == typeof(IDistributedCache) ? distributed
            : serviceType == typeof(IMemoryCache) ? _unusedLocal
            : serviceType == typeof(ILoggerFactory) ? loggerFactory
            : serviceType == typeof(IEnumerable<IHybridCacheSerializerFactory>) ? _serializers
            : null;

        public object? GetKeyedService(Type serviceType, object? serviceKey) => serviceKey is null ? GetService(serviceType) : null;

        public object GetRequiredKeyedService(Type serviceType, object? serviceKey) =>
            GetKeyedService(serviceType, serviceKey) ?? throw new InvalidOperationException($"No service {serviceType} keyed {serviceKey} for HybridCache.");

        public void Dispose() => _unusedLocal.Dispose();
    }

    /// <summary>System.Text.Json for every type, as HybridCache's default factory (which is internal) does.</summary>
    private sealed class JsonSerializerFactory : IHybridCacheSerializerFactory
    {
        public bool TryCreateSerializer<T>([NotNullWhen(true)] out IHybridCacheSerializer<T>? serializer)
        {
            serializer = new JsonValueSerializer<T>();
            return true;
        }
    }

    private sealed class JsonValueSerializer<T> : IHybridCacheSerializer<T>
    {
        public T Deserialize(ReadOnlySequence<byte> source)
        {
            var reader = new Utf8JsonReader(source);
            return JsonSerializer.Deserialize<T>(ref reader)!;
        }

        public void Serialize(T value, IBufferWriter<byte> target)
        {
            using var writer = new Utf8JsonWriter(target);
            JsonSerializer.Serialize(writer, value);
        }
    }
}
