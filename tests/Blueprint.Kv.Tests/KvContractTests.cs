using StackExchange.Redis;

namespace Blueprint.Kv.Tests;

/// <summary>
/// What every module relies on from the key-value engine, run against the embedded server and
/// against a real redis-server: a difference between the two is a compatibility bug.
/// </summary>
public abstract class KvContractTests : IAsyncLifetime
{
    private ConnectionMultiplexer _redis = null!;

    protected abstract Task<string> StartEngineAsync();

    protected abstract ValueTask StopEngineAsync();

    public async ValueTask InitializeAsync()
    {
        var endpoint = await StartEngineAsync();
        _redis = await ConnectionMultiplexer.ConnectAsync(new ConfigurationOptions
        {
            EndPoints = { endpoint },
            ConnectTimeout = 5_000,
            SyncTimeout = 5_000,
            AsyncTimeout = 5_000,
        });
    }

    public async ValueTask DisposeAsync()
    {
        await _redis.CloseAsync();
        _redis.Dispose();
        await StopEngineAsync();
    }

    [Fact]
    public async Task Ping_Answers()
    {
        var reply = await _redis.GetDatabase().ExecuteAsync("PING");
        Assert.Equal("PONG", reply.ToString());
    }

    [Fact]
    public async Task SetThenGet_ReturnsValue()
    {
        var db = _redis.GetDatabase();
        Assert.True(await db.StringSetAsync("contract:greeting", "hello"));
        Assert.Equal("hello", (string?)await db.StringGetAsync("contract:greeting"));
        Assert.False((await db.StringGetAsync("contract:absent")).HasValue);
    }

    [Fact]
    public async Task SetNxWithExpiry_SecondWriterLoses()
    {
        var db = _redis.GetDatabase();
        Assert.True(await db.StringSetAsync("contract:lock", "a", TimeSpan.FromSeconds(30), When.NotExists));
        Assert.False(await db.StringSetAsync("contract:lock", "b", TimeSpan.FromSeconds(30), When.NotExists));
        Assert.Equal("a", (string?)await db.StringGetAsync("contract:lock"));
        var ttl = await db.KeyTimeToLiveAsync("contract:lock");
        Assert.NotNull(ttl);
        Assert.InRange(ttl.Value, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(30));
    }

    [Fact]
    public async Task Incr_CountsAtomically()
    {
        var db = _redis.GetDatabase();
        var increments = Enumerable.Range(0, 100).Select(_ => db.StringIncrementAsync("contract:counter"));
        await Task.WhenAll(increments);
        Assert.Equal(100, (long)await db.StringGetAsync("contract:counter"));
    }

    [Fact]
    public async Task Eval_RunsLuaAtomicallyWithKeysAndArgs()
    {
        var db = _redis.GetDatabase();
        const string script = """
            local current = redis.call('INCRBY', KEYS[1], ARGV[1])
            redis.call('EXPIRE', KEYS[1], 60)
            return current
            """;
        var first = await db.ScriptEvaluateAsync(script, ["contract:lua"], [5]);
        var second = await db.ScriptEvaluateAsync(script, ["contract:lua"], [7]);
        Assert.Equal(5, (long)first);
        Assert.Equal(12, (long)second);
    }

    [Fact]
    public async Task PublishSubscribe_DeliversToSubscriber()
    {
        var subscriber = _redis.GetSubscriber();
        var channel = RedisChannel.Literal("contract:news");
        var queue = await subscriber.SubscribeAsync(channel);
        var receivers = await subscriber.PublishAsync(channel, "extra");
        Assert.Equal(1, receivers);
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        var message = await queue.ReadAsync(deadline.Token);
        Assert.Equal("extra", message.Message.ToString());
    }
}

public sealed class EmbeddedKvContractTests : KvContractTests
{
    private TestNode? _node;

    protected override async Task<string> StartEngineAsync()
    {
        _node = await TestNode.StartAsync(settings: new Dictionary<string, string?> { ["Node:Modules"] = "kv" });
        return _node.RespEndpoint;
    }

    protected override ValueTask StopEngineAsync() => _node?.DisposeAsync() ?? ValueTask.CompletedTask;
}

public sealed class RedisServerKvContractTests : KvContractTests
{
    private RedisServerPeer? _peer;

    protected override async Task<string> StartEngineAsync()
    {
        _peer = await RedisServerPeer.StartAsync();
        return _peer.Endpoint;
    }

    protected override ValueTask StopEngineAsync() => _peer?.DisposeAsync() ?? ValueTask.CompletedTask;
}
