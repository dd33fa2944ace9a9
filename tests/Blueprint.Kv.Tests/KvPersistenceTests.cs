using Blueprint.Hosting;
using Microsoft.Extensions.DependencyInjection;

namespace Blueprint.Kv.Tests;

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

    [Fact]
    public async Task CheckpointInterval_Elapsed_TakesACheckpointWithoutAStop()
    {
        using var data = new TempDirectory();
        var clock = new Microsoft.Extensions.Time.Testing.FakeTimeProvider(DateTimeOffset.UtcNow);
        var settings = new Dictionary<string, string?> { ["Node:Modules"] = "kv", ["Kv:CheckpointIntervalSeconds"] = "60" };
        await using var node = await TestNode.StartAsync(data.Path, settings, services => services.AddSingleton<TimeProvider>(clock), TestContext.Current.CancellationToken);
        Assert.True(await (await node.RedisAsync()).GetDatabase().StringSetAsync("periodic:key", "v"));
        var kv = Path.Combine(data.Path, "kv");
        int Checkpoints() => Directory.EnumerateFiles(kv, "*", SearchOption.AllDirectories).Count(path => path.Contains("checkpoint", StringComparison.OrdinalIgnoreCase));
        var before = Checkpoints();

        clock.Advance(TimeSpan.FromSeconds(60));

        await Eventually.TrueAsync(
            () => Checkpoints() > before,
            TimeSpan.FromSeconds(20),
            () => $"no checkpoint files appeared under {kv}: {Checkpoints()}, {before} before",
            TestContext.Current.CancellationToken);
    }

    [Fact]
    public async Task CheckpointInterval_BelowTenSeconds_IsRejected()
    {
        using var data = new TempDirectory();
        await using var node = BlueprintNode.Create(TestNode.RequireCatalog(), new Dictionary<string, string?>
        {
            ["Node:DataDir"] = data.Path,
            ["Node:HttpPort"] = "0",
            ["Node:Modules"] = "kv",
            ["Kv:CheckpointIntervalSeconds"] = "5",
        });
        var error = await Assert.ThrowsAnyAsync<Exception>(() => node.StartAsync(TestContext.Current.CancellationToken));
        Assert.Contains("Kv:CheckpointIntervalSeconds = '5': must be 0 (only at stop) or from 10 to 86400 seconds", Assert.Single(StartupFailure.Describe(error)!), StringComparison.Ordinal);
    }
}
