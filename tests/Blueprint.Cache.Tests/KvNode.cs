using Microsoft.Extensions.Time.Testing;
using StackExchange.Redis;

namespace Blueprint.Cache.Tests;

/// <summary>
/// A real node running only the kv module (embedded Garnet), and the clients a test opens on it: each cache gets
/// its own multiplexer, as separate app instances would. Each cache of a test shares one key prefix, unique per
/// node, so caches of one test see each other and nothing else.
/// </summary>
internal sealed class KvNode : IAsyncDisposable
{
    private readonly List<BlueprintCache> _caches = [];
    private readonly List<ConnectionMultiplexer> _connections = [];

    private KvNode(TestNode node) => Node = node;

    public TestNode Node { get; }

    /// <summary>The key prefix of the caches this node's tests create.</summary>
    public string Prefix { get; } = "t" + Guid.NewGuid().ToString("N")[..12];

    public static async Task<KvNode> StartAsync() =>
        new(await TestNode.StartAsync(
            settings: new Dictionary<string, string?> { ["Node:Modules"] = "kv", ["Kv:Persistence"] = "false" },
            cancellationToken: TestContext.Current.CancellationToken));

    /// <summary>A new multiplexer of the test's own, closed when the node stops.</summary>
    public async Task<ConnectionMultiplexer> ConnectAsync()
    {
        var connection = await ConnectionMultiplexer.ConnectAsync(new ConfigurationOptions
        {
            EndPoints = { Node.RespEndpoint },
            ConnectTimeout = 5_000,
            SyncTimeout = 5_000,
            AsyncTimeout = 5_000,
        });
        _connections.Add(connection);
        return connection;
    }

    /// <summary>A cache over a multiplexer of its own, with time from <paramref name="time"/>; disposed when the node stops.</summary>
    public async Task<BlueprintCache> CacheAsync(FakeTimeProvider time, Action<BlueprintCacheOptions>? configure = null)
    {
        var connection = await ConnectAsync();
        var options = new BlueprintCacheOptions { Prefix = Prefix };
        configure?.Invoke(options);
        var cache = new BlueprintCache(_ => ValueTask.FromResult<IConnectionMultiplexer>(connection), options, time);
        _caches.Add(cache);
        if (options.NearCacheEnabled)
        {
            await cache.WhenNearActiveAsync(TestContext.Current.CancellationToken);
        }

        return cache;
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var cache in _caches)
        {
            await cache.DisposeAsync();
        }

        foreach (var connection in _connections)
        {
            await connection.CloseAsync();
            connection.Dispose();
        }

        await Node.DisposeAsync();
    }
}
