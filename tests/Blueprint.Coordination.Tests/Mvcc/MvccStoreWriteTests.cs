using Blueprint.Coordination.Etcd.Mvccpb;
using Blueprint.Coordination.Etcd.Rpc;
using Blueprint.Coordination.Mvcc;
using Grpc.Core;
using static Blueprint.Coordination.Tests.Mvcc.Requests;

namespace Blueprint.Coordination.Tests.Mvcc;

public sealed class MvccStoreWriteTests
{
    [Fact]
    public void Revision_EmptyStore_IsOneAndNeverCompacted()
    {
        using var store = new MvccStore();
        Assert.Equal(1, store.Revision);
        Assert.Equal(0, store.CompactRevision);
    }

    [Fact]
    public void Put_SameKeyTwice_BumpsVersionAndModKeepsCreate()
    {
        using var store = new MvccStore();
        Assert.Equal(2, store.Ok(Put("a", "1")).Put.Header.Revision);
        var second = store.Ok(Put("a", "2", prevKv: true)).Put;
        Assert.Equal(3, second.Header.Revision);
        Assert.Equal("1", S(second.PrevKv.Value));
        Assert.Equal(2, second.PrevKv.ModRevision);
        var kv = Assert.Single(store.Range(Get("a")).Kvs);
        Assert.Equal((2L, 3L, 2L, "2"), (kv.CreateRevision, kv.ModRevision, kv.Version, S(kv.Value)));
    }

    [Fact]
    public void Put_AfterDelete_ResetsVersionAndCreateRevision()
    {
        using var store = new MvccStore();
        store.Ok(Put("a", "1"));
        store.Ok(Put("a", "2"));
        Assert.Equal(1, store.Ok(Delete("a")).DeleteRange.Deleted);
        store.Ok(Put("a", "3"));
        var kv = Assert.Single(store.Range(Get("a")).Kvs);
        Assert.Equal((5L, 5L, 1L), (kv.CreateRevision, kv.ModRevision, kv.Version));
        Assert.Equal(5, store.Revision);
    }

    [Fact]
    public void Put_WithoutPrevKvFlag_AnswersNoPrevKv()
    {
        using var store = new MvccStore();
        store.Ok(Put("a", "1"));
        Assert.Null(store.Ok(Put("a", "2")).Put.PrevKv);
    }

    [Fact]
    public void DeleteRange_MissingKey_KeepsRevisionAndDeletesNothing()
    {
        using var store = new MvccStore();
        store.Ok(Put("a", "1"));
        var response = store.Ok(Delete("b")).DeleteRange;
        Assert.Equal(0, response.Deleted);
        Assert.Equal(2, response.Header.Revision);
        Assert.Equal(2, store.Revision);
    }

    [Fact]
    public void DeleteRange_Range_DeletesAllInOneRevisionWithPrevKvs()
    {
        using var store = new MvccStore();
        store.Ok(Put("a", "1"));
        store.Ok(Put("b", "2"));
        store.Ok(Put("c", "3"));
        var response = store.Ok(Delete("a", "c", prevKv: true)).DeleteRange;
        Assert.Equal(2, response.Deleted);
        Assert.Equal(["a", "b"], response.PrevKvs.Select(kv => S(kv.Key)));
        Assert.Equal(5, response.Header.Revision);
        Assert.Equal(["c=3"], store.Range(Get("a", "\0")).Pairs());
    }

    [Fact]
    public void Applied_PutAndDelete_RaisesRevisionAndEventsInOrder()
    {
        using var store = new MvccStore();
        var seen = new List<string>();
        store.Applied += (revision, events) =>
            seen.Add($"{revision}: {string.Join(' ', events.Select(e => $"{e.Type}:{S(e.Kv.Key)}@{e.Kv.ModRevision}"))}");
        store.Ok(Put("a", "1"));
        store.Ok(Put("b", "1"));
        store.Ok(Delete("a", "\0"));
        store.Ok(Delete("zzz"));
        store.Ok(Grant(7));
        Assert.Equal(["2: Put:a@2", "3: Put:b@3", "4: Delete:a@4 Delete:b@4"], seen);
    }

