using dotnet_etcd;
using Etcdserverpb;
using Grpc.Core;

namespace Blueprint.Coordination.Tests.Etcdctl;

// etcdctl 3.4's lock and elect run the client-side recipes; dotnet-etcd calls etcd's server-side v3lock and v3election
// services instead, which every member serves (a follower's requests go to the leader like any client's).
public sealed partial class EtcdctlTests
{
    [Fact]
    public async Task Dotnet_etcd_lock_and_election_services_work_through_any_member()
    {
        var ct = TestContext.Current.CancellationToken;
        using var first = new EtcdClient($"http://{Member(0)}");
        using var second = new EtcdClient($"http://{Member(2)}");
        using var third = new EtcdClient($"http://{Member(1)}");
        long firstLease = (await first.LeaseGrantAsync(new LeaseGrantRequest { TTL = 60 }, cancellationToken: ct)).ID;
        long secondLease = (await second.LeaseGrantAsync(new LeaseGrantRequest { TTL = 60 }, cancellationToken: ct)).ID;
        var lockName = $"svc-lock-{Guid.NewGuid():N}";
        var electionName = $"svc-elect-{Guid.NewGuid():N}";
        try
        {
            var held = await first.LockAsync(lockName, firstLease, cancellationToken: ct);
            Assert.Equal($"{lockName}/{firstLease:x}", held.Key.ToStringUtf8());
            var waiting = second.LockAsync(lockName, secondLease, cancellationToken: ct);
            await WaitForKeysAsync(third, $"{lockName}/", 2, ct);
            var unlocked = await third.UnlockAsync(held.Key.ToStringUtf8(), cancellationToken: ct);
            var next = await waiting.WaitAsync(Deadline, ct);
            Assert.Equal($"{lockName}/{secondLease:x}", next.Key.ToStringUtf8());
            Assert.True(next.Header.Revision >= unlocked.Header.Revision, $"the second lock was answered at revision {next.Header.Revision}, before the unlock at {unlocked.Header.Revision}");

            var campaign = await second.CampaignAsync(electionName, secondLease, "second", cancellationToken: ct);
            var leader = await first.LeaderAsync(electionName, cancellationToken: ct);
            Assert.Equal("second", leader.Kv.Value.ToStringUtf8());
            Assert.Equal(campaign.Leader.Rev, leader.Kv.CreateRevision);
            await third.ResignAsync(campaign.Leader, cancellationToken: ct);
            var none = await Assert.ThrowsAsync<RpcException>(() => first.LeaderAsync(electionName, cancellationToken: ct));
            Assert.Contains("election: no leader", none.Status.Detail, StringComparison.Ordinal);
        }
        finally
        {
            await first.LeaseRevokeAsync(new LeaseRevokeRequest { ID = firstLease }, cancellationToken: ct);
            await second.LeaseRevokeAsync(new LeaseRevokeRequest { ID = secondLease }, cancellationToken: ct);
        }
    }

    private static Task WaitForKeysAsync(EtcdClient client, string prefix, int count, CancellationToken ct) =>
        Eventually.ValueAsync(
            async () => (await client.GetRangeAsync(prefix, cancellationToken: ct)).Count,
            seen => seen == count,
            Deadline,
            seen => $"{count} keys under {prefix} not seen: {seen}",
            ct);
}
