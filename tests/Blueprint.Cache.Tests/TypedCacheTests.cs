using Microsoft.Extensions.Caching.Hybrid;
using Microsoft.Extensions.Time.Testing;

namespace Blueprint.Cache.Tests;

public sealed class TypedCacheTests : IAsyncLifetime
{
    private readonly FakeTimeProvider _time = new();
    private KvNode _node = null!;

    public async ValueTask InitializeAsync() => _node = await KvNode.StartAsync();

    public ValueTask DisposeAsync() => _node.DisposeAsync();

    [Fact]
    public async Task GetOrCreate_AfterSetByAnotherInstance_ReturnsTheValueFromTheEngine()
    {
        var token = TestContext.Current.CancellationToken;
        var writer = await _node.CacheAsync(_time);
        var reader = await _node.CacheAsync(_time);

        await writer.SetAsync("user:1", new User(1, "Ada", ["admin"]), cancellationToken: token);
        var read = await reader.GetOrCreateAsync("user:1", _ => ValueTask.FromResult(new User(0, "factory", [])), cancellationToken: token);

        Assert.Equal(1, read.Id);
        Assert.Equal("Ada", read.Name);
        Assert.Equal(["admin"], read.Roles);
        var stored = await (await _node.ConnectAsync()).GetDatabase().KeyExistsAsync($"{_node.Prefix}:e:user:1");
        Assert.True(stored, "the entry is in the RESP engine under the cache's prefix");
    }

    [Fact]
    public async Task GetOrCreate_MissThenHit_CallsFactoryOnceAndServesTheNearCopy()
    {
        var token = TestContext.Current.CancellationToken;
        var cache = await _node.CacheAsync(_time);
        var calls = 0;

        var first = await cache.GetOrCreateAsync("k", _ => ValueTask.FromResult(Interlocked.Increment(ref calls)), cancellationToken: token);
        var second = await cache.GetOrCreateAsync("k", _ => ValueTask.FromResult(Interlocked.Increment(ref calls)), cancellationToken: token);

        Assert.Equal(1, first);
        Assert.Equal(1, second);
        Assert.Equal(1, calls);
        Assert.Equal(1, cache.Statistics.Hits);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task GetOrCreate_ConcurrentMissesOfOneKey_RunTheFactoryOnce(bool nearCacheEnabled)
    {
        const int Callers = 32;
        var token = TestContext.Current.CancellationToken;
        var cache = await _node.CacheAsync(_time, options => options.NearCacheEnabled = nearCacheEnabled);
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var calls = 0;

        // Every caller is issued while the first factory call is held at the gate, so all of them miss together.
        var reads = Enumerable.Range(0, Callers).Select(_ => cache.GetOrCreateAsync(
            "hot",
            async _ =>
            {
                var call = Interlocked.Increment(ref calls);
                await gate.Task;
                return $"value-{call}";
            },
            cancellationToken: token).AsTask()).ToArray();
        gate.SetResult();
        var values = await Task.WhenAll(reads);

        Assert.Equal(1, calls);
        Assert.All(values, value => Assert.Equal("value-1", value));
    }

    [Fact]
    public async Task RemoveByTag_DropsTheTaggedEntriesOnly()
    {
        var token = TestContext.Current.CancellationToken;
        var cache = await _node.CacheAsync(_time);
        await cache.SetAsync("a", "a-old", tags: ["orders"], cancellationToken: token);
        await cache.SetAsync("b", "b-old", tags: ["orders", "eu"], cancellationToken: token);
        await cache.SetAsync("c", "c-old", tags: ["users"], cancellationToken: token);

        await cache.RemoveByTagAsync("orders", token);

        Assert.Equal("a-new", await cache.GetOrCreateAsync("a", _ => ValueTask.FromResult("a-new"), cancellationToken: token));
        Assert.Equal("b-new", await cache.GetOrCreateAsync("b", _ => ValueTask.FromResult("b-new"), cancellationToken: token));
        Assert.Equal("c-old", await cache.GetOrCreateAsync("c", _ => ValueTask.FromResult("c-new"), cancellationToken: token));
    }

    [Fact]
    public async Task RemoveByTag_ByAnotherInstance_RetiresTheEntryThatInstanceHadRead()
    {
        var token = TestContext.Current.CancellationToken;
        var a = await _node.CacheAsync(_time);
        var b = await _node.CacheAsync(_time);
        string[] tags = ["catalog"];
        await a.SetAsync("item", "old", tags: tags, cancellationToken: token);
        Assert.Equal("old", await b.GetOrCreateAsync("item", _ => ValueTask.FromResult("unused"), tags: tags, cancellationToken: token));

        await a.RemoveByTagAsync("catalog", token);

        // B must drop its near copy and also stop trusting the distributed entry the tag retired.
        var read = await Eventually.ValueAsync(
            () => b.GetOrCreateAsync("item", _ => ValueTask.FromResult("rebuilt"), tags: tags, cancellationToken: token).AsTask(),
            value => value == "rebuilt",
            TimeSpan.FromSeconds(10),
            value => $"B still reads '{value}' after the tag removal; {b.Statistics}",
            token);
        Assert.Equal("rebuilt", read);
        Assert.True(b.HybridCacheRenewals >= 1);
    }

    [Fact]
    public async Task Set_WithDisabledDistributedWrite_StaysOutOfTheEngine()
    {
        var token = TestContext.Current.CancellationToken;
        var cache = await _node.CacheAsync(_time);
        var local = new HybridCacheEntryOptions { Flags = HybridCacheEntryFlags.DisableDistributedCacheWrite };

        await cache.SetAsync("local-only", "x", local, cancellationToken: token);

        var stored = await (await _node.ConnectAsync()).GetDatabase().KeyExistsAsync($"{_node.Prefix}:e:local-only");
        Assert.False(stored);
    }

    public sealed record User(int Id, string Name, IReadOnlyList<string> Roles);
}
