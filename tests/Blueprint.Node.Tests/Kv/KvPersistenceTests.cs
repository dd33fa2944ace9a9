namespace Blueprint.Node.Tests.Kv;

public sealed class KvPersistenceTests
{
    [Fact]
    public async Task SetThenRestart_ValueSurvives()
    {
        using var data = new TempDirectory();
        await using (var first = await TestNode.StartAsync(data.Path, cancellationToken: TestContext.Current.CancellationToken))
        {
            var db = (await first.RedisAsync()).GetDatabase();
            Assert.True(await db.StringSetAsync("durable:key", "survives"));
            await db.HashSetAsync("durable:hash", "field", "42");
        }

        await using var second = await TestNode.StartAsync(data.Path, cancellationToken: TestContext.Current.CancellationToken);
        var again = (await second.RedisAsync()).GetDatabase();
        Assert.Equal("survives", (string?)await again.StringGetAsync("durable:key"));
        Assert.Equal("42", (string?)await again.HashGetAsync("durable:hash", "field"));
    }

    [Fact]
    public async Task PersistenceOff_RestartStartsEmpty()
    {
        using var data = new TempDirectory();
        var volatileKv = new Dictionary<string, string?> { ["Kv:Persistence"] = "false", ["Node:Modules"] = "kv" };
        await using (var first = await TestNode.StartAsync(data.Path, volatileKv, TestContext.Current.CancellationToken))
        {
            Assert.True(await (await first.RedisAsync()).GetDatabase().StringSetAsync("volatile:key", "gone"));
        }

        await using var second = await TestNode.StartAsync(data.Path, volatileKv, TestContext.Current.CancellationToken);
        Assert.False((await (await second.RedisAsync()).GetDatabase().StringGetAsync("volatile:key")).HasValue);
    }
}
