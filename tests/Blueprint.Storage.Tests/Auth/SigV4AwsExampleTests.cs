using System.Text;
using Blueprint.Storage.Auth;
using Blueprint.Storage.S3;
using Microsoft.AspNetCore.Http;
using static Blueprint.Storage.Tests.Auth.SigV4TestSupport;

namespace Blueprint.Storage.Tests.Auth;

/// <summary>The worked examples of the S3 API reference's SigV4 pages, verified as they are printed there.</summary>
public sealed class SigV4AwsExampleTests
{
    private const string EmptyHash = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
    private const string ChunkedSeed = "4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9";

    internal static HttpRequest GetObjectWithRange(string rawTarget = "/test.txt", string range = "bytes=0-9") =>
        Request("GET", rawTarget,
        [
            ("Host", "examplebucket.s3.amazonaws.com"),
            ("Range", range),
            ("x-amz-content-sha256", EmptyHash),
            ("x-amz-date", Timestamp),
            ("Authorization", $"AWS4-HMAC-SHA256 Credential={AccessKey}/{Scope},SignedHeaders=host;range;x-amz-content-sha256;x-amz-date,Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41"),
        ]);

    internal static HttpRequest ListObjects(string rawTarget = "/?max-keys=2&prefix=J") =>
        Request("GET", rawTarget,
        [
            ("Host", "examplebucket.s3.amazonaws.com"),
            ("x-amz-content-sha256", EmptyHash),
            ("x-amz-date", Timestamp),
            ("Authorization", $"AWS4-HMAC-SHA256 Credential={AccessKey}/{Scope}, SignedHeaders=host;x-amz-content-sha256;x-amz-date, Signature=34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7"),
        ]);

    internal static HttpRequest PresignedGet(string rawTarget = "/test.txt?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host&X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404") =>
        Request("GET", rawTarget, [("Host", "examplebucket.s3.amazonaws.com")]);

    internal static HttpRequest PutObject(byte[] body) =>
        Request("PUT", "/test%24file.text",
        [
            ("Host", "examplebucket.s3.amazonaws.com"),
            ("Date", "Fri, 24 May 2013 00:00:00 GMT"),
            ("x-amz-date", Timestamp),
            ("x-amz-storage-class", "REDUCED_REDUNDANCY"),
            ("x-amz-content-sha256", "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072"),
            ("Authorization", $"AWS4-HMAC-SHA256 Credential={AccessKey}/{Scope},SignedHeaders=date;host;x-amz-content-sha256;x-amz-date;x-amz-storage-class,Signature=98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd"),
        ], body);

    /// <summary>The chunked upload example: 66560 bytes of 'a' in a 65536-byte chunk, a 1024-byte chunk and the final one.</summary>
    internal static HttpRequest ChunkedPut(byte[] body) =>
        Request("PUT", "/examplebucket/chunkObject.txt",
        [
            ("Host", "s3.amazonaws.com"),
            ("x-amz-date", Timestamp),
            ("x-amz-storage-class", "REDUCED_REDUNDANCY"),
            ("x-amz-content-sha256", "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"),
            ("Content-Encoding", "aws-chunked"),
            ("x-amz-decoded-content-length", "66560"),
            ("Content-Length", "66824"),
            ("Authorization", $"AWS4-HMAC-SHA256 Credential={AccessKey}/{Scope},SignedHeaders=content-encoding;content-length;host;x-amz-content-sha256;x-amz-date;x-amz-decoded-content-length;x-amz-storage-class,Signature={ChunkedSeed}"),
        ], body);

    internal static byte[] ChunkedBody()
    {
        var body = new MemoryStream();
        body.Write("10000;chunk-signature=ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648\r\n"u8);
        body.Write(Enumerable.Repeat((byte)'a', 65536).ToArray());
        body.Write("\r\n400;chunk-signature=0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497\r\n"u8);
        body.Write(Enumerable.Repeat((byte)'a', 1024).ToArray());
        body.Write("\r\n0;chunk-signature=b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9\r\n\r\n"u8);
        return body.ToArray();
    }

    [Fact]
    public void GetObjectWithRangeIsVerified()
    {
        SigV4Context? context = Verifier(ExampleTime).Verify(GetObjectWithRange());

        Assert.NotNull(context);
        Assert.Equal(AccessKey, context.AccessKey);
        Assert.Equal(Scope, context.Scope);
        Assert.Equal(Timestamp, context.Timestamp);
        Assert.Equal(EmptyHash, context.ContentSha256);
        Assert.False(context.IsPresigned);
    }

    [Fact]
    public async Task PutObjectIsVerifiedAndItsBodyHashChecked()
    {
        byte[] body = "Welcome to Amazon S3."u8.ToArray();
        HttpRequest request = PutObject(body);

        SigV4Context? context = Verifier(ExampleTime).Verify(request);
        (Stream stream, long? length) = SigV4Payload.Open(request, context);

        Assert.Equal(body.Length, length);
        Assert.Equal(body, await ReadAllAsync(stream));
    }

