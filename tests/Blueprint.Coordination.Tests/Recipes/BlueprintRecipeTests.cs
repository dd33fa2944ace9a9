using System.Globalization;
using Blueprint.Coordination.Tests.Support;
using Grpc.Core;
using Grpc.Net.Client;

namespace Blueprint.Coordination.Tests.Recipes;

/// <summary>The same recipe tests against a Blueprint node running only the coordination module (a one-member cluster).</summary>
public sealed class BlueprintRecipeTests : RecipeTests
{
    protected override async Task<(CallInvoker Etcd, IAsyncDisposable Owner)> StartEtcdAsync()
    {
        var port = FreePorts.Next();
        var node = await TestNode.StartAsync(null, new Dictionary<string, string?>
        {
            ["Node:Modules"] = "coordination",
            ["Coordination:EtcdPort"] = port.ToString(CultureInfo.InvariantCulture),
            ["Coordination:TickMs"] = "20",
            ["Coordination:LeaseMinTtlSeconds"] = "1",
        }, null);
        var channel = GrpcChannel.ForAddress($"http://127.0.0.1:{port.ToString(CultureInfo.InvariantCulture)}");
        await ClusterProbe.WaitForLeaderAsync([channel], TimeSpan.FromSeconds(30), () => "the one-member cluster elected no leader");
        return (channel.CreateCallInvoker(), new Owner(node, channel));
    }

    private sealed class Owner(TestNode node, GrpcChannel channel) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync()
        {
            channel.Dispose();
            await node.DisposeAsync();
        }
    }
}
