using Blueprint.Coordination.Etcd.Rpc;
using Blueprint.Coordination.Mvcc;
using Google.Protobuf;
using Grpc.Core;
using static Blueprint.Coordination.Tests.Mvcc.Requests;

namespace Blueprint.Coordination.Tests.Mvcc;

public sealed class MvccStoreTxnTests
{
    private static Compare Cmp(string key, Compare.Types.CompareTarget target, Compare.Types.CompareResult result, long number = 0, string value = "", string rangeEnd = "")
    {
        var compare = new Compare { Key = B(key), Target = target, Result = result, RangeEnd = B(rangeEnd) };
        switch (target)
        {
            case Compare.Types.CompareTarget.Value: compare.Value = B(value); break;
            case Compare.Types.CompareTarget.Version: compare.Version = number; break;
            case Compare.Types.CompareTarget.Create: compare.CreateRevision = number; break;
            case Compare.Types.CompareTarget.Mod: compare.ModRevision = number; break;
            case Compare.Types.CompareTarget.Lease: compare.Lease = number; break;
        }

        return compare;
    }

    /// <summary>a=1 (lease 7) @2, b=2 @3, b=3 @4: revision 4.</summary>
    private static MvccStore Seeded()
    {
        var store = new MvccStore();
        store.Ok(Grant(7));
        store.Ok(Put("a", "1", lease: 7));
        store.Ok(Put("b", "2"));
        store.Ok(Put("b", "3"));
        return store;
    }

    public static TheoryData<Compare, bool> Compares => new()
    {
        { Cmp("a", Compare.Types.CompareTarget.Value, Compare.Types.CompareResult.Equal, value: "1"), true },
        { Cmp("a", Compare.Types.CompareTarget.Value, Compare.Types.CompareResult.Greater, value: "0"), true },
        { Cmp("a", Compare.Types.CompareTarget.Value, Compare.Types.CompareResult.Less, value: "0"), false },
        { Cmp("a", Compare.Types.CompareTarget.Value, Compare.Types.CompareResult.NotEqual, value: "1"), false },
        { Cmp("b", Compare.Types.CompareTarget.Version, Compare.Types.CompareResult.Equal, 2), true },
        { Cmp("b", Compare.Types.CompareTarget.Create, Compare.Types.CompareResult.Equal, 3), true },
        { Cmp("b", Compare.Types.CompareTarget.Mod, Compare.Types.CompareResult.Greater, 3), true },
        { Cmp("b", Compare.Types.CompareTarget.Mod, Compare.Types.CompareResult.Less, 4), false },
        { Cmp("a", Compare.Types.CompareTarget.Lease, Compare.Types.CompareResult.Equal, 7), true },
        { Cmp("b", Compare.Types.CompareTarget.Lease, Compare.Types.CompareResult.Equal, 0), true },
        { Cmp("missing", Compare.Types.CompareTarget.Create, Compare.Types.CompareResult.Equal, 0), true },
        { Cmp("missing", Compare.Types.CompareTarget.Version, Compare.Types.CompareResult.Equal, 0), true },
        { Cmp("missing", Compare.Types.CompareTarget.Value, Compare.Types.CompareResult.Equal, value: ""), false },
        { Cmp("a", Compare.Types.CompareTarget.Version, Compare.Types.CompareResult.Greater, 0, rangeEnd: "c"), true },
        { Cmp("a", Compare.Types.CompareTarget.Version, Compare.Types.CompareResult.Equal, 1, rangeEnd: "c"), false },
        { Cmp("a", Compare.Types.CompareTarget.Mod, Compare.Types.CompareResult.Less, 5, rangeEnd: "\0"), true },
    };

    [Theory]
    [MemberData(nameof(Compares))]
    public void Txn_Compare_ChoosesBranch(Compare compare, bool succeeded)
    {
        using var store = Seeded();
        var txn = new TxnRequest { Compare = { compare }, Success = { PutOp("then", "x") }, Failure = { PutOp("else", "x") } };
        var response = store.Ok(Txn(txn)).Txn;
        Assert.Equal(succeeded, response.Succeeded);
        Assert.Equal(succeeded ? ["then=x"] : ["else=x"], store.Range(Get("e", "u")).Pairs());
    }

