using Microsoft.Extensions.Caching.Hybrid;
using Microsoft.Extensions.DependencyInjection;

namespace Blueprint.Cache.Tests;

/// <summary>The cache module gives every module of the node a HybridCache over the node's kv engine.</summary>
public sealed class NodeTypedCacheTests
{
    [Fact]
    public async Task TheNodesHybridCache_StoresInTheKvEngine_AndServesHitsWithoutTheFactory()
    {
        var token = TestContext.Current.CancellationToken;
        await using var node = await TestNode.StartAsync(settings: new Dictionary<string, string?> { ["Cache:Typed:Prefix"] = "node-typed" }, cancellationToken: token);
        var cache = node.Node.Services.GetRequiredService<HybridCache>();
        await Assert.IsType<BlueprintCache>(cache).WhenNearActiveAsync(token);
        var calls = 0;
        for (var i = 0; i < 3; i++)
        {
            var value = await cache.GetOrCreateAsync("greeting", _ => { calls++; return ValueTask.FromResult("hello"); }, cancellationToken: token);
            Assert.Equal("hello", value);
        }

        Assert.Equal(1, calls);
        await using var redis = await node.RedisAsync();
        var database = redis.GetDatabase();

        // HybridCache writes the distributed level after it hands the value to its callers, so the entry appears soon after.
        await Eventually.TrueAsync(
            () => database.KeyExistsAsync("node-typed:e:greeting"),
            TimeSpan.FromSeconds(10),
            () => "the entry node-typed:e:greeting in the kv engine",
            token);
    }
}
