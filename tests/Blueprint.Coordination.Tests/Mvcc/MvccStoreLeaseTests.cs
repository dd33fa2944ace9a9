using Blueprint.Coordination.Mvcc;
using Grpc.Core;
using static Blueprint.Coordination.Tests.Mvcc.Requests;

namespace Blueprint.Coordination.Tests.Mvcc;

public sealed class MvccStoreLeaseTests
{
    [Fact]
    public void LeaseGrant_NewId_RecordsLeaseWithoutNewRevision()
    {
        using var store = new MvccStore();
        var response = store.Ok(Grant(7, 30)).LeaseGrant;
        Assert.Equal((7L, 30L, 1L), (response.ID, response.TTL, response.Header.Revision));
        Assert.Equal(1, store.Revision);
        Assert.Equal(new MvccLease(7, 30, []).Id, Assert.Single(store.Leases()).Id);
    }

    [Theory]
    [InlineData(0, 10, StatusCode.InvalidArgument, "etcdserver: lease ID must be chosen by the proposer")]
    [InlineData(7, 10, StatusCode.FailedPrecondition, "etcdserver: lease already exists")]
    [InlineData(8, 9_000_000_001, StatusCode.OutOfRange, "etcdserver: too large lease TTL")]
    public void LeaseGrant_BadRequest_IsRefused(long id, long ttl, StatusCode code, string message)
    {
        using var store = new MvccStore();
        store.Ok(Grant(7));
        var response = store.Apply(Grant(id, ttl));
        Assert.Equal(((int)code, message), (response.ErrorCode, response.ErrorMessage));
    }

    [Fact]
    public void Put_WithLease_AttachesAndMovesBetweenLeases()
    {
        using var store = new MvccStore();
        store.Ok(Grant(1));
        store.Ok(Grant(2));
        store.Ok(Put("a", "v", lease: 1));
        store.Ok(Put("b", "v", lease: 1));
        Assert.Equal(["a", "b"], store.Lease(1)!.Keys.Select(S));
        store.Ok(Put("a", "v", lease: 2));
        store.Ok(Put("b", "v"));
        Assert.Empty(store.Lease(1)!.Keys);
        Assert.Equal(["a"], store.Lease(2)!.Keys.Select(S));
        store.Ok(Delete("a"));
        Assert.Empty(store.Lease(2)!.Keys);
    }

    [Fact]
    public void LeaseRevoke_DeletesAttachedKeysInOneRevision()
    {
        using var store = new MvccStore();
        store.Ok(Grant(1));
        store.Ok(Put("b", "v", lease: 1)); // 2
        store.Ok(Put("a", "v", lease: 1)); // 3
        store.Ok(Put("c", "v")); // 4
        var events = new List<string>();
        store.Applied += (revision, changes) => events.AddRange(changes.Select(e => $"{revision}:{e.Type}:{S(e.Kv.Key)}"));
        var response = store.Ok(Revoke(1)).LeaseRevoke;
        Assert.Equal(5, response.Header.Revision);
        Assert.Equal(["5:Delete:a", "5:Delete:b"], events);
        Assert.Null(store.Lease(1));
        Assert.Equal(["c=v"], store.Range(Get("a", "\0")).Pairs());
    }

    [Fact]
    public void LeaseRevoke_NoKeys_KeepsRevision()
    {
        using var store = new MvccStore();
        store.Ok(Grant(1));
        Assert.Equal(1, store.Ok(Revoke(1)).LeaseRevoke.Header.Revision);
        Assert.Empty(store.Leases());
    }

    [Fact]
    public void LeaseRevoke_Missing_IsNotFound()
    {
        using var store = new MvccStore();
        var response = store.Apply(Revoke(3));
        Assert.Equal(((int)StatusCode.NotFound, "etcdserver: requested lease not found"), (response.ErrorCode, response.ErrorMessage));
    }
}