    [Fact]
    public void Txn_SeveralWrites_OneRevisionWithOrderedEvents()
    {
        using var store = Seeded();
        var events = new List<string>();
        long applied = 0;
        store.Applied += (revision, changes) =>
        {
            applied = revision;
            events.AddRange(changes.Select(e => $"{e.Type}:{S(e.Kv.Key)}"));
        };
        var txn = new TxnRequest { Success = { PutOp("x", "1"), DeleteOp("a"), PutOp("y", "2"), RangeOp("x", "z") } };
        var response = store.Ok(Txn(txn)).Txn;
        Assert.Equal(5, response.Header.Revision);
        Assert.Equal(5, applied);
        Assert.Equal(["Put:x", "Delete:a", "Put:y"], events);
        var read = response.Responses[3].ResponseRange;
        Assert.Equal(["x=1", "y=2"], read.Pairs());
        Assert.All(read.Kvs, kv => Assert.Equal(5, kv.ModRevision));
        Assert.Equal(5, response.Responses[0].ResponsePut.Header.Revision);
        Assert.Empty(store.Lease(7)!.Keys);
    }

    [Fact]
    public void Txn_ReadOnly_KeepsRevision()
    {
        using var store = Seeded();
        var response = store.Ok(Txn(new TxnRequest { Success = { RangeOp("b"), DeleteOp("missing") } })).Txn;
        Assert.Equal(4, response.Header.Revision);
        Assert.Equal(4, store.Revision);
        Assert.Equal(["b=3"], response.Responses[0].ResponseRange.Pairs());
    }

    [Fact]
    public void Txn_Nested_RunsChosenInnerBranchInSameRevision()
    {
        using var store = Seeded();
        var inner = new TxnRequest
        {
            Compare = { Cmp("b", Compare.Types.CompareTarget.Value, Compare.Types.CompareResult.Equal, value: "nope") },
            Success = { PutOp("inner-then", "1") },
            Failure = { PutOp("inner-else", "1") },
        };
        var outer = new TxnRequest { Success = { PutOp("outer", "1"), TxnOp(inner) } };
        var response = store.Ok(Txn(outer)).Txn;
        Assert.True(response.Succeeded);
        Assert.False(response.Responses[1].ResponseTxn.Succeeded);
        Assert.Equal(5, response.Responses[1].ResponseTxn.Header.Revision);
        Assert.Equal(["inner-else=1", "outer=1"], store.Range(Get("i", "p")).Pairs());
        Assert.Equal(5, store.Revision);
    }

    [Fact]
    public void Txn_ComparesReadStateBeforeTheTxn()
    {
        using var store = Seeded();
        var inner = new TxnRequest
        {
            Compare = { Cmp("n", Compare.Types.CompareTarget.Version, Compare.Types.CompareResult.Equal, 0) },
            Success = { PutOp("saw-missing", "1") },
        };
        var response = store.Ok(Txn(new TxnRequest { Success = { PutOp("n", "1"), TxnOp(inner) } })).Txn;
        Assert.True(response.Responses[1].ResponseTxn.Succeeded);
    }

    public static TheoryData<TxnRequest> DuplicateTxns => new()
    {
        new TxnRequest { Success = { PutOp("a", "1"), PutOp("a", "2") } },
        new TxnRequest { Success = { DeleteOp("a", "c"), PutOp("b", "1") } },
        new TxnRequest { Failure = { PutOp("k", "1"), TxnOp(new TxnRequest { Success = { PutOp("k", "2") } }) } },
        new TxnRequest { Success = { DeleteOp("k"), TxnOp(new TxnRequest { Failure = { PutOp("k", "2") } }) } },
        new TxnRequest { Success = { DeleteOp("a", "\0"), PutOp("zz", "1") } },
    };

