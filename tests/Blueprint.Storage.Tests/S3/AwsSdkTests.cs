using System.Net;
using System.Security.Cryptography;
using Amazon.S3;
using Amazon.S3.Model;

namespace Blueprint.Storage.Tests.S3;

/// <summary>The AWS SDK for .NET against one node: buckets, objects, ranges, listings, multipart, copies, presigned URLs and errors.</summary>
public sealed class AwsSdkTests
{
    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Buckets_are_created_listed_checked_and_deleted()
    {
        await using var node = await S3Node.StartAsync(cancellationToken: Token);
        var s3 = node.Client;
        await s3.PutBucketAsync("alpha", Token);
        await s3.PutBucketAsync("beta.b-1", Token);

        var listed = await s3.ListBucketsAsync(Token);
        Assert.Equal(["alpha", "beta.b-1"], listed.Buckets.Select(bucket => bucket.BucketName));

        var again = await Assert.ThrowsAnyAsync<AmazonS3Exception>(() => s3.PutBucketAsync("alpha", Token));
        Assert.Equal("BucketAlreadyOwnedByYou", again.ErrorCode);

        await s3.PutObjectAsync(new PutObjectRequest { BucketName = "alpha", Key = "k", ContentBody = "v" }, Token);
        var notEmpty = await Assert.ThrowsAnyAsync<AmazonS3Exception>(() => s3.DeleteBucketAsync("alpha", Token));
        Assert.Equal("BucketNotEmpty", notEmpty.ErrorCode);

        await s3.DeleteBucketAsync("beta.b-1", Token);
        var missing = await Assert.ThrowsAnyAsync<AmazonS3Exception>(() => s3.ListObjectsV2Async(new ListObjectsV2Request { BucketName = "beta.b-1" }, Token));
        Assert.Equal("NoSuchBucket", missing.ErrorCode);
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(65_536)]
    [InlineData(65_537)]
    [InlineData(1_048_579)]
    public async Task An_object_comes_back_byte_for_byte_with_its_etag_and_metadata(int size)
    {
        await using var node = await S3Node.StartAsync(cancellationToken: Token);
        var s3 = node.Client;
        await s3.PutBucketAsync("data", Token);
        var bytes = RandomBytes(size, seed: size);

        var put = new PutObjectRequest { BucketName = "data", Key = "dir/file name+ü.bin", InputStream = new MemoryStream(bytes), ContentType = "application/x-test" };
        put.Metadata.Add("colour", "blue");
        var stored = await s3.PutObjectAsync(put, Token);
        var md5 = Convert.ToHexStringLower(Md5(bytes));
        Assert.Equal($"\"{md5}\"", stored.ETag);

        using var got = await s3.GetObjectAsync("data", "dir/file name+ü.bin", Token);
        Assert.Equal(bytes, await ReadAllAsync(got.ResponseStream));
        Assert.Equal($"\"{md5}\"", got.ETag);
        Assert.Equal("application/x-test", got.Headers.ContentType);
        Assert.Equal("blue", got.Metadata["colour"]);
        Assert.Equal(size, got.ContentLength);

        var head = await s3.GetObjectMetadataAsync("data", "dir/file name+ü.bin", Token);
        Assert.Equal(size, head.ContentLength);
        Assert.Equal("blue", head.Metadata["colour"]);
    }

