using Blueprint.Coordination.Etcd.Election;
using Blueprint.Coordination.Etcd.Lock;
using Blueprint.Coordination.Etcd.Rpc;
using Google.Protobuf;
using Grpc.Core;
using ElectionClient = Blueprint.Coordination.Etcd.Election.Election.ElectionClient;
using LockClient = Blueprint.Coordination.Etcd.Lock.Lock.LockClient;

namespace Blueprint.Coordination.Tests.Recipes;

// etcd's server-side v3lock and v3election services, called as a client would (the same calls run against a real etcd).
public abstract partial class RecipeTests
{
    [Fact]
    public async Task LockService_SecondCallerWaitsUntilTheFirstUnlocks_AndGetsALaterKey()
    {
        var name = UniqueName("svc-lock");
        var locks = new LockClient(await EtcdAsync());
        var first = await SessionAsync();
        var second = await SessionAsync();

        var held = await locks.LockAsync(new LockRequest { Name = Bytes(name), Lease = first.LeaseId }, deadline: DeadlineFromNow(), cancellationToken: Ct);
        Assert.Equal($"{name}/{first.LeaseId:x}", held.Key.ToStringUtf8());
        long firstToken = await CreateRevisionAsync(held.Key);
        using var waiting = locks.LockAsync(new LockRequest { Name = Bytes(name), Lease = second.LeaseId }, deadline: DeadlineFromNow(), cancellationToken: Ct);
        await WaitForQueueLengthAsync(name, 2);
        Assert.False(waiting.ResponseAsync.IsCompleted, "the second caller got the lock while the first held it");

        var unlocked = await locks.UnlockAsync(new UnlockRequest { Key = held.Key }, deadline: DeadlineFromNow(), cancellationToken: Ct);
        var next = await waiting.ResponseAsync.WaitAsync(Deadline, Ct);
        Assert.Equal($"{name}/{second.LeaseId:x}", next.Key.ToStringUtf8());
        Assert.True(next.Header.Revision >= unlocked.Header.Revision, $"lock answered at {next.Header.Revision}, before the unlock at {unlocked.Header.Revision}");
        Assert.True(await CreateRevisionAsync(next.Key) > firstToken, "the second holder's fencing token is not above the first's");
    }

    [Fact]
    public async Task LockService_WaiterCancels_ItsKeyLeavesTheQueue()
    {
        var name = UniqueName("svc-cancel");
        var locks = new LockClient(await EtcdAsync());
        var first = await SessionAsync();
        var second = await SessionAsync();
        await locks.LockAsync(new LockRequest { Name = Bytes(name), Lease = first.LeaseId }, deadline: DeadlineFromNow(), cancellationToken: Ct);

        using var giveUp = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        using var waiting = locks.LockAsync(new LockRequest { Name = Bytes(name), Lease = second.LeaseId }, cancellationToken: giveUp.Token);
        await WaitForQueueLengthAsync(name, 2);
        await giveUp.CancelAsync();
        var cancelled = await Assert.ThrowsAsync<RpcException>(() => waiting.ResponseAsync.WaitAsync(Deadline, Ct));
        Assert.Equal(StatusCode.Cancelled, cancelled.StatusCode);

        // The server gives the abandoned place up: only the holder's key is left.
        await WaitForQueueLengthAsync(name, 1);
    }

