using dotnet_etcd;
using Etcdserverpb;
using Google.Protobuf;
using Grpc.Core;

namespace Blueprint.Coordination.Tests.Etcdctl;

/// <summary>A one-member cluster with two foreign clients: Debian's etcdctl and the dotnet-etcd library from NuGet.</summary>
[Collection(Support.ProcessClusters.Name)]
public sealed class OneMemberTests(OneMemberCluster fixture) : IClassFixture<OneMemberCluster>
{
    private string Endpoint => fixture.Cluster.Endpoints;

    private EtcdClient Client() => new($"http://{Endpoint}");

    [Fact]
    public async Task Etcdctl_put_get_member_list_and_endpoint_status_on_one_member()
    {
        Assert.Equal("OK", (await Etcdctl.OkAsync(Endpoint, "put", "one/k", "v")).Trim());
        Assert.Equal("one/k\nv", (await Etcdctl.OkAsync(Endpoint, "get", "one/", "--prefix")).Trim());
        var member = Assert.Single((await Etcdctl.OkAsync(Endpoint, "member", "list")).Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("1, started, n1, ", member, StringComparison.Ordinal);
        var status = await Etcdctl.OkAsync(Endpoint, "endpoint", "status");
        Assert.Contains($"{Endpoint}, 1, 3.4.0, ", status, StringComparison.Ordinal);
        Assert.Contains(", true, false, ", status, StringComparison.Ordinal); // the only member leads
    }

    [Fact]
    public async Task Dotnet_etcd_puts_gets_ranges_and_deletes()
    {
        using var client = Client();
        var ct = TestContext.Current.CancellationToken;
        await client.PutAsync("dnr/a", "1", cancellationToken: ct);
        await client.PutAsync("dnr/b", "2", cancellationToken: ct);
        Assert.Equal("1", await client.GetValAsync("dnr/a", cancellationToken: ct));
        var range = await client.GetRangeValAsync("dnr/", cancellationToken: ct);
        Assert.Equal(new Dictionary<string, string> { ["dnr/a"] = "1", ["dnr/b"] = "2" }, range);
        var deleted = await client.DeleteRangeAsync("dnr/", cancellationToken: ct);
        Assert.Equal(2, deleted.Deleted);
        Assert.Equal("", await client.GetValAsync("dnr/a", cancellationToken: ct));
    }

    [Fact]
    public async Task Dotnet_etcd_transaction_compares_the_version()
    {
        using var client = Client();
        var ct = TestContext.Current.CancellationToken;
        var txn = new TxnRequest();
        txn.Compare.Add(new Compare { Key = ByteString.CopyFromUtf8("dn/txn"), Target = Compare.Types.CompareTarget.Version, Result = Compare.Types.CompareResult.Equal, Version = 0 });
        txn.Success.Add(new RequestOp { RequestPut = new PutRequest { Key = ByteString.CopyFromUtf8("dn/txn"), Value = ByteString.CopyFromUtf8("created") } });
        Assert.True((await client.TransactionAsync(txn, cancellationToken: ct)).Succeeded);
        Assert.False((await client.TransactionAsync(txn, cancellationToken: ct)).Succeeded); // the key exists now
        Assert.Equal("created", await client.GetValAsync("dn/txn", cancellationToken: ct));
    }

    [Fact]
    public async Task Dotnet_etcd_lease_grant_attach_and_revoke()
    {
        using var client = Client();
        var ct = TestContext.Current.CancellationToken;
        var lease = await client.LeaseGrantAsync(new LeaseGrantRequest { TTL = 30 }, cancellationToken: ct);
        Assert.Equal(30, lease.TTL);
        await client.PutAsync(new PutRequest { Key = ByteString.CopyFromUtf8("dn/leased"), Value = ByteString.CopyFromUtf8("v"), Lease = lease.ID }, cancellationToken: ct);
        var ttl = await client.LeaseTimeToLiveAsync(new LeaseTimeToLiveRequest { ID = lease.ID, Keys = true }, cancellationToken: ct);
        Assert.Equal("dn/leased", Assert.Single(ttl.Keys).ToStringUtf8());
        await client.LeaseRevokeAsync(new LeaseRevokeRequest { ID = lease.ID }, cancellationToken: ct);
        Assert.Equal("", await client.GetValAsync("dn/leased", cancellationToken: ct));
    }

    [Fact]
    public async Task Dotnet_etcd_watch_sees_a_put()
    {
        using var client = Client();
        var ct = TestContext.Current.CancellationToken;
        var seen = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        var revision = (await client.PutAsync("dn/watch", "before", cancellationToken: ct)).Header.Revision;
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var watching = client.WatchAsync(
            new WatchRequest { CreateRequest = new WatchCreateRequest { Key = ByteString.CopyFromUtf8("dn/watch"), StartRevision = revision + 1 } },
            (WatchResponse response) =>
            {
                foreach (var e in response.Events)
                {
                    seen.TrySetResult(e.Kv.Value.ToStringUtf8());
                }
            },
            cancellationToken: stop.Token);
        await client.PutAsync("dn/watch", "after", cancellationToken: ct);
        Assert.Equal("after", await seen.Task.WaitAsync(TimeSpan.FromSeconds(30), ct));
        await stop.CancelAsync();
        try
        {
            await watching;
        }
        catch (Exception e) when (e is OperationCanceledException or RpcException)
        {
        }
    }
}
