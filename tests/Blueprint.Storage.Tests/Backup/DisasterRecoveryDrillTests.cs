using Blueprint.Storage.Tests.S3;
using static Blueprint.Storage.Tests.Backup.BackupTestSupport;

namespace Blueprint.Storage.Tests.Backup;

/// <summary>The DR drill of docs/storage-dr.md, end to end with the <c>blueprint</c> executable.</summary>
public sealed class DisasterRecoveryDrillTests
{
    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_node_lost_with_its_data_directory_comes_back_from_its_backup()
    {
        using var lostData = new TempDirectory();
        using var backup = new TempDirectory();
        using var work = new TempDirectory();
        var environment = new Dictionary<string, string>
        {
            ["AWS_ACCESS_KEY_ID"] = S3Node.AccessKey,
            ["AWS_SECRET_ACCESS_KEY"] = S3Node.SecretKey,
        };

        // 1. A node with data, backed up by the CLI (credentials from the environment).
        SortedDictionary<string, ExpectedObject> expected;
        var nodeA = await S3Node.StartAsync(lostData.Path, cancellationToken: Token);
        try
        {
            await FillAsync(nodeA.Client, "assets");
            expected = await ReadBucketAsync(nodeA.Client, "assets");
            var output = await BlueprintAsync(work.Path, environment, "storage", "backup", "--endpoint", nodeA.Endpoint, "--bucket", "assets", "--to", backup.Path);
            Assert.Contains($"backup done: {expected.Count} objects", output, StringComparison.Ordinal);
        }
        finally
        {
            await nodeA.DisposeAsync();
        }

        // 2. The disaster: the node and its data directory are gone.
        Directory.Delete(lostData.Path, recursive: true);
        Assert.False(Directory.Exists(lostData.Path));

        // 3. A fresh node, restored from the backup; every object is back as it was.
        await using var fresh = await S3Node.StartAsync(cancellationToken: Token);
        Assert.Empty((await fresh.Client.ListBucketsAsync(Token)).Buckets ?? []);
        var restored = await BlueprintAsync(work.Path, environment, "storage", "restore", "--from", backup.Path, "--endpoint", fresh.Endpoint, "--bucket", "assets");
        Assert.Contains("created bucket assets", restored, StringComparison.Ordinal);
        Assert.Contains($"restore done: {expected.Count} objects", restored, StringComparison.Ordinal);
        AssertSame(expected, await ReadBucketAsync(fresh.Client, "assets"));

        // 4. Verification: a backup of the restored bucket into the same directory finds every ETag as the manifest has
        // it but the multipart object's (restored in one PUT, below the 64 MiB threshold, so its ETag is now an MD5):
        // only that one is fetched again, and checked against its MD5 as it streams.
        var check = await BlueprintAsync(work.Path, environment, "storage", "backup", "--endpoint", fresh.Endpoint, "--bucket", "assets", "--to", backup.Path);
        Assert.Contains($"backup done: 1 objects, {expected[MultipartKey].Size} bytes, {expected.Count - 1} skipped", check, StringComparison.Ordinal);
    }

    private static async Task<string> BlueprintAsync(string workingDirectory, IReadOnlyDictionary<string, string> environment, params string[] arguments)
    {
        await using var process = NodeProcess.Start(arguments, workingDirectory, environment);
        var exit = await process.WaitForExitAsync(TimeSpan.FromMinutes(2));
        Assert.True(exit == 0, $"blueprint {string.Join(' ', arguments)} exited {exit}:\n{process.StandardOutput}\n{process.StandardError}");
        return process.StandardOutput;
    }
}
