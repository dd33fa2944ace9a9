using System.Diagnostics.Metrics;
using Microsoft.Extensions.DependencyInjection;

namespace Blueprint.Kv.Tests;

public sealed class KvMetricsTests
{
    private static long Commands(TestNode node) =>
        (long)Instruments.Observe(node.Node.Services.GetRequiredService<IMeterFactory>(), EmbeddedKvServer.CommandsMetric)
            .Single(r => r.Tags["server"] == "primary").Value;

    [Fact]
    public async Task The_commands_counter_follows_what_the_embedded_server_processed()
    {
        var cancellationToken = TestContext.Current.CancellationToken;
        await using var node = await TestNode.StartAsync(cancellationToken: cancellationToken);
        var redis = await node.RedisAsync();
        var db = redis.GetDatabase();
        await db.PingAsync();
        // Garnet sums its sessions' counts each second, so this may lag the connection's own handshake by a few commands.
        var before = Commands(node);

        await Task.WhenAll(Enumerable.Range(0, 500).Select(i => db.StringSetAsync($"metrics:{i}", "v")));

        var after = await Eventually.ValueAsync(
            () => Task.FromResult(Commands(node)),
            count => count - before >= 500,
            TimeSpan.FromSeconds(30),
            count => $"{count - before} commands counted after 500 SETs",
            cancellationToken);
        // The node's own traffic in those seconds (health checks) is a few commands, not hundreds.
        Assert.InRange(after - before, 500, 560);
    }
}
