using Blueprint.Coordination.Etcd.Rpc;
using Blueprint.Coordination.Mvcc;
using Grpc.Core;
using static Blueprint.Coordination.Tests.Mvcc.Requests;

namespace Blueprint.Coordination.Tests.Mvcc;

public sealed class MvccStoreRangeTests
{
    /// <summary>a=1@2, b=2@3, ba=3@4, c=4@5, then a=5@6: revision 6.</summary>
    private static MvccStore Seeded()
    {
        var store = new MvccStore();
        store.Ok(Put("a", "1"));
        store.Ok(Put("b", "2"));
        store.Ok(Put("ba", "3"));
        store.Ok(Put("c", "4"));
        store.Ok(Put("a", "5"));
        return store;
    }

    public static TheoryData<string, string, string[]> Ranges => new()
    {
        { "a", "", ["a=5"] },
        { "x", "", [] },
        { "a", "c", ["a=5", "b=2", "ba=3"] },
        { "b", "c", ["b=2", "ba=3"] },
        { "b", "\0", ["b=2", "ba=3", "c=4"] },
        { "\0", "\0", ["a=5", "b=2", "ba=3", "c=4"] },
        { "c", "a", [] },
        { "b", "b", [] },
    };

    [Theory]
    [MemberData(nameof(Ranges))]
    public void Range_KeyAndRangeEnd_SelectsEtcdInterval(string key, string rangeEnd, string[] expected)
    {
        using var store = Seeded();
        var response = store.Range(Get(key, rangeEnd));
        Assert.Equal(expected, response.Pairs());
        Assert.Equal(expected.Length, response.Count);
        Assert.Equal(6, response.Header.Revision);
    }

    [Fact]
    public void Range_AtPastRevision_ReadsThatPointInTime()
    {
        using var store = Seeded();
        Assert.Equal(["a=1", "b=2"], store.Range(Get("a", "\0", revision: 3)).Pairs());
        Assert.Equal([], store.Range(Get("a", "\0", revision: 1)).Pairs());
        var response = store.Range(Get("a", revision: 5));
        Assert.Equal(6, response.Header.Revision);
        Assert.Equal((2L, 2L, 1L), (response.Kvs[0].CreateRevision, response.Kvs[0].ModRevision, response.Kvs[0].Version));
    }

    [Fact]
    public void Range_Limit_CutsAndSetsMoreButCountsAll()
    {
        using var store = Seeded();
        var response = store.Range(new RangeRequest { Key = B("a"), RangeEnd = B("\0"), Limit = 2 });
        Assert.Equal(["a=5", "b=2"], response.Pairs());
        Assert.True(response.More);
        Assert.Equal(4, response.Count);
        Assert.False(store.Range(new RangeRequest { Key = B("a"), RangeEnd = B("\0"), Limit = 4 }).More);
    }

    [Fact]
    public void Range_CountOnly_AnswersCountWithoutPairs()
    {
        using var store = Seeded();
        var response = store.Range(new RangeRequest { Key = B("a"), RangeEnd = B("\0"), CountOnly = true });
        Assert.Empty(response.Kvs);
        Assert.Equal(4, response.Count);
    }

    [Fact]
    public void Range_KeysOnly_LeavesValuesOut()
    {
        using var store = Seeded();
        var kv = Assert.Single(store.Range(new RangeRequest { Key = B("b"), KeysOnly = true }).Kvs);
        Assert.True(kv.Value.IsEmpty);
        Assert.Equal(("b", 3L), (S(kv.Key), kv.ModRevision));
    }

    public static TheoryData<RangeRequest.Types.SortOrder, RangeRequest.Types.SortTarget, string[]> Sorts => new()
    {
        { RangeRequest.Types.SortOrder.None, RangeRequest.Types.SortTarget.Key, ["a=5", "b=2", "ba=3", "c=4"] },
        { RangeRequest.Types.SortOrder.Descend, RangeRequest.Types.SortTarget.Key, ["c=4", "ba=3", "b=2", "a=5"] },
        { RangeRequest.Types.SortOrder.None, RangeRequest.Types.SortTarget.Mod, ["b=2", "ba=3", "c=4", "a=5"] },
        { RangeRequest.Types.SortOrder.Descend, RangeRequest.Types.SortTarget.Value, ["a=5", "c=4", "ba=3", "b=2"] },
        { RangeRequest.Types.SortOrder.Ascend, RangeRequest.Types.SortTarget.Create, ["a=5", "b=2", "ba=3", "c=4"] },
        { RangeRequest.Types.SortOrder.Descend, RangeRequest.Types.SortTarget.Version, ["a=5", "c=4", "ba=3", "b=2"] },
    };