    [Fact]
    public async Task LockService_UnknownLease_IsRefusedAsEtcdRefusesIt()
    {
        var locks = new LockClient(await EtcdAsync());
        var refused = await Assert.ThrowsAsync<RpcException>(() => locks.LockAsync(
            new LockRequest { Name = Bytes(UniqueName("svc-nolease")), Lease = 0x5eed1e55 }, deadline: DeadlineFromNow(), cancellationToken: Ct).ResponseAsync);
        Assert.Equal(StatusCode.Unknown, refused.StatusCode);
        Assert.Contains("requested lease not found", refused.Status.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ElectionService_CampaignObserveProclaimResign_FollowTheLeader()
    {
        var name = UniqueName("svc-elect");
        var elections = new ElectionClient(await EtcdAsync());
        var first = await SessionAsync();
        var second = await SessionAsync();
        var none = await Assert.ThrowsAsync<RpcException>(() => elections.LeaderAsync(new LeaderRequest { Name = Bytes(name) }, deadline: DeadlineFromNow(), cancellationToken: Ct).ResponseAsync);
        Assert.Contains("election: no leader", none.Status.Detail, StringComparison.Ordinal);

        var leading = (await elections.CampaignAsync(new CampaignRequest { Name = Bytes(name), Lease = first.LeaseId, Value = Bytes("a") }, deadline: DeadlineFromNow(), cancellationToken: Ct)).Leader;
        Assert.Equal(name, leading.Name.ToStringUtf8());
        Assert.Equal($"{name}/{first.LeaseId:x}", leading.Key.ToStringUtf8());
        Assert.Equal(first.LeaseId, leading.Lease);
        Assert.Equal(await CreateRevisionAsync(leading.Key), leading.Rev);

        using var observing = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        observing.CancelAfter(Deadline);
        using var observe = elections.Observe(new LeaderRequest { Name = Bytes(name) }, cancellationToken: observing.Token);
        Assert.Equal("a", (await NextLeaderAsync(observe, observing.Token)).Kv.Value.ToStringUtf8());

        using var waiting = elections.CampaignAsync(new CampaignRequest { Name = Bytes(name), Lease = second.LeaseId, Value = Bytes("b") }, deadline: DeadlineFromNow(), cancellationToken: Ct);
        await WaitForQueueLengthAsync(name, 2);

        await elections.ProclaimAsync(new ProclaimRequest { Leader = leading, Value = Bytes("a2") }, deadline: DeadlineFromNow(), cancellationToken: Ct);
        Assert.Equal("a2", (await NextLeaderAsync(observe, observing.Token)).Kv.Value.ToStringUtf8());
        var now = await elections.LeaderAsync(new LeaderRequest { Name = Bytes(name) }, deadline: DeadlineFromNow(), cancellationToken: Ct);
        Assert.Equal(leading.Key, now.Kv.Key);
        Assert.Equal("a2", now.Kv.Value.ToStringUtf8());

        // Several round trips after the second campaign was queued: an answer that did not wait would be here by now.
        Assert.False(waiting.ResponseAsync.IsCompleted, "the second campaigner led while the first still led");

        await elections.ResignAsync(new ResignRequest { Leader = leading }, deadline: DeadlineFromNow(), cancellationToken: Ct);
        var next = (await waiting.ResponseAsync.WaitAsync(Deadline, Ct)).Leader;
        Assert.True(next.Rev > leading.Rev, $"the next leader's revision {next.Rev} is not above {leading.Rev}");
        var observed = await NextLeaderAsync(observe, observing.Token);
        Assert.Equal(next.Key, observed.Kv.Key);
        Assert.Equal("b", observed.Kv.Value.ToStringUtf8());

        // The deposed leader's key changes nothing: proclaiming fails, resigning again is not an error.
        var deposed = await Assert.ThrowsAsync<RpcException>(() => elections.ProclaimAsync(new ProclaimRequest { Leader = leading, Value = Bytes("stale") }, deadline: DeadlineFromNow(), cancellationToken: Ct).ResponseAsync);
        Assert.Contains("election: not leader", deposed.Status.Detail, StringComparison.Ordinal);
        await elections.ResignAsync(new ResignRequest { Leader = leading }, deadline: DeadlineFromNow(), cancellationToken: Ct);
        var still = await elections.LeaderAsync(new LeaderRequest { Name = Bytes(name) }, deadline: DeadlineFromNow(), cancellationToken: Ct);
        Assert.Equal("b", still.Kv.Value.ToStringUtf8());
        Assert.Equal(next.Rev, still.Kv.CreateRevision);
    }

    private static ByteString Bytes(string text) => ByteString.CopyFromUtf8(text);

    private static DateTime DeadlineFromNow() => DateTime.UtcNow + Deadline;

    private async Task<long> CreateRevisionAsync(ByteString key)
    {
        var found = await new KV.KVClient(await EtcdAsync()).RangeAsync(new RangeRequest { Key = key }, deadline: DeadlineFromNow(), cancellationToken: Ct);
        return Assert.Single(found.Kvs).CreateRevision;
    }

    private static async Task<LeaderResponse> NextLeaderAsync(AsyncServerStreamingCall<LeaderResponse> observe, CancellationToken cancellationToken)
    {
        Assert.True(await observe.ResponseStream.MoveNext(cancellationToken), "the observe stream ended");
        return observe.ResponseStream.Current;
    }
}
