using Blueprint.Kv;
using StackExchange.Redis;

namespace Blueprint.RateLimit.Tests.Store;

/// <summary>A KV engine shared by one test class: its endpoint, a client and an <see cref="IKvConnection"/> over it.</summary>
public abstract class KvEngine : IAsyncLifetime
{
    private ConnectionMultiplexer? _redis;
    private string? _endpoint;

    /// <summary>The client; null when the engine is not available here (the test then skips or fails via <see cref="RequireAvailable"/>).</summary>
    public ConnectionMultiplexer Redis => _redis ?? throw new InvalidOperationException("The engine did not start.");

    public IKvConnection Connection => new FixedKvConnection(Redis, IsEmbedded);

    /// <summary>Opens another client, as a second node would have; the caller disposes it.</summary>
    public async Task<ConnectionMultiplexer> ConnectAsync() => await ConnectionMultiplexer.ConnectAsync(new ConfigurationOptions
    {
        // No AllowAdmin: the store must work on an ordinary client connection.
        EndPoints = { _endpoint ?? throw new InvalidOperationException("The engine did not start.") },
        ConnectTimeout = 5_000,
        SyncTimeout = 5_000,
        AsyncTimeout = 5_000,
    });

    /// <summary>An <see cref="IKvConnection"/> over <paramref name="redis"/>.</summary>
    public IKvConnection ConnectionOver(ConnectionMultiplexer redis) => new FixedKvConnection(redis, IsEmbedded);

    protected abstract bool IsEmbedded { get; }

    /// <summary>Skips (or in CI fails) the test when the engine could not be started here.</summary>
    public abstract void RequireAvailable();

    protected abstract Task<string?> StartAsync();

    protected abstract ValueTask StopAsync();

    public async ValueTask InitializeAsync()
    {
        _endpoint = await StartAsync();
        if (_endpoint is not null)
        {
            _redis = await ConnectAsync();
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_redis is not null)
        {
            await _redis.CloseAsync();
            _redis.Dispose();
        }

        await StopAsync();
        GC.SuppressFinalize(this);
    }

    private sealed class FixedKvConnection(ConnectionMultiplexer redis, bool embedded) : IKvConnection
    {
        public string Endpoint => redis.GetEndPoints()[0].ToString()!;

        public bool IsEmbedded => embedded;

        public ValueTask<IConnectionMultiplexer> GetAsync(CancellationToken cancellationToken = default) => ValueTask.FromResult<IConnectionMultiplexer>(redis);
    }
}

/// <summary>The embedded Garnet of a test node (Lua 5.4).</summary>
public sealed class GarnetEngine : KvEngine
{
    private TestNode? _node;

    protected override bool IsEmbedded => true;

    public override void RequireAvailable()
    {
    }

    protected override async Task<string?> StartAsync()
    {
        _node = await TestNode.StartAsync(settings: new Dictionary<string, string?> { ["Node:Modules"] = "kv" });
        return _node.RespEndpoint;
    }

    protected override ValueTask StopAsync() => _node?.DisposeAsync() ?? ValueTask.CompletedTask;
}

/// <summary>A real redis-server (Lua 5.1, every number a double).</summary>
public sealed class RedisServerEngine : KvEngine
{
    private RedisServerPeer? _peer;

    protected override bool IsEmbedded => false;

    public override void RequireAvailable() => Peers.Require("redis-server", "redis-server");

    protected override async Task<string?> StartAsync()
    {
        // A fixture cannot skip; when the binary is absent each test skips (or fails in CI) in RequireAvailable.
        if (Peers.Find("redis-server") is null)
        {
            return null;
        }

        _peer = await RedisServerPeer.StartAsync();
        return _peer.Endpoint;
    }

    protected override ValueTask StopAsync() => _peer?.DisposeAsync() ?? ValueTask.CompletedTask;
}
