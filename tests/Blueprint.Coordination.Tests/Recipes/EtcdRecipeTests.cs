using Grpc.Core;

namespace Blueprint.Coordination.Tests.Recipes;

/// <summary>The recipes against a real etcd process: the reference behaviour a Blueprint cluster must match.</summary>
public sealed class EtcdRecipeTests : RecipeTests
{
    protected override async Task<(CallInvoker Etcd, IAsyncDisposable Owner)> StartEtcdAsync()
    {
        var etcd = await EtcdPeer.StartAsync();
        return (etcd.Channel.CreateCallInvoker(), etcd);
    }
}
