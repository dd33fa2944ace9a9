using Microsoft.Extensions.Caching.Hybrid;
using Microsoft.Extensions.DependencyInjection;
using StackExchange.Redis;

namespace Blueprint.Cache.Tests;

public sealed class BlueprintCacheServiceCollectionExtensionsTests
{
    [Fact]
    public async Task AddBlueprintCache_ResolvesOneCacheAsHybridCache_OverTheGivenMultiplexer()
    {
        var token = TestContext.Current.CancellationToken;
        await using var node = await KvNode.StartAsync();
        var connection = await node.ConnectAsync();
        var services = new ServiceCollection()
            .AddBlueprintCache((_, _) => ValueTask.FromResult<IConnectionMultiplexer>(connection), options => options.Prefix = node.Prefix);
        await using var provider = services.BuildServiceProvider();

        var hybrid = provider.GetRequiredService<HybridCache>();
        await hybrid.SetAsync("k", "v", cancellationToken: token);

        Assert.Same(provider.GetRequiredService<BlueprintCache>(), hybrid);
        Assert.True(await connection.GetDatabase().KeyExistsAsync($"{node.Prefix}:e:k"));
        Assert.Equal("v", await hybrid.GetOrCreateAsync("k", _ => ValueTask.FromResult("factory"), cancellationToken: token));
    }

    [Fact]
    public void Validate_SeveralBadOptions_NamesEveryOne()
    {
        var options = new BlueprintCacheOptions { NearEntriesMax = 0, PartitionCount = 0, Prefix = "bad prefix" };

        var error = Assert.Throws<ArgumentException>(options.Validate);

        Assert.Contains(nameof(BlueprintCacheOptions.NearEntriesMax), error.Message, StringComparison.Ordinal);
        Assert.Contains(nameof(BlueprintCacheOptions.PartitionCount), error.Message, StringComparison.Ordinal);
        Assert.Contains(nameof(BlueprintCacheOptions.Prefix), error.Message, StringComparison.Ordinal);
    }
}