    [Theory]
    [InlineData(0, 0)]
    [InlineData(65_530, 65_541)]
    [InlineData(131_072, 199_999)]
    [InlineData(5, 199_999)]
    public async Task A_range_returns_exactly_those_bytes(long first, long last)
    {
        await using var node = await S3Node.StartAsync(cancellationToken: Token);
        var s3 = node.Client;
        await s3.PutBucketAsync("ranges", Token);
        var bytes = RandomBytes(200_000, seed: 7);
        await s3.PutObjectAsync(new PutObjectRequest { BucketName = "ranges", Key = "r", InputStream = new MemoryStream(bytes) }, Token);

        using var got = await s3.GetObjectAsync(new GetObjectRequest { BucketName = "ranges", Key = "r", ByteRange = new ByteRange(first, last) }, Token);
        Assert.Equal(HttpStatusCode.PartialContent, got.HttpStatusCode);
        Assert.Equal(bytes[(int)first..(int)(last + 1)], await ReadAllAsync(got.ResponseStream));
        Assert.Equal($"bytes {first}-{last}/200000", got.ContentRange);

        var beyond = await Assert.ThrowsAnyAsync<AmazonS3Exception>(() => s3.GetObjectAsync(new GetObjectRequest { BucketName = "ranges", Key = "r", ByteRange = new ByteRange(200_000, 200_010) }, Token));
        Assert.Equal("InvalidRange", beyond.ErrorCode);
    }

    [Fact]
    public async Task Listing_pages_through_keys_and_rolls_up_common_prefixes()
    {
        await using var node = await S3Node.StartAsync(cancellationToken: Token);
        var s3 = node.Client;
        await s3.PutBucketAsync("list", Token);
        string[] keys = ["a/1", "a/2", "a/b/3", "b/1", "c", "d", "e/f/g", "é"];
        foreach (var key in keys)
        {
            await s3.PutObjectAsync(new PutObjectRequest { BucketName = "list", Key = key, ContentBody = key }, Token);
        }

        List<string> all = [];
        string? token = null;
        var pages = 0;
        do
        {
            var page = await s3.ListObjectsV2Async(new ListObjectsV2Request { BucketName = "list", MaxKeys = 3, ContinuationToken = token }, Token);
            all.AddRange(page.S3Objects.Select(entry => entry.Key));
            token = page.IsTruncated == true ? page.NextContinuationToken : null;
            pages++;
        }
        while (token is not null);
        Assert.Equal(keys, all);
        Assert.Equal(3, pages);

        var rolled = await s3.ListObjectsV2Async(new ListObjectsV2Request { BucketName = "list", Delimiter = "/" }, Token);
        Assert.Equal(["c", "d", "é"], rolled.S3Objects.Select(entry => entry.Key));
        Assert.Equal(["a/", "b/", "e/"], rolled.CommonPrefixes);

        var under = await s3.ListObjectsV2Async(new ListObjectsV2Request { BucketName = "list", Prefix = "a/", Delimiter = "/" }, Token);
        Assert.Equal(["a/1", "a/2"], under.S3Objects.Select(entry => entry.Key));
        Assert.Equal(["a/b/"], under.CommonPrefixes);

        List<string> rolledPaged = [];
        token = null;
        do
        {
            var page = await s3.ListObjectsV2Async(new ListObjectsV2Request { BucketName = "list", Delimiter = "/", MaxKeys = 2, ContinuationToken = token }, Token);
            rolledPaged.AddRange(page.CommonPrefixes ?? []);
            rolledPaged.AddRange(page.S3Objects?.Select(entry => entry.Key) ?? []);
            token = page.IsTruncated == true ? page.NextContinuationToken : null;
        }
        while (token is not null);
        Assert.Equal(["a/", "b/", "c", "d", "e/", "é"], rolledPaged.Order(StringComparer.Ordinal));
        Assert.Equal(6, rolledPaged.Count);

        var v1 = await s3.ListObjectsAsync(new ListObjectsRequest { BucketName = "list", Prefix = "a/" }, Token);
        Assert.Equal(["a/1", "a/2", "a/b/3"], v1.S3Objects.Select(entry => entry.Key));
    }