    [Theory]
    [MemberData(nameof(DuplicateTxns))]
    public void Txn_KeyWrittenTwice_IsDuplicateKey(TxnRequest txn)
    {
        using var store = Seeded();
        var response = store.Apply(Txn(txn));
        Assert.Equal(((int)StatusCode.InvalidArgument, "etcdserver: duplicate key given in txn request"), (response.ErrorCode, response.ErrorMessage));
        Assert.Equal(4, store.Revision);
    }

    public static TheoryData<TxnRequest> AllowedTxns => new()
    {
        new TxnRequest { Success = { PutOp("a", "1") }, Failure = { PutOp("a", "2") } },
        new TxnRequest { Success = { DeleteOp("a", "c"), DeleteOp("b") } },
        new TxnRequest { Success = { TxnOp(new TxnRequest { Success = { PutOp("k", "1") }, Failure = { PutOp("k", "2") } }) } },
        new TxnRequest { Success = { PutOp("c", "1"), DeleteOp("a", "c") } },
    };

    [Theory]
    [MemberData(nameof(AllowedTxns))]
    public void Txn_KeysWrittenOncePerBranch_IsAccepted(TxnRequest txn)
    {
        using var store = Seeded();
        store.Ok(Txn(txn));
    }

    [Fact]
    public void Txn_TooManyOps_IsRefused()
    {
        using var store = new MvccStore(new MvccLimits { TxnOpsMax = 2 });
        var response = store.Apply(Txn(new TxnRequest { Success = { PutOp("a", "1"), PutOp("b", "1"), PutOp("c", "1") } }));
        Assert.Equal(((int)StatusCode.InvalidArgument, "etcdserver: too many operations in txn request"), (response.ErrorCode, response.ErrorMessage));
        var nested = store.Apply(Txn(new TxnRequest { Success = { PutOp("a", "1"), TxnOp(new TxnRequest { Success = { PutOp("b", "1") } }) } }));
        Assert.Equal("etcdserver: too many operations in txn request", nested.ErrorMessage);
    }

    [Fact]
    public void Txn_TooDeep_IsRefused()
    {
        using var store = new MvccStore(new MvccLimits { TxnDepthMax = 2 });
        var deepest = new TxnRequest();
        var txn = new TxnRequest { Success = { TxnOp(new TxnRequest { Success = { TxnOp(deepest) } }) } };
        Assert.Equal("etcdserver: txn requests nested too deeply", store.Apply(Txn(txn)).ErrorMessage);
    }

    [Fact]
    public void Txn_PutWithMissingLeaseOnChosenBranch_IsRefusedAtomically()
    {
        using var store = Seeded();
        var txn = new TxnRequest { Success = { PutOp("x", "1"), new RequestOp { RequestPut = new PutRequest { Key = B("y"), Lease = 42 } } } };
        var response = store.Apply(Txn(txn));
        Assert.Equal(((int)StatusCode.NotFound, "etcdserver: requested lease not found"), (response.ErrorCode, response.ErrorMessage));
        Assert.Empty(store.Range(Get("x")).Kvs);
        Assert.Equal(4, store.Revision);
    }

    [Fact]
    public void Txn_BadPutOnBranchNotTaken_IsIgnored()
    {
        using var store = Seeded();
        var txn = new TxnRequest
        {
            Success = { PutOp("x", "1") },
            Failure = { new RequestOp { RequestPut = new PutRequest { Key = B("y"), Lease = 42 } } },
        };
        Assert.True(store.Ok(Txn(txn)).Txn.Succeeded);
    }

    [Fact]
    public void Txn_RangeAtFutureRevision_IsRefused()
    {
        using var store = Seeded();
        var response = store.Apply(Txn(new TxnRequest { Success = { PutOp("x", "1"), RangeOp("x", revision: 5) } }));
        Assert.Equal("etcdserver: mvcc: required revision is a future revision", response.ErrorMessage);
    }

    [Fact]
    public void Txn_EmptyCompareKey_IsRefused()
    {
        using var store = Seeded();
        var response = store.Apply(Txn(new TxnRequest { Compare = { new Compare { Key = ByteString.Empty } } }));
        Assert.Equal("etcdserver: key is not provided", response.ErrorMessage);
    }
}
