using System.Text.Json;
using Amazon.S3.Model;
using Blueprint.Storage.Backup;
using Blueprint.Storage.Tests.S3;
using static Blueprint.Storage.Tests.Backup.BackupTestSupport;

namespace Blueprint.Storage.Tests.Backup;

/// <summary><c>storage backup</c> and <c>restore</c> between real nodes, run through the verbs' code in-process.</summary>
public sealed class BackupRestoreTests
{
    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_bucket_backed_up_to_a_directory_restores_into_another_node_byte_for_byte()
    {
        await using var source = await S3Node.StartAsync(cancellationToken: Token);
        await using var target = await S3Node.StartAsync(cancellationToken: Token);
        await FillAsync(source.Client, "photos");
        var expected = await ReadBucketAsync(source.Client, "photos");
        using var backup = new TempDirectory();

        var (exit, output, error) = await RunAsync(["backup", "--endpoint", source.Endpoint, "--bucket", "photos", "--to", backup.Path, .. Keys]);
        Assert.True(exit == 0, error);
        Assert.Contains($"backup done: {expected.Count} objects, {expected.Values.Sum(o => o.Size)} bytes, 0 skipped", output, StringComparison.Ordinal);
        Assert.Contains("backup: 3 objects so far", output, StringComparison.Ordinal);

        var manifest = (await File.ReadAllLinesAsync(Path.Combine(backup.Path, "manifest.jsonl"), Token)).Select(line => JsonDocument.Parse(line).RootElement).ToList();
        Assert.Equal(expected.Keys, manifest.Select(e => e.GetProperty("key").GetString()));
        foreach (var entry in manifest)
        {
            var key = entry.GetProperty("key").GetString()!;
            Assert.Equal(expected[key].Sha256, entry.GetProperty("sha256").GetString());
            Assert.Equal(expected[key].Size, entry.GetProperty("size").GetInt64());
            Assert.Equal(expected[key].ContentType, entry.GetProperty("contentType").GetString());
            Assert.True(File.Exists(BackupDirectory.ObjectPath(backup.Path, key)), key);
        }

        Assert.Equal("ann", manifest.Single(e => e.GetProperty("key").GetString() == "small.txt").GetProperty("metadata").GetProperty("owner").GetString());
        Assert.EndsWith("-3\"", manifest.Single(e => e.GetProperty("key").GetString() == MultipartKey).GetProperty("etag").GetString(), StringComparison.Ordinal);
        var info = JsonDocument.Parse(await File.ReadAllTextAsync(Path.Combine(backup.Path, "backup.json"), Token)).RootElement;
        Assert.Equal("photos", info.GetProperty("bucket").GetString());
        Assert.Equal(source.Endpoint, info.GetProperty("endpoint").GetString());
        Assert.Equal(expected.Count, info.GetProperty("objects").GetInt32());
        Assert.Equal(expected.Values.Sum(o => o.Size), info.GetProperty("bytes").GetInt64());
        Assert.Empty(Directory.EnumerateFiles(backup.Path, "*.tmp", SearchOption.AllDirectories));

        (exit, output, error) = await RunAsync(["restore", "--from", backup.Path, "--endpoint", target.Endpoint, "--bucket", "restored", .. Keys]);
        Assert.True(exit == 0, error);
        Assert.Contains("created bucket restored", output, StringComparison.Ordinal);
        Assert.Contains($"restore done: {expected.Count} objects", output, StringComparison.Ordinal);
        AssertSame(expected, await ReadBucketAsync(target.Client, "restored"));

        // 330 KiB is above the (test) threshold of 256 KiB: restored in parts of 100 KiB.
        var head = await target.Client.GetObjectMetadataAsync("restored", MultipartKey, Token);
        Assert.EndsWith("-4\"", head.ETag, StringComparison.Ordinal);

        // Restoring again finds everything in place (same ETag and size) but the object re-uploaded in other parts.
        (exit, output, error) = await RunAsync(["restore", "--from", backup.Path, "--endpoint", target.Endpoint, "--bucket", "restored", .. Keys]);
        Assert.True(exit == 0, error);
        Assert.Contains($"restore done: 1 objects, {expected[MultipartKey].Size} bytes, {expected.Count - 1} skipped", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_second_backup_fetches_only_what_changed_and_drops_what_was_deleted()
    {
        await using var source = await S3Node.StartAsync(cancellationToken: Token);
        await FillAsync(source.Client, "docs");
        var count = (await ReadBucketAsync(source.Client, "docs")).Count;
        using var backup = new TempDirectory();
        string[] args = ["backup", "--endpoint", source.Endpoint, "--bucket", "docs", "--to", backup.Path, .. Keys];

        var (exit, _, error) = await RunAsync(args);
        Assert.True(exit == 0, error);
        var bigFile = BackupDirectory.ObjectPath(backup.Path, "big/over-64k.bin");
        var written = File.GetLastWriteTimeUtc(bigFile);

        (exit, var output, error) = await RunAsync(args);
        Assert.True(exit == 0, error);
        Assert.Contains($"backup done: 0 objects, 0 bytes, {count} skipped", output, StringComparison.Ordinal);
        Assert.Equal(written, File.GetLastWriteTimeUtc(bigFile));

        await source.Client.PutObjectAsync(new PutObjectRequest { BucketName = "docs", Key = "small.txt", ContentBody = "changed!" }, Token);
        await source.Client.DeleteObjectAsync("docs", "a/b/c", Token);
        (exit, output, error) = await RunAsync(args);
        Assert.True(exit == 0, error);
        Assert.Contains($"backup done: 1 objects, 8 bytes, {count - 2} skipped", output, StringComparison.Ordinal);
        Assert.Equal("changed!", await File.ReadAllTextAsync(BackupDirectory.ObjectPath(backup.Path, "small.txt"), Token));
        Assert.False(File.Exists(BackupDirectory.ObjectPath(backup.Path, "a/b/c")));
        var keys = (await File.ReadAllLinesAsync(Path.Combine(backup.Path, "manifest.jsonl"), Token)).Select(line => JsonDocument.Parse(line).RootElement.GetProperty("key").GetString()).ToList();
        Assert.Equal(count - 1, keys.Count);
        Assert.DoesNotContain("a/b/c", keys);
    }

    [Fact]
    public async Task A_tampered_backup_file_is_refused_before_anything_is_restored()
    {
        await using var source = await S3Node.StartAsync(cancellationToken: Token);
        await using var target = await S3Node.StartAsync(cancellationToken: Token);
        await FillAsync(source.Client, "ledger");
        using var backup = new TempDirectory();
        var (exit, _, error) = await RunAsync(["backup", "--endpoint", source.Endpoint, "--bucket", "ledger", "--to", backup.Path, .. Keys]);
        Assert.True(exit == 0, error);

        var file = BackupDirectory.ObjectPath(backup.Path, "big/over-64k.bin");
        var bytes = await File.ReadAllBytesAsync(file, Token);
        bytes[1000] ^= 0x01;
        await File.WriteAllBytesAsync(file, bytes, Token);

        (exit, _, error) = await RunAsync(["restore", "--from", backup.Path, "--endpoint", target.Endpoint, "--bucket", "ledger", .. Keys]);
        Assert.Equal(1, exit);
        Assert.Contains("big/over-64k.bin: the file does not match the manifest", error, StringComparison.Ordinal);
        Assert.DoesNotContain("ledger", (await target.Client.ListBucketsAsync(Token)).Buckets?.Select(b => b.BucketName) ?? []);

        File.Delete(BackupDirectory.ObjectPath(backup.Path, "small.txt"));
        (exit, _, error) = await RunAsync(["restore", "--from", backup.Path, "--endpoint", target.Endpoint, "--bucket", "ledger", .. Keys]);
        Assert.Equal(1, exit);
        Assert.Contains("big/over-64k.bin", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_bucket_copies_to_a_bucket_on_another_node_and_back()
    {
        await using var first = await S3Node.StartAsync(cancellationToken: Token);
        await using var second = await S3Node.StartAsync(cancellationToken: Token);
        await FillAsync(first.Client, "origin");
        var expected = await ReadBucketAsync(first.Client, "origin");

        var (exit, output, error) = await RunAsync(["backup", "--endpoint", first.Endpoint, "--bucket", "origin", "--to", "s3://offsite", "--to-endpoint", second.Endpoint, .. Keys]);
        Assert.True(exit == 0, error);
        Assert.Contains($"backup done: {expected.Count} objects", output, StringComparison.Ordinal);
        AssertSame(expected, await ReadBucketAsync(second.Client, "offsite"));

        (exit, output, error) = await RunAsync(["backup", "--endpoint", first.Endpoint, "--bucket", "origin", "--to", "s3://offsite", "--to-endpoint", second.Endpoint, .. Keys]);
        Assert.True(exit == 0, error);
        Assert.Contains($"backup done: 1 objects, {expected[MultipartKey].Size} bytes, {expected.Count - 1} skipped", output, StringComparison.Ordinal); // re-uploaded in other parts, another ETag

        (exit, output, error) = await RunAsync(["backup", "--endpoint", first.Endpoint, "--bucket", "origin", "--prefix", "a/", "--to", "s3://subset", "--to-endpoint", second.Endpoint, .. Keys]);
        Assert.True(exit == 0, error);
        Assert.Equal(["a/b/c"], (await ReadBucketAsync(second.Client, "subset")).Keys);

        (exit, output, error) = await RunAsync(["restore", "--from", "s3://offsite", "--from-endpoint", second.Endpoint, "--endpoint", first.Endpoint, "--bucket", "back-home", .. Keys]);
        Assert.True(exit == 0, error);
        Assert.Contains("created bucket back-home", output, StringComparison.Ordinal);
        AssertSame(expected, await ReadBucketAsync(first.Client, "back-home"));
    }

    [Fact]
    public async Task Bad_input_exits_2_and_failures_exit_1_with_the_reason()
    {
        await using var node = await S3Node.StartAsync(cancellationToken: Token);
        using var work = new TempDirectory();

        var (exit, _, error) = await RunAsync(["backup", "--endpoint", node.Endpoint, "--to", work.Path, .. Keys]);
        Assert.Equal((2, "blueprint: --bucket is required"), (exit, error.Trim()));

        (exit, _, error) = await RunAsync(["backup", "--endpoint", "ftp://example", "--bucket", "b", "--to", work.Path, .. Keys]);
        Assert.Equal(2, exit);
        Assert.Contains("--endpoint must be an http:// or https:// URL", error, StringComparison.Ordinal);

        (exit, _, error) = await RunAsync(["backup", "--endpoint", node.Endpoint, "--bucket", "b", "--to", "s3://a/b", .. Keys]);
        Assert.Equal(2, exit);

        (exit, _, error) = await RunAsync(["restore", "--from", work.Path, "--endpoint", node.Endpoint, "--bucket", "b", .. Keys]);
        Assert.Equal(2, exit);
        Assert.Contains("is not a backup directory", error, StringComparison.Ordinal);

        (exit, _, error) = await RunAsync(["backup", "--endpoint", node.Endpoint, "--bucket", "no-such-bucket", "--to", Path.Combine(work.Path, "out"), .. Keys]);
        Assert.Equal(1, exit);
        Assert.Contains("NoSuchBucket", error, StringComparison.Ordinal);

        (exit, _, error) = await RunAsync(["backup", "--endpoint", node.Endpoint, "--bucket", "no-such-bucket", "--to", "s3://elsewhere", .. Keys]);
        Assert.Equal(1, exit);
        Assert.Contains("NoSuchBucket", error, StringComparison.Ordinal);
        Assert.Empty((await node.Client.ListBucketsAsync(Token)).Buckets ?? []);

        (exit, _, error) = await RunAsync(["backup", "--endpoint", node.Endpoint, "--bucket", "no-such-bucket", "--to", work.Path, "--access-key", S3Node.AccessKey, "--secret-key", "wrong"]);
        Assert.Equal(1, exit);
        Assert.Contains("SignatureDoesNotMatch", error, StringComparison.Ordinal);

        var closed = FreePorts.Next();
        (exit, _, error) = await RunAsync(["backup", "--endpoint", $"http://127.0.0.1:{closed}", "--bucket", "b", "--to", work.Path, "--timeout", "2", .. Keys]);
        Assert.Equal(1, exit);
        Assert.StartsWith($"blueprint: cannot reach http://127.0.0.1:{closed}: ", error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("..")]
    [InlineData("../../etc/passwd")]
    [InlineData("/absolute")]
    [InlineData("a/./b/../../c")]
    [InlineData("nul\0byte")]
    [InlineData("back\\slash\\..\\..")]
    [InlineData("%2e%2e/%2F")]
    [InlineData("trailing/")]
    [InlineData("//")]
    public void No_key_maps_to_a_file_outside_the_objects_folder(string key)
    {
        var root = Path.Combine(Path.GetTempPath(), "backup-root", "objects");
        var full = Path.GetFullPath(Path.Combine(root, BackupDirectory.RelativePath(key)));
        Assert.StartsWith(root + Path.DirectorySeparatorChar, full, StringComparison.Ordinal);
        Assert.DoesNotContain('\0', full);
        Assert.EndsWith("~", full, StringComparison.Ordinal);
        Assert.DoesNotContain("/../", full.Replace('\\', '/'), StringComparison.Ordinal);
    }

    [Fact]
    public void Distinct_keys_map_to_distinct_files_that_never_are_each_others_folders()
    {
        string[] keys = ["a", "a/b", "a/b/c", "a~", "a%7E", "a/", "a//b", ".", "%2E", "x/..", "x/%2E%2E", new string('k', 300), new string('k', 301) + "/z", "ключ/ü"];
        var paths = keys.Select(BackupDirectory.RelativePath).ToList();
        Assert.Equal(keys.Length, paths.Distinct(StringComparer.Ordinal).Count());
        foreach (var path in paths)
        {
            Assert.DoesNotContain(paths, other => other.StartsWith(path + Path.DirectorySeparatorChar, StringComparison.Ordinal));
            Assert.All(path.Split(Path.DirectorySeparatorChar), segment => Assert.True(System.Text.Encoding.UTF8.GetByteCount(segment) <= 255, segment));
        }
    }
}