    [Fact]
    public void GetBucketLifecycleIsVerified()
    {
        HttpRequest request = Request("GET", "/?lifecycle",
        [
            ("Host", "examplebucket.s3.amazonaws.com"),
            ("x-amz-date", Timestamp),
            ("x-amz-content-sha256", EmptyHash),
            ("Authorization", $"AWS4-HMAC-SHA256 Credential={AccessKey}/{Scope},SignedHeaders=host;x-amz-content-sha256;x-amz-date,Signature=fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543"),
        ]);

        Assert.Equal(AccessKey, Verifier(ExampleTime).Verify(request)?.AccessKey);
    }

    [Fact]
    public void ListObjectsIsVerifiedWithSpacesAfterTheCommas()
    {
        Assert.Equal(AccessKey, Verifier(ExampleTime).Verify(ListObjects())?.AccessKey);
    }

    [Fact]
    public void QueryParametersInAnotherOrderAreTheSameCanonicalQuery()
    {
        Assert.Equal(AccessKey, Verifier(ExampleTime).Verify(ListObjects("/?prefix=J&max-keys=2"))?.AccessKey);
    }

    [Fact]
    public void PresignedGetIsVerifiedWithinItsLifetime()
    {
        SigV4Context? context = Verifier(ExampleTime.AddHours(23)).Verify(PresignedGet());

        Assert.NotNull(context);
        Assert.True(context.IsPresigned);
        Assert.Equal("UNSIGNED-PAYLOAD", context.ContentSha256);
        Assert.Equal("aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404", context.Signature);
    }

    [Fact]
    public async Task ChunkedUploadIsDecodedAndEveryChunkSignatureChecked()
    {
        HttpRequest request = ChunkedPut(ChunkedBody());

        SigV4Context? context = Verifier(ExampleTime).Verify(request);
        Assert.NotNull(context);
        Assert.Equal(ChunkedSeed, context.Signature);
        Assert.Equal("STREAMING-AWS4-HMAC-SHA256-PAYLOAD", context.ContentSha256);

        (Stream body, long? length) = SigV4Payload.Open(request, context);
        byte[] decoded = await ReadAllAsync(body);

        Assert.Equal(66560, length);
        Assert.Equal(66560, decoded.Length);
        Assert.All(decoded, b => Assert.Equal((byte)'a', b));
    }

    [Fact]
    public void ChunkedUploadSynchronousReadsDecodeTheSame()
    {
        HttpRequest request = ChunkedPut(ChunkedBody());
        (Stream body, _) = SigV4Payload.Open(request, Verifier(ExampleTime).Verify(request));

        using var copy = new MemoryStream();
        body.CopyTo(copy);

        Assert.Equal(66560, copy.Length);
    }

    [Fact]
    public void ChunkSignatureOfTheFirstChunkMatchesTheExample()
    {
        // The independent test signer reproduces the example's chain, so the tampering tests build on a sound base.
        byte[] body = Chunked(Enumerable.Repeat((byte)'a', 66560).ToArray(), 65536, ChunkedSeed);

        Assert.Equal(ChunkedBody(), body);
    }

    [Fact]
    public void SignatureVersion2IsRefusedClearly()
    {
        HttpRequest request = Request("GET", "/test.txt", [("Host", "examplebucket.s3.amazonaws.com"), ("Date", "Fri, 24 May 2013 00:00:00 GMT"), ("Authorization", "AWS AKIAIOSFODNN7EXAMPLE:frJIUN8DYpKDtOLCwo//yllqDzg=")]);

        S3Exception e = Refused(() => Verifier(ExampleTime).Verify(request));

        Assert.Equal("InvalidRequest", e.Code);
        Assert.Equal(400, e.Status);
        Assert.Contains("Signature Version 2 is not supported", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void PresignedSignatureVersion2IsRefusedClearly()
    {
        HttpRequest request = Request("GET", "/test.txt?AWSAccessKeyId=AKIAIOSFODNN7EXAMPLE&Expires=1369353600&Signature=abc%3D", [("Host", "examplebucket.s3.amazonaws.com")]);

        Assert.Equal("InvalidRequest", Refused(() => Verifier(ExampleTime).Verify(request)).Code);
    }

    [Fact]
    public void AnonymousRequestIsNull()
    {
        HttpRequest request = Request("GET", "/test.txt?versionId=1", [("Host", "examplebucket.s3.amazonaws.com")]);

        Assert.Null(Verifier(ExampleTime).Verify(request));
    }

    [Fact]
    public void TheCanonicalEncodingIsRfc3986()
    {
        Assert.Equal("a%20b%2Bc%2F~~-_.%C3%BC", SigV4.UriEncode("a+b%2bc%2F%7e~-_.ü", keepSlash: false, plusIsSpace: true));
        Assert.Equal("/b/a%20b/c%2Fd/%21", SigV4.UriEncode("/b/a b/c%2Fd/!", keepSlash: true, plusIsSpace: false));
        Assert.Equal("a%2Bb", SigV4.UriEncode("a+b", keepSlash: true, plusIsSpace: false));
        Assert.Equal("100%25", SigV4.UriEncode("100%", keepSlash: false, plusIsSpace: true));
        Assert.Equal(Encoding.UTF8.GetBytes("€"), Convert.FromHexString(SigV4.UriEncode("€", keepSlash: false, plusIsSpace: false).Replace("%", "", StringComparison.Ordinal)));
    }
}
