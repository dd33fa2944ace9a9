using Blueprint.Storage.Local;
using Blueprint.Storage.S3;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace Blueprint.Storage.Tests.Local;

/// <summary>One node's store: checksums that catch bit rot, last-writer-wins, multipart rules and the orphan sweep.</summary>
public sealed class LocalStoreTests
{
    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_flipped_byte_is_caught_by_the_read_that_meets_its_block_and_never_served()
    {
        using var directory = new TempDirectory();
        using var store = Open(directory.Path, new FakeTimeProvider());
        await store.Meta.CreateBucketAsync("b", store.Now(), Token);
        var bytes = RandomBytes(3 * BlobFiles.BlockSize + 100, 1);
        var record = await PutAsync(store, "b", "k", bytes, version: 1);

        var file = store.Blobs.PathOf(record.Segments[0].Blob);
        await using (var stream = new FileStream(file, FileMode.Open, FileAccess.ReadWrite))
        {
            stream.Position = BlobFiles.BlockSize + 10; // in the second block
            var original = stream.ReadByte();
            stream.Position--;
            stream.WriteByte((byte)(original ^ 0x01));
        }

        var kept = await store.Meta.GetObjectAsync("b", "k", Token);
        var served = new MemoryStream();
        var corrupt = await Assert.ThrowsAsync<CorruptBlobException>(() => store.CopyToAsync(kept!, 0, bytes.Length, Collect(served), Token));
        Assert.Contains("block 1", corrupt.Message, StringComparison.Ordinal);
        Assert.Equal(bytes[..BlobFiles.BlockSize], served.ToArray()); // the first block went out, nothing of the bad one
        Assert.Equal(1, store.CorruptReads);

        var third = new MemoryStream();
        await store.CopyToAsync(kept!, 2 * BlobFiles.BlockSize, 500, Collect(third), Token); // a range that avoids the bad block is fine
        Assert.Equal(bytes[(2 * BlobFiles.BlockSize)..(2 * BlobFiles.BlockSize + 500)], third.ToArray());
        Assert.False(await store.Blobs.VerifyAsync(kept!.Segments[0], Token));
    }

    [Fact]
    public async Task The_newest_version_wins_whatever_order_versions_arrive_in_and_a_tombstone_is_a_version()
    {
        using var directory = new TempDirectory();
        using var store = Open(directory.Path, new FakeTimeProvider());
        await store.Meta.CreateBucketAsync("b", store.Now(), Token);

        var newer = await SpoolAsync(store, "b", "k", "new"u8.ToArray(), version: 20, writer: "n1");
        var older = await SpoolAsync(store, "b", "k", "old"u8.ToArray(), version: 10, writer: "n9");
        var tie = await SpoolAsync(store, "b", "k", "tie"u8.ToArray(), version: 20, writer: "n0");
        Assert.True(await store.ApplyAsync(newer, requireBucket: true, Token));
        Assert.False(await store.ApplyAsync(older, requireBucket: true, Token));
        Assert.False(await store.ApplyAsync(tie, requireBucket: true, Token)); // same time: the greater writer id wins
        Assert.Equal("new", await ReadAsync(store, "b", "k"));

        var tombstone = new ObjectRecord("b", "k", 0, "", new Dictionary<string, string>(), store.Now(), null, []) { Version = 30, Writer = "n2", Deleted = true };
        Assert.True(await store.ApplyAsync(tombstone, requireBucket: true, Token));
        Assert.True((await store.Meta.GetObjectAsync("b", "k", Token))!.Deleted);
        Assert.Empty(await store.Meta.ListObjectsAsync("b", "", "", 10, withTombstones: false, Token));
        Assert.Single(await store.Meta.ListObjectsAsync("b", "", "", 10, withTombstones: true, Token));

        var late = await SpoolAsync(store, "b", "k", "late"u8.ToArray(), version: 25, writer: "n3");
        Assert.False(await store.ApplyAsync(late, requireBucket: true, Token)); // older than the delete: stays deleted
    }

    [Fact]
    public async Task Completing_an_upload_checks_part_order_sizes_and_etags_before_anything_changes()
    {
        using var directory = new TempDirectory();
        using var store = Open(directory.Path, new FakeTimeProvider());
        await store.Meta.CreateBucketAsync("b", store.Now(), Token);
        var upload = await store.CreateUploadAsync("b", "k", new Dictionary<string, string>(), Token);
        var one = await store.PutPartAsync(upload, 1, new MemoryStream(RandomBytes(100, 1)), 1000, null, Token);
        var two = await store.PutPartAsync(upload, 2, new MemoryStream(RandomBytes(100, 2)), 1000, null, Token);

        var order = await Assert.ThrowsAsync<S3Exception>(() => store.CompleteUploadAsync(upload, [(2, two.ETag), (1, one.ETag)], 0, 1, "n1", Token));
        Assert.Equal("InvalidPartOrder", order.Code);
        var small = await Assert.ThrowsAsync<S3Exception>(() => store.CompleteUploadAsync(upload, [(1, one.ETag), (2, two.ETag)], 101, 1, "n1", Token));
        Assert.Equal("EntityTooSmall", small.Code);
        var etag = await Assert.ThrowsAsync<S3Exception>(() => store.CompleteUploadAsync(upload, [(1, two.ETag)], 0, 1, "n1", Token));
        Assert.Equal("InvalidPart", etag.Code);
        Assert.Equal(2, (await store.Meta.ListPartsAsync(upload, 0, 10, Token)).Count);

        var record = await store.CompleteUploadAsync(upload, [(1, one.ETag), (2, two.ETag)], 100, 1, "n1", Token);
        Assert.Equal(200, record.Size);
        Assert.EndsWith("-2\"", record.ETag, StringComparison.Ordinal);
        Assert.Null(await store.Meta.GetUploadAsync(upload, Token));
    }

