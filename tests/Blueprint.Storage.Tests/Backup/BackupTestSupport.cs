using System.CommandLine;
using System.Security.Cryptography;
using Amazon.S3;
using Amazon.S3.Model;
using Blueprint.Storage.Backup;
using Blueprint.Storage.Tests.S3;

namespace Blueprint.Storage.Tests.Backup;

/// <summary>An object as a test expects to read it back: its bytes' SHA-256, content type and user metadata.</summary>
internal sealed record ExpectedObject(string Sha256, long Size, string ContentType, IReadOnlyDictionary<string, string> Metadata, string? CacheControl);

/// <summary>A bucket worth backing up, the backup and restore verbs run in-process, and comparisons of buckets.</summary>
internal static class BackupTestSupport
{
    /// <summary>Small sizes, so that a test's objects cross the multipart threshold: 256 KiB, parts of 100 KiB.</summary>
    public static readonly TransferOptions SmallParts = new() { MultipartThreshold = 256 * 1024, PartSize = 100 * 1024, ProgressEvery = 3 };

    public const string MultipartKey = "multi/part.bin";

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    /// <summary>
    /// Creates <paramref name="bucket"/> with: a small text object with metadata, one of 200 KiB, a 330 KiB one uploaded in
    /// three parts (above the test threshold, so restore uploads it in parts too), an empty one, keys with spaces,
    /// unicode, '+', '%', '~' and slashes, and keys "a" and "a/b/c" (a file and a folder of the same name on disk).
    /// </summary>
    public static async Task FillAsync(IAmazonS3 s3, string bucket)
    {
        await s3.PutBucketAsync(bucket, Token);
        async Task Put(string key, byte[] bytes, string contentType, params (string Name, string Value)[] metadata)
        {
            var put = new PutObjectRequest { BucketName = bucket, Key = key, InputStream = new MemoryStream(bytes), ContentType = contentType };
            foreach (var (name, value) in metadata)
            {
                put.Metadata.Add(name, value);
            }

            if (key == "big/over-64k.bin")
            {
                put.Headers.CacheControl = "max-age=60";
            }

            await s3.PutObjectAsync(put, Token);
        }

        await Put("small.txt", "hello, backup"u8.ToArray(), "text/plain", ("owner", "ann"), ("note", "two words"));
        await Put("big/over-64k.bin", AwsSdkTests.RandomBytes(200 * 1024, seed: 11), "application/x-big");
        await Put("empty", [], "application/x-empty");
        await Put("dir with spaces/ünïcödé ключ.txt", "unicode"u8.ToArray(), "text/plain; charset=utf-8", ("lang", "many"));
        await Put("odd+chars%41~tilde=eq&amp.txt", "odd"u8.ToArray(), "text/plain");
        await Put("a", "a file"u8.ToArray(), "text/plain");
        await Put("a/b/c", "a deeper file"u8.ToArray(), "text/plain");
        await Put("trailing/", [], "application/x-directory");

        var started = await s3.InitiateMultipartUploadAsync(new InitiateMultipartUploadRequest { BucketName = bucket, Key = MultipartKey, ContentType = "video/x-test" }, Token);
        List<PartETag> etags = [];
        for (var part = 1; part <= 3; part++)
        {
            var bytes = AwsSdkTests.RandomBytes(part == 3 ? 30 * 1024 : 150 * 1024, seed: 100 + part);
            var uploaded = await s3.UploadPartAsync(new UploadPartRequest { BucketName = bucket, Key = MultipartKey, UploadId = started.UploadId, PartNumber = part, InputStream = new MemoryStream(bytes) }, Token);
            etags.Add(new PartETag(part, uploaded.ETag));
        }

        await s3.CompleteMultipartUploadAsync(new CompleteMultipartUploadRequest { BucketName = bucket, Key = MultipartKey, UploadId = started.UploadId, PartETags = etags }, Token);
    }

    /// <summary>Every object of <paramref name="bucket"/>, read back in full, by key.</summary>
    public static async Task<SortedDictionary<string, ExpectedObject>> ReadBucketAsync(IAmazonS3 s3, string bucket)
    {
        SortedDictionary<string, ExpectedObject> objects = new(StringComparer.Ordinal);
        string? token = null;
        do
        {
            var page = await s3.ListObjectsV2Async(new ListObjectsV2Request { BucketName = bucket, ContinuationToken = token, MaxKeys = 4 }, Token);
            foreach (var listed in page.S3Objects ?? [])
            {
                using var got = await s3.GetObjectAsync(bucket, listed.Key, Token);
                var bytes = await AwsSdkTests.ReadAllAsync(got.ResponseStream);
                var metadata = got.Metadata.Keys.ToDictionary(name => name.Replace("x-amz-meta-", "", StringComparison.Ordinal), name => got.Metadata[name], StringComparer.Ordinal);
                objects[listed.Key] = new ExpectedObject(Convert.ToHexStringLower(SHA256.HashData(bytes)), bytes.Length, got.Headers.ContentType, metadata, got.Headers.CacheControl);
            }

            token = page.IsTruncated == true ? page.NextContinuationToken : null;
        }
        while (token is not null);
        return objects;
    }

    /// <summary>Asserts both maps hold the same keys with the same bytes, content types, metadata and cache control.</summary>
    public static void AssertSame(SortedDictionary<string, ExpectedObject> expected, SortedDictionary<string, ExpectedObject> actual)
    {
        Assert.Equal(expected.Keys, actual.Keys);
        foreach (var (key, want) in expected)
        {
            var got = actual[key];
            Assert.True(want.Sha256 == got.Sha256 && want.Size == got.Size, $"{key}: {got.Size} bytes {got.Sha256}, expected {want.Size} bytes {want.Sha256}");
            Assert.Equal(want.ContentType, got.ContentType);
            Assert.Equal(want.CacheControl, got.CacheControl);
            Assert.Equal(want.Metadata.OrderBy(p => p.Key, StringComparer.Ordinal), got.Metadata.OrderBy(p => p.Key, StringComparer.Ordinal));
        }
    }

    /// <summary>Runs <c>storage backup|restore ARGS</c> in-process through the verbs' own code (with <see cref="SmallParts"/>).</summary>
    public static async Task<(int Exit, string Output, string Error)> RunAsync(params string[] args)
    {
        var storage = new Command("storage") { BackupCommand.CreateBackup(SmallParts), BackupCommand.CreateRestore(SmallParts) };
        var root = new RootCommand { storage };
        using var output = new StringWriter();
        using var error = new StringWriter();
        var parse = root.Parse(["storage", .. args]);
        Assert.Empty(parse.Errors);
        var exit = await parse.InvokeAsync(new InvocationConfiguration { Output = output, Error = error }, Token);
        return (exit, output.ToString(), error.ToString());
    }

    /// <summary>The credential flags of a test node's root key.</summary>
    public static string[] Keys => ["--access-key", S3Node.AccessKey, "--secret-key", S3Node.SecretKey];
}
