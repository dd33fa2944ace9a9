using Blueprint.Coordination.Etcd.Rpc;
using Blueprint.Coordination.Mvcc;
using static Blueprint.Coordination.Tests.Mvcc.Requests;

namespace Blueprint.Coordination.Tests.Mvcc;

public sealed class MvccStoreSnapshotTests
{
    private static MvccStore Busy()
    {
        var store = new MvccStore();
        store.Ok(Grant(1, 10));
        store.Ok(Grant(2, 20));
        store.Ok(Put("a", "1", lease: 1));
        store.Ok(Put("b", "1", lease: 2));
        store.Ok(Put("a", "2", lease: 1));
        store.Ok(Delete("b"));
        store.Ok(Put("c", "1", lease: 2));
        store.Ok(Compact(4));
        store.Ok(Put("d", "1"));
        return store;
    }

    [Fact]
    public void Restore_Snapshot_EqualsOriginalInStateLeasesAndBytes()
    {
        using var original = Busy();
        using var restored = new MvccStore();
        restored.Restore(original.Snapshot());
        Assert.Equal(original.Snapshot(), restored.Snapshot());
        Assert.Equal((original.Revision, original.CompactRevision), (restored.Revision, restored.CompactRevision));
        Assert.Equal(
            original.Leases().Select(l => $"{l.Id}/{l.TtlSeconds}/{string.Join(',', l.Keys.Select(S))}"),
            restored.Leases().Select(l => $"{l.Id}/{l.TtlSeconds}/{string.Join(',', l.Keys.Select(S))}"));
        for (var revision = original.CompactRevision; revision <= original.Revision; revision++)
        {
            Assert.Equal(original.Range(Get("\0", "\0", revision)).Kvs, restored.Range(Get("\0", "\0", revision)).Kvs);
        }

        // The restored store keeps working like the original.
        Assert.Equal(original.Apply(Revoke(1)), restored.Apply(Revoke(1)));
        Assert.Equal(original.Snapshot(), restored.Snapshot());
    }

    [Fact]
    public void Restore_CorruptBytes_ThrowsAndKeepsState()
    {
        using var store = Busy();
        var before = store.Snapshot();
        var truncated = before[..(before.Length - 3)];
        Assert.Throws<InvalidDataException>(() => store.Restore(truncated));
        var badMagic = (byte[])before.Clone();
        badMagic[0] ^= 0xFF;
        Assert.Throws<InvalidDataException>(() => store.Restore(badMagic));
        Assert.Equal(before, store.Snapshot());
    }

    [Fact]
    public async Task Range_ConcurrentWithApply_NeverSeesHalfATxn()
    {
        using var store = new MvccStore();
        const int Writes = 2_000;
        var writer = Task.Run(() =>
        {
            for (var i = 0; i < Writes; i++)
            {
                var value = $"{i}";
                store.Ok(Txn(new TxnRequest { Success = { PutOp("left", value), PutOp("right", value) } }));
            }
        }, TestContext.Current.CancellationToken);
        var reads = 0;
        while (!writer.IsCompleted || reads == 0)
        {
            var kvs = store.Range(Get("left", "right\0")).Kvs;
            if (kvs.Count == 2)
            {
                Assert.Equal(kvs[0].Value, kvs[1].Value);
                Assert.Equal(kvs[0].ModRevision, kvs[1].ModRevision);
            }

            reads++;
        }

        await writer;
        Assert.Equal(Writes + 1, store.Revision);
    }
}
