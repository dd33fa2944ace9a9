using Blueprint.Coordination.Mvcc;
using Grpc.Core;
using static Blueprint.Coordination.Tests.Mvcc.Requests;

namespace Blueprint.Coordination.Tests.Mvcc;

public sealed class MvccStoreCompactionTests
{
    [Fact]
    public void Compact_KeepsLatestVersionAtOrBelowRevisionAndDropsOlder()
    {
        using var store = new MvccStore();
        store.Ok(Put("a", "1")); // 2
        store.Ok(Put("a", "2")); // 3
        store.Ok(Put("b", "1")); // 4
        store.Ok(Delete("b")); // 5
        store.Ok(Put("a", "3")); // 6
        var response = store.Ok(Compact(5)).Compaction;
        Assert.Equal(6, response.Header.Revision);
        Assert.Equal((6L, 5L), (store.Revision, store.CompactRevision));
        Assert.Equal(["a=2"], store.Range(Get("a", "\0", revision: 5)).Pairs());
        Assert.Equal(["a=3"], store.Range(Get("a", "\0")).Pairs());
        Assert.Throws<MvccException>(() => store.Range(Get("a", revision: 4)));
    }

    [Fact]
    public void Compact_RemovesSupersededVersionsPhysically()
    {
        using var store = new MvccStore();
        for (var i = 0; i < 10; i++)
        {
            store.Ok(Put("a", $"{i}"));
        }

        var before = store.Snapshot().Length;
        store.Ok(Compact(store.Revision));
        Assert.True(store.Snapshot().Length < before / 3, "compaction kept superseded versions");
        var history = store.ReadHistory(store.CompactRevision, new KeyRange(B("a"), B("")), prevKv: false, 100, 100);
        Assert.Single(history.Revisions);
    }

    [Fact]
    public void Compact_TombstoneBelowRevision_RemovesKeyEntirely()
    {
        using var store = new MvccStore();
        store.Ok(Put("a", "1")); // 2
        store.Ok(Delete("a")); // 3
        store.Ok(Put("b", "1")); // 4
        store.Ok(Compact(4));
        var history = store.ReadHistory(4, new KeyRange(B("a"), B("\0")), prevKv: false, 100, 100);
        Assert.Equal([4L], history.Revisions.Select(r => r.Revision));
        Assert.Equal(0, store.Range(Get("a", revision: 4)).Count);
    }

    [Fact]
    public void Compact_TombstoneAtCompactRevision_StaysVisibleToWatchHistory()
    {
        using var store = new MvccStore();
        store.Ok(Put("a", "1")); // 2
        store.Ok(Delete("a")); // 3
        store.Ok(Compact(3));
        var history = store.ReadHistory(3, new KeyRange(B("a"), B("")), prevKv: true, 100, 100);
        var change = Assert.Single(Assert.Single(history.Revisions).Events);
        Assert.Equal(Etcd.Mvccpb.Event.Types.EventType.Delete, change.Type);
        Assert.Null(change.PrevKv);
    }

    [Theory]
    [InlineData(3, "etcdserver: mvcc: required revision has been compacted")]
    [InlineData(2, "etcdserver: mvcc: required revision has been compacted")]
    [InlineData(7, "etcdserver: mvcc: required revision is a future revision")]
    public void Compact_BadRevision_IsOutOfRange(long revision, string message)
    {
        using var store = new MvccStore();
        for (var i = 0; i < 5; i++)
        {
            store.Ok(Put("a", $"{i}"));
        }

        store.Ok(Compact(3));
        var response = store.Apply(Compact(revision));
        Assert.Equal(((int)StatusCode.OutOfRange, message), (response.ErrorCode, response.ErrorMessage));
        Assert.Equal(3, store.CompactRevision);
    }
}
