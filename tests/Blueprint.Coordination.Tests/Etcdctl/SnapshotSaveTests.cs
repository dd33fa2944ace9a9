using System.Security.Cryptography;
using Blueprint.Coordination.Etcd;
using Blueprint.Coordination.Mvcc;
using static Blueprint.Coordination.Tests.Mvcc.Requests;

namespace Blueprint.Coordination.Tests.Etcdctl;

/// <summary>Debian's <c>etcdctl snapshot save</c> against a member: the file it keeps holds the member's whole keyspace.</summary>
[Collection(Support.ProcessClusters.Name)]
public sealed class SnapshotSaveTests(OneMemberCluster fixture) : IClassFixture<OneMemberCluster>
{
    private string Endpoint => fixture.Cluster.Endpoints;

    [Fact]
    public async Task Etcdctl_snapshot_save_keeps_every_key_and_the_revision_of_the_member()
    {
        await Etcdctl.OkAsync(Endpoint, "put", "snap/a", "1");
        await Etcdctl.OkAsync(Endpoint, "put", "snap/b", new string('x', 100_000)); // more than one 32 KiB message
        await Etcdctl.OkAsync(Endpoint, "put", "snap/a", "2");
        await Etcdctl.OkAsync(Endpoint, "del", "snap/b");
        await Etcdctl.OkAsync(Endpoint, "put", "snap/c", "3");
        using var work = new TempDirectory();
        var path = Path.Combine(work.Path, "coordination.snap");

        var saved = await Etcdctl.OkAsync(Endpoint, "snapshot", "save", path);
        Assert.Contains($"Snapshot saved at {path}", saved, StringComparison.Ordinal);

        var file = await File.ReadAllBytesAsync(path, TestContext.Current.CancellationToken);
        Assert.Equal(SnapshotFile.ChecksumBytes, file.Length % 512);
        Assert.Equal(SHA256.HashData(file.AsSpan(0, file.Length - 32)), file[^32..]);
        using var restored = new MvccStore();
        restored.Restore(SnapshotFile.Read(file));
        Assert.Equal(["snap/a=2", "snap/c=3"], restored.Range(Get("snap/", "snap0")).Kvs.Select(kv => $"{S(kv.Key)}={S(kv.Value)}"));
        var history = restored.Range(Get("snap/b", "", restored.Range(Get("snap/a")).Kvs[0].ModRevision - 1)).Kvs;
        Assert.Equal(100_000, Assert.Single(history).Value.Length); // the history before the delete is there too (not compacted)

        var endpointRevision = long.Parse((await Etcdctl.OkAsync(Endpoint, "get", "snap/c", "-w", "fields")).Split('\n').First(line => line.StartsWith("\"Revision\"", StringComparison.Ordinal)).Split(':')[1].Trim(), System.Globalization.CultureInfo.InvariantCulture);
        Assert.Equal(endpointRevision, restored.Revision);

        // Not a bolt database: etcdctl's own tools refuse it (see docs/storage-dr.md).
        var (exit, _, _) = await Etcdctl.RunAsync(Endpoint, "snapshot", "status", path);
        Assert.NotEqual(0, exit);
        var damaged = file.ToArray();
        damaged[40] ^= 1;
        Assert.Throws<InvalidDataException>(() => SnapshotFile.Read(damaged));
    }
}