    [Fact]
    public async Task A_multipart_upload_joins_its_parts_under_s3s_etag()
    {
        await using var node = await S3Node.StartAsync(cancellationToken: Token);
        var s3 = node.Client;
        await s3.PutBucketAsync("multi", Token);
        var started = await s3.InitiateMultipartUploadAsync(new InitiateMultipartUploadRequest { BucketName = "multi", Key = "big", ContentType = "video/x-test" }, Token);
        byte[][] parts = [RandomBytes(70_000, 1), RandomBytes(2_000, 2), RandomBytes(100, 3)];
        List<PartETag> etags = [];
        for (var i = 0; i < parts.Length; i++)
        {
            var uploaded = await s3.UploadPartAsync(new UploadPartRequest { BucketName = "multi", Key = "big", UploadId = started.UploadId, PartNumber = i + 1, InputStream = new MemoryStream(parts[i]) }, Token);
            etags.Add(new PartETag(i + 1, uploaded.ETag));
        }

        var listed = await s3.ListPartsAsync(new ListPartsRequest { BucketName = "multi", Key = "big", UploadId = started.UploadId }, Token);
        Assert.Equal([70_000L, 2_000L, 100L], listed.Parts.Select(part => part.Size ?? 0));

        var done = await s3.CompleteMultipartUploadAsync(new CompleteMultipartUploadRequest { BucketName = "multi", Key = "big", UploadId = started.UploadId, PartETags = etags }, Token);
        var expected = Convert.ToHexStringLower(Md5(parts.SelectMany(part => Md5(part)).ToArray())) + "-3";
        Assert.Equal($"\"{expected}\"", done.ETag);

        using var got = await s3.GetObjectAsync("multi", "big", Token);
        Assert.Equal(parts.SelectMany(part => part).ToArray(), await ReadAllAsync(got.ResponseStream));
        Assert.Equal("video/x-test", got.Headers.ContentType);

        using var middle = await s3.GetObjectAsync(new GetObjectRequest { BucketName = "multi", Key = "big", ByteRange = new ByteRange(69_990, 72_009) }, Token);
        Assert.Equal(parts.SelectMany(part => part).ToArray()[69_990..72_010], await ReadAllAsync(middle.ResponseStream));

        var gone = await Assert.ThrowsAnyAsync<AmazonS3Exception>(() => s3.ListPartsAsync(new ListPartsRequest { BucketName = "multi", Key = "big", UploadId = started.UploadId }, Token));
        Assert.Equal("NoSuchUpload", gone.ErrorCode);
    }

    [Fact]
    public async Task A_multipart_upload_is_refused_with_a_small_middle_part_or_a_wrong_etag_and_can_be_aborted()
    {
        await using var node = await S3Node.StartAsync(cancellationToken: Token);
        var s3 = node.Client;
        await s3.PutBucketAsync("multi", Token);
        var started = await s3.InitiateMultipartUploadAsync("multi", "k", Token);
        var one = await s3.UploadPartAsync(new UploadPartRequest { BucketName = "multi", Key = "k", UploadId = started.UploadId, PartNumber = 1, InputStream = new MemoryStream(RandomBytes(10, 1)) }, Token);
        var two = await s3.UploadPartAsync(new UploadPartRequest { BucketName = "multi", Key = "k", UploadId = started.UploadId, PartNumber = 2, InputStream = new MemoryStream(RandomBytes(10, 2)) }, Token);

        var small = await Assert.ThrowsAnyAsync<AmazonS3Exception>(() => s3.CompleteMultipartUploadAsync(new CompleteMultipartUploadRequest { BucketName = "multi", Key = "k", UploadId = started.UploadId, PartETags = [new(1, one.ETag), new(2, two.ETag)] }, Token));
        Assert.Equal("EntityTooSmall", small.ErrorCode);
        var wrong = await Assert.ThrowsAnyAsync<AmazonS3Exception>(() => s3.CompleteMultipartUploadAsync(new CompleteMultipartUploadRequest { BucketName = "multi", Key = "k", UploadId = started.UploadId, PartETags = [new(1, two.ETag)] }, Token));
        Assert.Equal("InvalidPart", wrong.ErrorCode);

        await s3.AbortMultipartUploadAsync("multi", "k", started.UploadId, Token);
        var missing = await Assert.ThrowsAnyAsync<AmazonS3Exception>(() => s3.GetObjectAsync("multi", "k", Token));
        Assert.Equal("NoSuchKey", missing.ErrorCode);
        var uploads = await s3.ListMultipartUploadsAsync("multi", Token);
        Assert.Empty(uploads.MultipartUploads ?? []);
    }