    [Theory]
    [MemberData(nameof(Sorts))]
    public void Range_Sort_OrdersByTarget(RangeRequest.Types.SortOrder order, RangeRequest.Types.SortTarget target, string[] expected)
    {
        using var store = Seeded();
        var response = store.Range(new RangeRequest { Key = B("a"), RangeEnd = B("\0"), SortOrder = order, SortTarget = target });
        Assert.Equal(expected, response.Pairs());
    }

    [Fact]
    public void Range_SortThenLimit_LimitsTheSortedAnswer()
    {
        using var store = Seeded();
        var response = store.Range(new RangeRequest
        {
            Key = B("a"),
            RangeEnd = B("\0"),
            SortOrder = RangeRequest.Types.SortOrder.Descend,
            SortTarget = RangeRequest.Types.SortTarget.Mod,
            Limit = 1,
        });
        Assert.Equal(["a=5"], response.Pairs());
        Assert.True(response.More);
    }

    [Fact]
    public void Range_RevisionFilters_DropKeysOutsideBounds()
    {
        using var store = Seeded();
        var mod = store.Range(new RangeRequest { Key = B("a"), RangeEnd = B("\0"), MinModRevision = 4, MaxModRevision = 5 });
        Assert.Equal(["ba=3", "c=4"], mod.Pairs());
        Assert.Equal(4, mod.Count);
        var create = store.Range(new RangeRequest { Key = B("a"), RangeEnd = B("\0"), MaxCreateRevision = 3 });
        Assert.Equal(["a=5", "b=2"], create.Pairs());
        var minCreate = store.Range(new RangeRequest { Key = B("a"), RangeEnd = B("\0"), MinCreateRevision = 5 });
        Assert.Equal(["c=4"], minCreate.Pairs());
    }

    [Fact]
    public void Range_FutureRevision_ThrowsOutOfRange()
    {
        using var store = Seeded();
        var error = Assert.Throws<MvccException>(() => store.Range(Get("a", revision: 7)));
        Assert.Equal((StatusCode.OutOfRange, "etcdserver: mvcc: required revision is a future revision"), (error.Code, error.Message));
    }

    [Fact]
    public void Range_CompactedRevision_ThrowsOutOfRange()
    {
        using var store = Seeded();
        store.Ok(Compact(4));
        var error = Assert.Throws<MvccException>(() => store.Range(Get("a", revision: 3)));
        Assert.Equal((StatusCode.OutOfRange, "etcdserver: mvcc: required revision has been compacted"), (error.Code, error.Message));
        Assert.Equal(["a=1", "b=2", "ba=3"], store.Range(Get("a", "\0", revision: 4)).Pairs());
    }

    [Fact]
    public void Range_EmptyKey_ThrowsInvalidArgument()
    {
        using var store = Seeded();
        var error = Assert.Throws<MvccException>(() => store.Range(new RangeRequest()));
        Assert.Equal((StatusCode.InvalidArgument, "etcdserver: key is not provided"), (error.Code, error.Message));
    }

    [Fact]
    public void Range_UnknownSortOption_ThrowsInvalidArgument()
    {
        using var store = Seeded();
        var error = Assert.Throws<MvccException>(() => store.Range(new RangeRequest { Key = B("a"), SortOrder = (RangeRequest.Types.SortOrder)9 }));
        Assert.Equal(StatusCode.InvalidArgument, error.Code);
    }

    [Fact]
    public void Range_ReturnedPairs_AreCopiesTheCallerMayChange()
    {
        using var store = Seeded();
        store.Range(Get("a")).Kvs[0].Value = B("changed");
        Assert.Equal(["a=5"], store.Range(Get("a")).Pairs());
    }
}
