using System.Net;
using Amazon.Runtime;
using Amazon.S3;
using Amazon.S3.Model;
using Blueprint.Storage.Auth;
using Blueprint.Storage.S3;
using Microsoft.AspNetCore.Http;
using static Blueprint.Storage.Tests.Auth.SigV4TestSupport;

namespace Blueprint.Storage.Tests.Auth;

/// <summary>
/// Requests signed by the AWS SDK itself (its client, with the HTTP exchange captured instead of sent), replayed to
/// the verifier as the server would receive them.
/// </summary>
public sealed class SigV4AwsSdkTests
{
    private static readonly byte[] Data = Enumerable.Range(0, 150_000).Select(i => (byte)(i % 251)).ToArray();

    [Fact]
    public async Task PutObjectWithSignedChunksAndTrailerIsVerified()
    {
        var capture = new Capture();
        using AmazonS3Client client = Client(capture, "http://localhost:9000");

        await client.PutObjectAsync(new PutObjectRequest { BucketName = "bucket", Key = "dir/a b+c~ü!.bin", InputStream = new MemoryStream(Data) }, TestContext.Current.CancellationToken);

        HttpRequest request = capture.Request!;
        SigV4Context context = Verifier(capture.Time).Verify(request)!;
        (Stream body, long? length) = SigV4Payload.Open(request, context);

        Assert.Equal("STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER", context.ContentSha256);
        Assert.Equal("x-amz-checksum-crc32", request.Headers["x-amz-trailer"].ToString());
        Assert.Equal(Data.Length, length);
        Assert.Equal(Data, await ReadAllAsync(body));
        Assert.Equal(Crc32Base64(Data), Assert.Single(((IVerifiedBody)body).Checksums).Expected);
    }

    [Fact]
    public async Task PutObjectWithUnsignedTrailerIsVerified()
    {
        var capture = new Capture();
        using AmazonS3Client client = Client(capture, "https://localhost:9000");

        await client.PutObjectAsync(new PutObjectRequest { BucketName = "bucket", Key = "k", InputStream = new MemoryStream(Data), DisablePayloadSigning = true, ChecksumAlgorithm = ChecksumAlgorithm.CRC32C }, TestContext.Current.CancellationToken);

        HttpRequest request = capture.Request!;
        SigV4Context context = Verifier(capture.Time).Verify(request)!;
        (Stream body, _) = SigV4Payload.Open(request, context);

        Assert.Equal(Data, await ReadAllAsync(body));
        Assert.Equal("STREAMING-UNSIGNED-PAYLOAD-TRAILER", context.ContentSha256);
        Assert.Equal("x-amz-checksum-crc32c", request.Headers["x-amz-trailer"].ToString());
    }

    [Fact]
    public async Task PutObjectWithoutChunkingIsVerifiedAndTamperingRefused()
    {
        var capture = new Capture();
        using AmazonS3Client client = Client(capture, "http://localhost:9000");

        await client.PutObjectAsync(new PutObjectRequest { BucketName = "bucket", Key = "plain", InputStream = new MemoryStream(Data), UseChunkEncoding = false }, TestContext.Current.CancellationToken);

        HttpRequest request = capture.Request!;
        SigV4Context context = Verifier(capture.Time).Verify(request)!;
        (Stream body, _) = SigV4Payload.Open(request, context);
        Assert.Equal(Data, await ReadAllAsync(body));
        Assert.Equal(Sha256Hex(Data), context.ContentSha256);
        Assert.Equal(Crc32Base64(Data), request.Headers["x-amz-checksum-crc32"].ToString());

        byte[] tampered = (byte[])capture.Body.Clone();
        tampered[1234] ^= 1;
        HttpRequest again = capture.Replay(tampered);
        (Stream tamperedBody, _) = SigV4Payload.Open(again, Verifier(capture.Time).Verify(again));
        S3Exception e = await Assert.ThrowsAsync<S3Exception>(() => ReadAllAsync(tamperedBody));
        Assert.Equal("XAmzContentSHA256Mismatch", e.Code);
    }

    [Fact]
    public async Task SignedChunkTamperedIsRefused()
    {
        var capture = new Capture();
        using AmazonS3Client client = Client(capture, "http://localhost:9000");
        await client.PutObjectAsync(new PutObjectRequest { BucketName = "bucket", Key = "k", InputStream = new MemoryStream(Data) }, TestContext.Current.CancellationToken);

        byte[] tampered = (byte[])capture.Body.Clone();
        tampered[5000] ^= 1;
        HttpRequest request = capture.Replay(tampered);
        (Stream body, _) = SigV4Payload.Open(request, Verifier(capture.Time).Verify(request));

        Assert.Equal("SignatureDoesNotMatch", (await Assert.ThrowsAsync<S3Exception>(() => ReadAllAsync(body))).Code);
    }

    [Fact]
    public async Task ListObjectsWithAnAwkwardPrefixIsVerified()
    {
        var capture = new Capture();
        using AmazonS3Client client = Client(capture, "http://localhost:9000");

        await Record.ExceptionAsync(() => client.ListObjectsV2Async(new ListObjectsV2Request { BucketName = "bucket", Prefix = "a b+c/ü~*!'()&=", Delimiter = "/", MaxKeys = 7 }, TestContext.Current.CancellationToken));

        Assert.Equal("AKIDSDK", Verifier(capture.Time).Verify(capture.Request!)?.AccessKey);
        HttpRequest tampered = capture.Replay(capture.Body, capture.Target.Replace("max-keys=7", "max-keys=8", StringComparison.Ordinal));
        Assert.Equal("SignatureDoesNotMatch", Refused(() => Verifier(capture.Time).Verify(tampered)).Code);
    }