    [Fact]
    public async Task Copies_keep_or_replace_metadata_and_batch_deletes_remove_exactly_the_named_keys()
    {
        await using var node = await S3Node.StartAsync(cancellationToken: Token);
        var s3 = node.Client;
        await s3.PutBucketAsync("src", Token);
        await s3.PutBucketAsync("dst", Token);
        var bytes = RandomBytes(150_000, 9);
        var put = new PutObjectRequest { BucketName = "src", Key = "a", InputStream = new MemoryStream(bytes) };
        put.Metadata.Add("tag", "one");
        await s3.PutObjectAsync(put, Token);

        var copied = await s3.CopyObjectAsync(new CopyObjectRequest { SourceBucket = "src", SourceKey = "a", DestinationBucket = "dst", DestinationKey = "b" }, Token);
        Assert.Equal($"\"{Convert.ToHexStringLower(Md5(bytes))}\"", copied.ETag);
        using (var got = await s3.GetObjectAsync("dst", "b", Token))
        {
            Assert.Equal(bytes, await ReadAllAsync(got.ResponseStream));
            Assert.Equal("one", got.Metadata["tag"]);
        }

        var replace = new CopyObjectRequest { SourceBucket = "src", SourceKey = "a", DestinationBucket = "src", DestinationKey = "a", MetadataDirective = S3MetadataDirective.REPLACE };
        replace.Metadata.Add("tag", "two");
        await s3.CopyObjectAsync(replace, Token);
        Assert.Equal("two", (await s3.GetObjectMetadataAsync("src", "a", Token)).Metadata["tag"]);

        foreach (var key in (string[])["x1", "x2", "x3"])
        {
            await s3.PutObjectAsync(new PutObjectRequest { BucketName = "dst", Key = key, ContentBody = key }, Token);
        }

        var deleted = await s3.DeleteObjectsAsync(new DeleteObjectsRequest { BucketName = "dst", Objects = [new KeyVersion { Key = "x1" }, new KeyVersion { Key = "x3" }, new KeyVersion { Key = "never" }] }, Token);
        Assert.Equal(["never", "x1", "x3"], deleted.DeletedObjects.Select(entry => entry.Key).Order(StringComparer.Ordinal));
        var left = await s3.ListObjectsV2Async(new ListObjectsV2Request { BucketName = "dst" }, Token);
        Assert.Equal(["b", "x2"], left.S3Objects.Select(entry => entry.Key));
    }

    [Fact]
    public async Task A_presigned_url_works_for_anyone_until_it_expires()
    {
        await using var node = await S3Node.StartAsync(cancellationToken: Token);
        var s3 = node.Client;
        await s3.PutBucketAsync("share", Token);
        await s3.PutObjectAsync(new PutObjectRequest { BucketName = "share", Key = "report.txt", ContentBody = "quarterly" }, Token);

        var url = await s3.GetPreSignedURLAsync(new GetPreSignedUrlRequest { BucketName = "share", Key = "report.txt", Verb = HttpVerb.GET, Expires = DateTime.UtcNow.AddMinutes(5), Protocol = Protocol.HTTP });
        using var http = new HttpClient();
        Assert.Equal("quarterly", await http.GetStringAsync(new Uri(url), Token));

        var tampered = url.Replace("report.txt", "report.TXT", StringComparison.Ordinal);
        using var refused = await http.GetAsync(new Uri(tampered), Token);
        Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
        Assert.Contains("<Code>SignatureDoesNotMatch</Code>", await refused.Content.ReadAsStringAsync(Token), StringComparison.Ordinal);

        var putUrl = await s3.GetPreSignedURLAsync(new GetPreSignedUrlRequest { BucketName = "share", Key = "upload.txt", Verb = HttpVerb.PUT, Expires = DateTime.UtcNow.AddMinutes(5), Protocol = Protocol.HTTP });
        using (var uploaded = await http.PutAsync(new Uri(putUrl), new StringContent("from a browser"), Token))
        {
            Assert.Equal(HttpStatusCode.OK, uploaded.StatusCode);
        }

        using var got = await s3.GetObjectAsync("share", "upload.txt", Token);
        Assert.Equal("from a browser", await new StreamReader(got.ResponseStream).ReadToEndAsync(Token));
    }

