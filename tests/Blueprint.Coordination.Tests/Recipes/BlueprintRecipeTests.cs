using System.Globalization;
using Blueprint.Coordination.Tests.Support;
using Grpc.Core;
using Grpc.Net.Client;

namespace Blueprint.Coordination.Tests.Recipes;

/// <summary>The same recipe tests against a Blueprint node running only the coordination module (a one-member cluster).</summary>
public sealed class BlueprintRecipeTests : RecipeTests
{
    private TestNode? _node;

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
        _node = node;
        var channel = GrpcChannel.ForAddress($"http://127.0.0.1:{port.ToString(CultureInfo.InvariantCulture)}");
        await ClusterProbe.WaitForLeaderAsync([channel], TimeSpan.FromSeconds(30), () => "the one-member cluster elected no leader");
        return (channel.CreateCallInvoker(), new Owner(node, channel));
    }

    [Fact]
    public async Task NodeStops_AWaitingLockAndAWatch_AreToldTheServerStopped()
    {
        var name = UniqueName("svc-stop");
        var locks = new Etcd.Lock.Lock.LockClient(await EtcdAsync());
        var first = await SessionAsync();
        var second = await SessionAsync();
        await locks.LockAsync(new Etcd.Lock.LockRequest { Name = Google.Protobuf.ByteString.CopyFromUtf8(name), Lease = first.LeaseId }, deadline: DateTime.UtcNow + Deadline, cancellationToken: Ct);
        using var waiting = locks.LockAsync(new Etcd.Lock.LockRequest { Name = Google.Protobuf.ByteString.CopyFromUtf8(name), Lease = second.LeaseId }, deadline: DateTime.UtcNow + Deadline, cancellationToken: Ct);
        await WaitForQueueLengthAsync(name, 2);
        using var watch = new Etcd.Rpc.Watch.WatchClient(await EtcdAsync()).Watch(cancellationToken: Ct);
        await watch.RequestStream.WriteAsync(new Etcd.Rpc.WatchRequest { CreateRequest = new Etcd.Rpc.WatchCreateRequest { Key = Google.Protobuf.ByteString.CopyFromUtf8(name) } }, Ct);
        Assert.True(await watch.ResponseStream.MoveNext(Ct) && watch.ResponseStream.Current.Created, "the watch was not created");

        using var stopping = new CancellationTokenSource(Deadline);
        var stop = _node!.Node.StopAsync(stopping.Token);
        var refused = await Assert.ThrowsAsync<RpcException>(() => waiting.ResponseAsync.WaitAsync(Deadline, Ct));
        Assert.Equal(StatusCode.Unavailable, refused.StatusCode);
        Assert.Equal("etcdserver: server stopped", refused.Status.Detail);
        var ended = await Assert.ThrowsAsync<RpcException>(() => watch.ResponseStream.MoveNext(Ct).WaitAsync(Deadline, Ct));
        Assert.Equal(StatusCode.Unavailable, ended.StatusCode);
        Assert.Equal("etcdserver: server stopped", ended.Status.Detail);
        await stop;
    }

    [Fact]
    public async Task LockAndElectionServices_NamesNotUtf8OrEmpty_AreRefusedNotAltered()
    {
        var etcd = await EtcdAsync();
        var notUtf8 = Google.Protobuf.ByteString.CopyFrom(0x6c, 0xff, 0xfe);
        var locking = await Assert.ThrowsAsync<RpcException>(() => new Etcd.Lock.Lock.LockClient(etcd).LockAsync(
            new Etcd.Lock.LockRequest { Name = notUtf8 }, deadline: DateTime.UtcNow + Deadline, cancellationToken: Ct).ResponseAsync);
        Assert.Equal(StatusCode.InvalidArgument, locking.StatusCode);
        Assert.Equal("blueprint: the lock name is not UTF-8 text", locking.Status.Detail);
        var campaigning = await Assert.ThrowsAsync<RpcException>(() => new Etcd.Election.Election.ElectionClient(etcd).CampaignAsync(
            new Etcd.Election.CampaignRequest { Name = Google.Protobuf.ByteString.CopyFromUtf8("e"), Value = notUtf8 }, deadline: DateTime.UtcNow + Deadline, cancellationToken: Ct).ResponseAsync);
        Assert.Equal("blueprint: the campaign value is not UTF-8 text", campaigning.Status.Detail);
        var unnamed = await Assert.ThrowsAsync<RpcException>(() => new Etcd.Election.Election.ElectionClient(etcd).LeaderAsync(
            new Etcd.Election.LeaderRequest(), deadline: DateTime.UtcNow + Deadline, cancellationToken: Ct).ResponseAsync);
        Assert.Equal(StatusCode.InvalidArgument, unnamed.StatusCode);
        Assert.Equal("blueprint: the election name is empty", unnamed.Status.Detail);
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