    public static TheoryData<InternalRequest, StatusCode, string> RefusedPuts => new()
    {
        { new InternalRequest { Put = new PutRequest { Value = B("v") } }, StatusCode.InvalidArgument, "etcdserver: key is not provided" },
        { Put("a", "v", lease: 99), StatusCode.NotFound, "etcdserver: requested lease not found" },
        { new InternalRequest { Put = new PutRequest { Key = B("missing"), IgnoreValue = true } }, StatusCode.InvalidArgument, "etcdserver: key not found" },
        { new InternalRequest { Put = new PutRequest { Key = B("missing"), IgnoreLease = true } }, StatusCode.InvalidArgument, "etcdserver: key not found" },
        { new InternalRequest { Put = new PutRequest { Key = B("a"), Value = B("v"), IgnoreValue = true } }, StatusCode.InvalidArgument, "etcdserver: value is provided" },
        { new InternalRequest { Put = new PutRequest { Key = B("a"), Lease = 5, IgnoreLease = true } }, StatusCode.InvalidArgument, "etcdserver: lease is provided" },
        { new InternalRequest(), StatusCode.InvalidArgument, "etcdserver: empty request" },
        { new InternalRequest { DeleteRange = new DeleteRangeRequest() }, StatusCode.InvalidArgument, "etcdserver: key is not provided" },
    };

    [Theory]
    [MemberData(nameof(RefusedPuts))]
    public void Apply_RefusedRequest_AnswersEtcdErrorAndChangesNothing(InternalRequest request, StatusCode code, string message)
    {
        using var store = new MvccStore();
        store.Ok(Put("a", "1"));
        var before = store.Snapshot();
        var response = store.Apply(request);
        Assert.Equal(((int)code, message), (response.ErrorCode, response.ErrorMessage));
        Assert.Equal(InternalResponse.ResponseOneofCase.None, response.ResponseCase);
        Assert.Equal(before, store.Snapshot());
    }

    [Fact]
    public void Put_IgnoreValue_KeepsValueAndChangesLease()
    {
        using var store = new MvccStore();
        store.Ok(Grant(7));
        store.Ok(Put("a", "1"));
        store.Ok(new InternalRequest { Put = new PutRequest { Key = B("a"), IgnoreValue = true, Lease = 7 } });
        var kv = Assert.Single(store.Range(Get("a")).Kvs);
        Assert.Equal(("1", 7L, 2L), (S(kv.Value), kv.Lease, kv.Version));
        Assert.Equal(["a"], store.Lease(7)!.Keys.Select(S));
    }

    [Fact]
    public void Put_IgnoreLease_KeepsLeaseAndChangesValue()
    {
        using var store = new MvccStore();
        store.Ok(Grant(7));
        store.Ok(Put("a", "1", lease: 7));
        store.Ok(new InternalRequest { Put = new PutRequest { Key = B("a"), Value = B("2"), IgnoreLease = true } });
        var kv = Assert.Single(store.Range(Get("a")).Kvs);
        Assert.Equal(("2", 7L), (S(kv.Value), kv.Lease));
    }

    [Fact]
    public void RequestTooLarge_IsRefused()
    {
        using var store = new MvccStore(new MvccLimits { RequestBytesMax = 64 });
        var response = store.Apply(Put("a", new string('x', 100)));
        Assert.Equal(((int)StatusCode.InvalidArgument, "etcdserver: request is too large"), (response.ErrorCode, response.ErrorMessage));
    }

    [Fact]
    public void Limits_OutOfRange_ReportsEveryProblem()
    {
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => new MvccStore(new MvccLimits { TxnOpsMax = 0, RequestBytesMax = 0 }));
        Assert.Contains("TxnOpsMax", error.Message, StringComparison.Ordinal);
        Assert.Contains("RequestBytesMax", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Event_Delete_CarriesKeyAndDeleteRevisionOnly()
    {
        using var store = new MvccStore();
        IReadOnlyList<Event>? last = null;
        store.Applied += (_, events) => last = events;
        store.Ok(Put("a", "1"));
        store.Ok(Delete("a"));
        var change = Assert.Single(last!);
        Assert.Equal(Event.Types.EventType.Delete, change.Type);
        Assert.Equal(new KeyValue { Key = B("a"), ModRevision = 3 }, change.Kv);
        Assert.Equal("1", S(change.PrevKv.Value));
    }
}