    [Fact]
    public async Task Requests_signed_with_a_wrong_secret_or_unknown_key_or_none_are_refused()
    {
        await using var node = await S3Node.StartAsync(cancellationToken: Token);
        await node.Client.PutBucketAsync("locked", Token);

        using var wrongSecret = S3Node.CreateClient(node.Port, S3Node.AccessKey, "not-the-secret-at-all-000000000000000000");
        var mismatch = await Assert.ThrowsAnyAsync<AmazonS3Exception>(() => wrongSecret.ListObjectsV2Async(new ListObjectsV2Request { BucketName = "locked" }, Token));
        Assert.Equal("SignatureDoesNotMatch", mismatch.ErrorCode);

        using var unknown = S3Node.CreateClient(node.Port, "BPNOSUCHKEY000000000", S3Node.SecretKey);
        var unknownKey = await Assert.ThrowsAnyAsync<AmazonS3Exception>(() => unknown.ListObjectsV2Async(new ListObjectsV2Request { BucketName = "locked" }, Token));
        Assert.Equal("InvalidAccessKeyId", unknownKey.ErrorCode);

        using var http = new HttpClient();
        using var anonymous = await http.GetAsync(new Uri($"{node.Endpoint}/locked"), Token);
        Assert.Equal(HttpStatusCode.Forbidden, anonymous.StatusCode);
        Assert.Contains("<Code>AccessDenied</Code>", await anonymous.Content.ReadAsStringAsync(Token), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_wrong_content_md5_is_refused_and_leaves_the_previous_object()
    {
        await using var node = await S3Node.StartAsync(cancellationToken: Token);
        var s3 = node.Client;
        await s3.PutBucketAsync("md5", Token);
        await s3.PutObjectAsync(new PutObjectRequest { BucketName = "md5", Key = "k", ContentBody = "first" }, Token);

        var bad = new PutObjectRequest { BucketName = "md5", Key = "k", ContentBody = "second", MD5Digest = Convert.ToBase64String(Md5("other"u8)) };
        var refused = await Assert.ThrowsAnyAsync<AmazonS3Exception>(() => s3.PutObjectAsync(bad, Token));
        Assert.Equal("BadDigest", refused.ErrorCode);

        using var got = await s3.GetObjectAsync("md5", "k", Token);
        Assert.Equal("first", await new StreamReader(got.ResponseStream).ReadToEndAsync(Token));
    }

    /// <summary>S3's ETag is an MD5 by protocol; nothing here relies on MD5 for security.</summary>
#pragma warning disable CA5351
    internal static byte[] Md5(ReadOnlySpan<byte> bytes) => MD5.HashData(bytes);
#pragma warning restore CA5351

    internal static byte[] RandomBytes(int size, int seed)
    {
        var bytes = new byte[size];
        new Random(seed).NextBytes(bytes);
        return bytes;
    }

    internal static async Task<byte[]> ReadAllAsync(Stream stream)
    {
        using var buffer = new MemoryStream();
        await stream.CopyToAsync(buffer, TestContext.Current.CancellationToken);
        return buffer.ToArray();
    }
}