    [Fact]
    public void PresignedUrlFromTheSdkIsVerifiedUntilItExpires()
    {
        var capture = new Capture();
        using AmazonS3Client client = Client(capture, "http://localhost:9000");
        DateTimeOffset now = DateTimeOffset.UtcNow;

        string url = client.GetPreSignedURL(new GetPreSignedUrlRequest { BucketName = "bucket", Key = "dir/a b+c.txt", Verb = HttpVerb.GET, Expires = now.UtcDateTime.AddMinutes(10), Protocol = Protocol.HTTP });
        var uri = new Uri(url);
        HttpRequest request = Request("GET", uri.PathAndQuery, [("Host", uri.Authority)]);

        SigV4Context? context = Verifier(now).Verify(request);
        Assert.NotNull(context);
        Assert.True(context.IsPresigned);
        Assert.Equal("AccessDenied", Refused(() => Verifier(now.AddMinutes(11)).Verify(request)).Code);
    }

    [Fact]
    public async Task PresignedPutFromTheSdkIsVerifiedAndAddedHeadersRefused()
    {
        var capture = new Capture();
        using AmazonS3Client client = Client(capture, "http://localhost:9000");
        DateTimeOffset now = DateTimeOffset.UtcNow;

        string url = await client.GetPreSignedURLAsync(new GetPreSignedUrlRequest { BucketName = "bucket", Key = "upload.bin", Verb = HttpVerb.PUT, Expires = now.UtcDateTime.AddMinutes(10), Protocol = Protocol.HTTP });
        var uri = new Uri(url);
        HttpRequest request = Request("PUT", uri.PathAndQuery, [("Host", uri.Authority)], Data);

        SigV4Context? context = Verifier(now).Verify(request);
        (Stream body, long? length) = SigV4Payload.Open(request, context);
        Assert.Equal(Data.Length, length);
        Assert.Equal(Data, await ReadAllAsync(body));

        HttpRequest copy = Request("PUT", uri.PathAndQuery, [("Host", uri.Authority), ("x-amz-copy-source", "bucket/secret")]);
        Assert.Equal("AccessDenied", Refused(() => Verifier(now).Verify(copy)).Code);
    }

    private static string Crc32Base64(byte[] data) => Convert.ToBase64String(BitConverter.GetBytes(System.IO.Hashing.Crc32.HashToUInt32(data)).Reverse().ToArray());

    private static SigV4Verifier Verifier(DateTimeOffset now) =>
        new(key => key == "AKIDSDK" ? "sdk/secret+key" : null, "us-east-1", TimeSpan.FromMinutes(5), new Microsoft.Extensions.Time.Testing.FakeTimeProvider(now));

    private static AmazonS3Client Client(Capture capture, string serviceUrl) =>
        new(new BasicAWSCredentials("AKIDSDK", "sdk/secret+key"), new AmazonS3Config
        {
            ServiceURL = serviceUrl,
            ForcePathStyle = true,
            AuthenticationRegion = "us-east-1",
            MaxErrorRetry = 0,
            HttpClientFactory = new CaptureFactory(capture),
        });

    /// <summary>What the SDK sent, and the same again (optionally changed) as a server-side request.</summary>
    private sealed class Capture : HttpMessageHandler
    {
        private readonly List<(string Name, string Value)> _headers = [];
        private string _method = "";

        public HttpRequest? Request { get; private set; }

        public byte[] Body { get; private set; } = [];

        public string Target { get; private set; } = "";

        public DateTimeOffset Time { get; private set; }

        public HttpRequest Replay(byte[] body, string? target = null)
        {
            HttpRequest request = SigV4TestSupport.Request(_method, target ?? Target, _headers, body);
            return request;
        }

        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage message, CancellationToken cancellationToken)
        {
            Time = DateTimeOffset.UtcNow;
            _method = message.Method.Method;
            Target = message.RequestUri!.PathAndQuery;
            _headers.Add(("Host", message.Headers.Host ?? message.RequestUri.Authority));
            foreach (KeyValuePair<string, IEnumerable<string>> header in message.Headers)
            {
                if (!header.Key.Equals("Host", StringComparison.OrdinalIgnoreCase))
                {
                    _headers.Add((header.Key, string.Join(',', header.Value)));
                }
            }

            if (message.Content is not null)
            {
                foreach (KeyValuePair<string, IEnumerable<string>> header in message.Content.Headers)
                {
                    _headers.Add((header.Key, string.Join(',', header.Value)));
                }

                Body = await message.Content.ReadAsByteArrayAsync(cancellationToken);
            }

            Request = Replay(Body);
            var response = new HttpResponseMessage(HttpStatusCode.OK) { Content = new ByteArrayContent([]) };
            response.Headers.ETag = new System.Net.Http.Headers.EntityTagHeaderValue("\"0123456789abcdef\"");
            return response;
        }
    }

    private sealed class CaptureFactory(Capture capture) : HttpClientFactory
    {
        public override HttpClient CreateHttpClient(IClientConfig clientConfig) => new(capture, disposeHandler: false);

        public override bool UseSDKHttpClientCaching(IClientConfig clientConfig) => false;

        public override bool DisposeHttpClientsAfterUse(IClientConfig clientConfig) => true;
    }
}