    [Fact]
    public async Task Concurrent_writes_share_commits_and_a_failing_one_takes_no_other_with_it()
    {
        using var directory = new TempDirectory();
        using (var store = Open(directory.Path, new FakeTimeProvider()))
        {
            await store.Meta.CreateBucketAsync("b", store.Now(), Token);
            var writes = Enumerable.Range(0, 200).Select(async i =>
            {
                var record = await SpoolAsync(store, i % 5 == 0 ? "missing" : "b", $"k{i:D3}", System.Text.Encoding.UTF8.GetBytes($"v{i}"), version: 1, writer: "n1");
                try
                {
                    return await store.ApplyAsync(record, requireBucket: true, Token) ? "applied" : "stale";
                }
                catch (S3Exception e)
                {
                    return e.Code;
                }
            }).ToList();
            var outcomes = await Task.WhenAll(writes);
            Assert.Equal(160, outcomes.Count(outcome => outcome == "applied"));
            Assert.Equal(40, outcomes.Count(outcome => outcome == "NoSuchBucket"));
        }

        using var reopened = Open(directory.Path, new FakeTimeProvider()); // what was acknowledged is on disk
        var kept = await reopened.Meta.ListObjectsAsync("b", "", "", 1000, withTombstones: false, Token);
        Assert.Equal(Enumerable.Range(0, 200).Where(i => i % 5 != 0).Select(i => $"k{i:D3}"), kept.Select(record => record.Key));
        Assert.Null(await reopened.Meta.BucketCreatedAsync("missing", Token));
        Assert.Equal("v7", await ReadAsync(reopened, "b", "k007"));
    }

    [Fact]
    public async Task The_sweep_deletes_blobs_no_row_refers_to_and_keeps_the_rest()
    {
        using var directory = new TempDirectory();
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        ObjectRecord kept;
        ObjectRecord orphan;
        using (var store = Open(directory.Path, time))
        {
            await store.Meta.CreateBucketAsync("b", store.Now(), Token);
            kept = await PutAsync(store, "b", "kept", RandomBytes(200_000, 1), version: 1);
            orphan = await SpoolAsync(store, "b", "crashed", RandomBytes(200_000, 2), version: 2, writer: "n1"); // a crash before its row
        }

        foreach (var segment in kept.Segments.Concat(orphan.Segments))
        {
            File.SetLastWriteTimeUtc(directory.Path + "/blobs/" + segment.Blob.ToString("N")[..2] + "/" + segment.Blob.ToString("N"), DateTime.UtcNow.AddMinutes(-5));
        }

        time.Advance(TimeSpan.FromMinutes(1));
        using var reopened = Open(directory.Path, time);
        var (_, blobs) = await reopened.SweepAsync(TimeSpan.FromDays(7), TimeSpan.FromDays(1), Token);
        Assert.Equal(1, blobs);
        Assert.False(File.Exists(reopened.Blobs.PathOf(orphan.Segments[0].Blob)));
        Assert.True(File.Exists(reopened.Blobs.PathOf(kept.Segments[0].Blob)));
    }

    private static LocalStore Open(string path, TimeProvider time) => new(path, time, NullLogger.Instance);

    private static async Task<ObjectRecord> SpoolAsync(LocalStore store, string bucket, string key, byte[] bytes, long version, string writer) =>
        await store.SpoolAsync(bucket, key, new MemoryStream(bytes), long.MaxValue, new Dictionary<string, string>(), null, version, writer, Token);

    private static async Task<ObjectRecord> PutAsync(LocalStore store, string bucket, string key, byte[] bytes, long version)
    {
        var record = await SpoolAsync(store, bucket, key, bytes, version, "n1");
        Assert.True(await store.ApplyAsync(record, requireBucket: true, Token));
        return record;
    }

    private static async Task<string> ReadAsync(LocalStore store, string bucket, string key)
    {
        var record = await store.Meta.GetObjectAsync(bucket, key, Token);
        var buffer = new MemoryStream();
        await store.CopyToAsync(record!, 0, record!.Size, Collect(buffer), Token);
        return System.Text.Encoding.UTF8.GetString(buffer.ToArray());
    }

    private static Func<ReadOnlyMemory<byte>, CancellationToken, ValueTask> Collect(MemoryStream buffer) =>
        (bytes, _) =>
        {
            buffer.Write(bytes.Span);
            return ValueTask.CompletedTask;
        };

    private static byte[] RandomBytes(int size, int seed)
    {
        var bytes = new byte[size];
        new Random(seed).NextBytes(bytes);
        return bytes;
    }
}
