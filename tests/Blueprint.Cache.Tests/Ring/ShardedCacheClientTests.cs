using Blueprint.Cache.Ring;

namespace Blueprint.Cache.Tests.Ring;

/// <summary>Three independent nodes, each a real embedded Garnet that knows nothing of the others.</summary>
public sealed class ShardedCacheClientTests : IAsyncLifetime
{
    private const int KeyCount = 600;
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(5);
    private readonly List<KvNode> _nodes = [];
    private readonly List<CacheShard> _shards = [];

    public async ValueTask InitializeAsync()
    {
        foreach (var name in new[] { "cache-a", "cache-b", "cache-c" })
        {
            var node = await KvNode.StartAsync();
            _nodes.Add(node);
            _shards.Add(new CacheShard(name, await node.ConnectAsync()));
        }
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var node in _nodes)
        {
            await node.DisposeAsync();
        }
    }

    [Fact]
    public async Task Set_StoresEachKeyOnItsOwnerOnly_AndSpreadsKeysOverTheNodes()
    {
        var client = new ShardedCacheClient(_shards, Timeout);
        var keys = Keys();

        foreach (var key in keys)
        {
            Assert.True(await client.SetAsync(key, "v:" + key));
        }

        foreach (var key in keys)
        {
            var owner = client.OwnerOf(key);
            foreach (var shard in _shards)
            {
                var stored = await shard.Connection.GetDatabase().StringGetAsync(key);
                Assert.Equal(shard == owner ? "v:" + key : null, (string?)stored);
            }

            Assert.Equal("v:" + key, (string?)await client.GetAsync(key));
        }

        var perNode = keys.GroupBy(key => client.OwnerOf(key).Name).ToDictionary(group => group.Key, group => group.Count());
        Assert.Equal(3, perNode.Count);
        Assert.All(perNode.Values, count => Assert.InRange(count, KeyCount / 6, KeyCount / 2));
    }

    [Fact]
    public async Task RemoveShard_MovesOnlyItsKeys()
    {
        var client = new ShardedCacheClient(_shards, Timeout);
        var keys = Keys();
        foreach (var key in keys)
        {
            await client.SetAsync(key, "v:" + key);
        }

        var removed = _shards[1];
        var ownersBefore = keys.ToDictionary(key => key, key => client.OwnerOf(key));

        Assert.True(client.RemoveShard(removed));

        var moved = keys.Where(key => client.OwnerOf(key) != ownersBefore[key]).ToHashSet();
        var wereOnRemoved = keys.Where(key => ownersBefore[key] == removed).ToHashSet();
        Assert.Equal(wereOnRemoved, moved);
        Assert.InRange(moved.Count, KeyCount / 6, KeyCount / 2);

        // Keys that stayed are still served; those that moved are misses on their new node, as in memcached.
        foreach (var key in keys)
        {
            Assert.Equal(moved.Contains(key) ? null : "v:" + key, (string?)await client.GetAsync(key));
        }

        Assert.False(client.RemoveShard(removed));
    }

    [Fact]
    public async Task AddShard_TakesKeysOnlyFromTheOthersToItself()
    {
        var client = new ShardedCacheClient(_shards.Take(2), Timeout);
        var keys = Keys();
        var ownersBefore = keys.ToDictionary(key => key, key => client.OwnerOf(key));

        client.AddShard(_shards[2]);

        var moved = keys.Where(key => client.OwnerOf(key) != ownersBefore[key]).ToList();
        Assert.All(moved, key => Assert.Equal(_shards[2], client.OwnerOf(key)));
        Assert.InRange(moved.Count, KeyCount / 6, KeyCount / 2);
        Assert.True(await client.SetAsync(moved[0], "x"));
        Assert.Equal("x", (string?)await _shards[2].Connection.GetDatabase().StringGetAsync(moved[0]));
    }

    private static List<string> Keys() => [.. Enumerable.Range(0, KeyCount).Select(i => $"user:{i}")];
}
