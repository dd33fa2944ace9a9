using System.Net.Sockets;
using Microsoft.Extensions.DependencyInjection;

namespace Blueprint.Kv.Tests;

public sealed class ExternalKvTests
{
    [Fact]
    public async Task ConnectionStringSet_ModulesTalkToExternalRedisAndEmbeddedServerDoesNotStart()
    {
        await using var peer = await RedisServerPeer.StartAsync();
        await using var node = await TestNode.StartAsync(settings: new Dictionary<string, string?>
        {
            ["Node:Modules"] = "kv",
            ["Kv:ConnectionString"] = peer.Endpoint,
        }, cancellationToken: TestContext.Current.CancellationToken);

        var connection = node.Node.Services.GetRequiredService<IKvConnection>();
        Assert.False(connection.IsEmbedded);
        Assert.Equal(peer.Endpoint, connection.Endpoint);

        var through = (await connection.GetAsync(TestContext.Current.CancellationToken)).GetDatabase();
        await through.StringSetAsync("external:key", "written-through-node");

        using var direct = await StackExchange.Redis.ConnectionMultiplexer.ConnectAsync(peer.Endpoint);
        Assert.Equal("written-through-node", (string?)await direct.GetDatabase().StringGetAsync("external:key"));

        // Nothing listens on the embedded RESP port.
        using var probe = new TcpClient();
        await Assert.ThrowsAsync<SocketException>(async () => await probe.ConnectAsync("127.0.0.1", node.RespPort, TestContext.Current.CancellationToken));
    }
}
