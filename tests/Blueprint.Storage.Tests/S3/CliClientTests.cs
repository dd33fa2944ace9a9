using System.Globalization;

namespace Blueprint.Storage.Tests.S3;

/// <summary>Debian's awscli (v2) and s3cmd against one node: the commands users type, files compared byte for byte.</summary>
public sealed class CliClientTests
{
    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Awscli_copies_lists_syncs_and_removes()
    {
        var aws = AwsCli();
        await using var node = await S3Node.StartAsync(cancellationToken: Token);
        using var work = new TempDirectory();
        var environment = AwsEnvironment(work.Path);
        async Task<string> Aws(params string[] arguments) => await RunAsync(aws, ["--endpoint-url", node.Endpoint, .. arguments], environment);

        var small = Path.Combine(work.Path, "small.txt");
        await File.WriteAllTextAsync(small, "hello from awscli", Token);
        var large = Path.Combine(work.Path, "large.bin");
        await File.WriteAllBytesAsync(large, AwsSdkTests.RandomBytes(20 * 1024 * 1024 + 5, seed: 3), Token); // above awscli's 8 MiB multipart threshold
        var tree = Path.Combine(work.Path, "tree");
        Directory.CreateDirectory(Path.Combine(tree, "sub"));
        for (var i = 0; i < 5; i++)
        {
            await File.WriteAllTextAsync(Path.Combine(tree, i % 2 == 0 ? "sub" : "", $"f{i}.txt"), $"file {i}", Token);
        }

        await Aws("s3", "mb", "s3://cli-bucket");
        await Aws("s3", "cp", small, "s3://cli-bucket/docs/small.txt");
        await Aws("s3", "cp", large, "s3://cli-bucket/blobs/large.bin");
        await Aws("s3", "sync", tree, "s3://cli-bucket/tree/");

        var listing = await Aws("s3", "ls", "--recursive", "s3://cli-bucket/");
        foreach (var key in (string[])["docs/small.txt", "blobs/large.bin", "tree/f1.txt", "tree/f3.txt", "tree/sub/f0.txt", "tree/sub/f2.txt", "tree/sub/f4.txt"])
        {
            Assert.Contains(key, listing, StringComparison.Ordinal);
        }

        var top = await Aws("s3", "ls", "s3://cli-bucket/tree/");
        Assert.Contains("PRE sub/", top, StringComparison.Ordinal);

        var back = Path.Combine(work.Path, "back.bin");
        await Aws("s3", "cp", "s3://cli-bucket/blobs/large.bin", back);
        Assert.Equal(await File.ReadAllBytesAsync(large, Token), await File.ReadAllBytesAsync(back, Token));

        var head = await Aws("s3api", "head-object", "--bucket", "cli-bucket", "--key", "blobs/large.bin");
        Assert.Contains("\"ContentLength\": 20971525", head, StringComparison.Ordinal);
        Assert.Contains("-3\\\"", head, StringComparison.Ordinal); // a multipart ETag: three 8 MiB parts

        var secondSync = await Aws("s3", "sync", tree, "s3://cli-bucket/tree/");
        Assert.DoesNotContain("upload:", secondSync, StringComparison.Ordinal); // nothing changed, nothing sent

        await Aws("s3", "rm", "--recursive", "s3://cli-bucket/tree/");
        var left = await Aws("s3api", "list-objects-v2", "--bucket", "cli-bucket", "--query", "Contents[].Key", "--output", "text");
        Assert.Equal(["blobs/large.bin", "docs/small.txt"], left.Split((char[])['\t', '\n'], StringSplitOptions.RemoveEmptyEntries).Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task S3cmd_puts_lists_gets_and_deletes()
    {
        var s3cmd = Peers.Require("s3cmd", "s3cmd");
        await using var node = await S3Node.StartAsync(cancellationToken: Token);
        using var work = new TempDirectory();
        var config = Path.Combine(work.Path, "s3cfg");
        await File.WriteAllTextAsync(config, string.Create(CultureInfo.InvariantCulture, $"""
            [default]
            access_key = {S3Node.AccessKey}
            secret_key = {S3Node.SecretKey}
            host_base = 127.0.0.1:{node.Port}
            host_bucket = 127.0.0.1:{node.Port}
            use_https = False
            signature_v2 = False
            bucket_location = us-east-1
            check_ssl_certificate = False
            """), Token);
        var environment = new Dictionary<string, string> { ["HOME"] = work.Path };
        async Task<string> S3cmd(params string[] arguments) => await RunAsync(s3cmd, ["-c", config, .. arguments], environment);

        var file = Path.Combine(work.Path, "notes.txt");
        await File.WriteAllTextAsync(file, "hello from s3cmd", Token);
        var big = Path.Combine(work.Path, "big.bin");
        await File.WriteAllBytesAsync(big, AwsSdkTests.RandomBytes(12 * 1024 * 1024, seed: 5), Token);

        await S3cmd("mb", "s3://cmd-bucket");
        await S3cmd("put", file, "s3://cmd-bucket/notes.txt");
        await S3cmd("put", "--multipart-chunk-size-mb=5", big, "s3://cmd-bucket/big.bin");
        var listing = await S3cmd("ls", "s3://cmd-bucket");
        Assert.Contains("s3://cmd-bucket/notes.txt", listing, StringComparison.Ordinal);
        Assert.Contains("s3://cmd-bucket/big.bin", listing, StringComparison.Ordinal);

        var back = Path.Combine(work.Path, "big.back");
        await S3cmd("get", "s3://cmd-bucket/big.bin", back);
        Assert.Equal(await File.ReadAllBytesAsync(big, Token), await File.ReadAllBytesAsync(back, Token));

        await S3cmd("del", "s3://cmd-bucket/notes.txt");
        var after = await S3cmd("ls", "s3://cmd-bucket");
        Assert.DoesNotContain("notes.txt", after, StringComparison.Ordinal);
        Assert.Contains("big.bin", after, StringComparison.Ordinal);
    }

    /// <summary>awscli's environment for the test key, with no configuration file of the machine's in the way.</summary>
    internal static Dictionary<string, string> AwsEnvironment(string home) => new()
    {
        ["AWS_ACCESS_KEY_ID"] = S3Node.AccessKey,
        ["AWS_SECRET_ACCESS_KEY"] = S3Node.SecretKey,
        ["AWS_DEFAULT_REGION"] = "us-east-1",
        ["AWS_CONFIG_FILE"] = Path.Combine(home, "none"),
        ["AWS_SHARED_CREDENTIALS_FILE"] = Path.Combine(home, "none"),
        ["AWS_PAGER"] = "",
        ["HOME"] = home,
    };

    /// <summary>Debian's awscli v2 (which another aws on the PATH may shadow), else whatever provides <c>aws</c>.</summary>
    internal static string AwsCli() => File.Exists("/usr/bin/aws") ? "/usr/bin/aws" : Peers.Require("aws", "awscli");

    internal static async Task<string> RunAsync(string binary, IEnumerable<string> arguments, IReadOnlyDictionary<string, string> environment)
    {
        var list = arguments.ToList();
        await using var process = ProcessRunner.Start(binary, list, environment: environment);
        var exit = await process.WaitForExitAsync(TimeSpan.FromMinutes(2));
        Assert.True(exit == 0, $"{Path.GetFileName(binary)} {string.Join(' ', list)} exited {exit}:\n{process.StandardOutput}\n{process.StandardError}");
        return process.StandardOutput;
    }
}
