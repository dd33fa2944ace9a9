using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Amazon.S3;
using Amazon.S3.Model;
using Blueprint.Storage.Tests.Auth;
using Microsoft.Extensions.Time.Testing;

namespace Blueprint.Storage.Tests.S3;

/// <summary>Requests S3 refuses get S3's error codes, and nothing of a refused write becomes visible.</summary>
public sealed class BadInputTests
{
    private static CancellationToken Token => TestContext.Current.CancellationToken;

    /// <summary>The node accepts the AWS examples' key, so requests can be signed by hand at the node's time.</summary>
    private static readonly Dictionary<string, string?> ExampleKey = new()
    {
        ["Storage:RootAccessKey"] = SigV4TestSupport.AccessKey,
        ["Storage:RootSecretKey"] = SigV4TestSupport.Secret,
        ["Storage:MaxPutBytes"] = "100000",
    };

    [Fact]
    public async Task Objects_and_parts_over_the_size_limit_are_refused_and_leave_nothing()
    {
        await using var node = await S3Node.StartAsync(settings: ExampleKey, cancellationToken: Token);
        using var s3 = S3Node.CreateClient(node.Port, SigV4TestSupport.AccessKey, SigV4TestSupport.Secret);
        await s3.PutBucketAsync("limits", Token);

        var tooLarge = await Assert.ThrowsAnyAsync<AmazonS3Exception>(() => s3.PutObjectAsync(new PutObjectRequest { BucketName = "limits", Key = "big", InputStream = new MemoryStream(new byte[150_000]) }, Token));
        Assert.Equal("EntityTooLarge", tooLarge.ErrorCode);
        var missing = await Assert.ThrowsAnyAsync<AmazonS3Exception>(() => s3.GetObjectAsync("limits", "big", Token));
        Assert.Equal("NoSuchKey", missing.ErrorCode);

        var upload = await s3.InitiateMultipartUploadAsync("limits", "parts", Token);
        var part = await Assert.ThrowsAnyAsync<AmazonS3Exception>(() => s3.UploadPartAsync(new UploadPartRequest { BucketName = "limits", Key = "parts", UploadId = upload.UploadId, PartNumber = 1, InputStream = new MemoryStream(new byte[150_000]) }, Token));
        Assert.Equal("EntityTooLarge", part.ErrorCode);
        var parts = await s3.ListPartsAsync(new ListPartsRequest { BucketName = "limits", Key = "parts", UploadId = upload.UploadId }, Token);
        Assert.Empty(parts.Parts ?? []);
    }

    [Fact]
    public async Task A_body_cut_short_is_refused_and_the_previous_object_stays()
    {
        await using var node = await S3Node.StartAsync(settings: ExampleKey, cancellationToken: Token);
        using var s3 = S3Node.CreateClient(node.Port, SigV4TestSupport.AccessKey, SigV4TestSupport.Secret);
        await s3.PutBucketAsync("cut", Token);
        await s3.PutObjectAsync(new PutObjectRequest { BucketName = "cut", Key = "k", ContentBody = "whole" }, Token);

        // 1000 bytes declared, 500 sent, then the connection closes.
        using (var socket = new TcpClient())
        {
            await socket.ConnectAsync(IPAddress.Loopback, node.Port, Token);
            var stream = socket.GetStream();
            var head = SignedHead("PUT", "/cut/k", "", node.Port, [("content-length", "1000")]);
            await stream.WriteAsync(Encoding.ASCII.GetBytes(head), Token);
            await stream.WriteAsync(new byte[500], Token);
            await stream.FlushAsync(Token);
            socket.Client.Shutdown(SocketShutdown.Send);
            var buffer = new byte[4096];
            try
            {
                while (await stream.ReadAsync(buffer, Token) > 0)
                {
                }
            }
            catch (IOException)
            {
                // The server may answer 400 or reset a connection whose body ended early; either is a refusal.
            }
        }

        using var got = await s3.GetObjectAsync("cut", "k", Token);
        Assert.Equal("whole", await new StreamReader(got.ResponseStream).ReadToEndAsync(Token));
    }

    [Theory]
    [InlineData("Upper")]
    [InlineData("ab")]
    [InlineData("under_score")]
    [InlineData("192.168.5.4")]
    [InlineData("dots..twice")]
    [InlineData("-leading")]
    public async Task Bad_bucket_names_are_refused_with_invalid_bucket_name(string bucket)
    {
        await using var node = await S3Node.StartAsync(settings: ExampleKey, cancellationToken: Token);
        using var http = new HttpClient();
        using var response = await SendSignedAsync(http, HttpMethod.Put, "/" + bucket, "", node.Port);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("<Code>InvalidBucketName</Code>", await response.Content.ReadAsStringAsync(Token), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_presigned_url_is_refused_once_it_expired()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var node = await S3Node.StartAsync(cancellationToken: Token, time: time);
        await node.Client.PutBucketAsync("expiry", Token);
        await node.Client.PutObjectAsync(new PutObjectRequest { BucketName = "expiry", Key = "k", ContentBody = "v" }, Token);
        var url = await node.Client.GetPreSignedURLAsync(new GetPreSignedUrlRequest { BucketName = "expiry", Key = "k", Verb = HttpVerb.GET, Expires = DateTime.UtcNow.AddMinutes(5), Protocol = Protocol.HTTP });
        using var http = new HttpClient();
        Assert.Equal("v", await http.GetStringAsync(new Uri(url), Token));

        time.Advance(TimeSpan.FromMinutes(6));
        using var expired = await http.GetAsync(new Uri(url), Token);
        Assert.Equal(HttpStatusCode.Forbidden, expired.StatusCode);
        var body = await expired.Content.ReadAsStringAsync(Token);
        Assert.Contains("<Code>AccessDenied</Code>", body, StringComparison.Ordinal);
        Assert.Contains("Request has expired", body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_malformed_completion_or_an_unknown_upload_is_refused()
    {
        await using var node = await S3Node.StartAsync(settings: ExampleKey, cancellationToken: Token);
        using var s3 = S3Node.CreateClient(node.Port, SigV4TestSupport.AccessKey, SigV4TestSupport.Secret);
        await s3.PutBucketAsync("xml", Token);
        var upload = await s3.InitiateMultipartUploadAsync("xml", "k", Token);
        using var http = new HttpClient();

        using (var malformed = await SendSignedAsync(http, HttpMethod.Post, "/xml/k", "uploadId=" + upload.UploadId, node.Port, "<CompleteMultipartUpload><Part><PartNumber>one"u8.ToArray()))
        {
            Assert.Equal(HttpStatusCode.BadRequest, malformed.StatusCode);
            Assert.Contains("<Code>MalformedXML</Code>", await malformed.Content.ReadAsStringAsync(Token), StringComparison.Ordinal);
        }

        using (var entity = await SendSignedAsync(http, HttpMethod.Post, "/xml/k", "uploadId=" + upload.UploadId, node.Port, "<!DOCTYPE x [<!ENTITY e SYSTEM \"file:///etc/passwd\">]><CompleteMultipartUpload>&e;</CompleteMultipartUpload>"u8.ToArray()))
        {
            Assert.Contains("<Code>MalformedXML</Code>", await entity.Content.ReadAsStringAsync(Token), StringComparison.Ordinal);
        }

        var unknown = await Assert.ThrowsAnyAsync<AmazonS3Exception>(() => s3.UploadPartAsync(new UploadPartRequest { BucketName = "xml", Key = "k", UploadId = "nope", PartNumber = 1, InputStream = new MemoryStream(new byte[10]) }, Token));
        Assert.Equal("NoSuchUpload", unknown.ErrorCode);
        var badPart = await Assert.ThrowsAnyAsync<AmazonS3Exception>(() => s3.UploadPartAsync(new UploadPartRequest { BucketName = "xml", Key = "k", UploadId = upload.UploadId, PartNumber = 10_001, InputStream = new MemoryStream(new byte[10]) }, Token));
        Assert.Equal("InvalidArgument", badPart.ErrorCode);
    }

    /// <summary>The request line and headers of a request signed now with the AWS examples' key (UNSIGNED-PAYLOAD).</summary>
    private static string SignedHead(string method, string path, string query, int port, IReadOnlyList<(string Name, string Value)> extra)
    {
        var now = DateTimeOffset.UtcNow;
        var timestamp = now.ToString("yyyyMMdd'T'HHmmss'Z'", CultureInfo.InvariantCulture);
        var date = timestamp[..8];
        List<(string, string)> headers = [("host", $"127.0.0.1:{port.ToString(CultureInfo.InvariantCulture)}"), ("x-amz-content-sha256", "UNSIGNED-PAYLOAD"), ("x-amz-date", timestamp)];
        var authorization = SigV4TestSupport.Authorization(method, path, query, headers, "UNSIGNED-PAYLOAD", SigV4TestSupport.SigningKey(date: date), $"{date}/us-east-1/s3/aws4_request", timestamp);
        var builder = new StringBuilder();
        builder.Append(CultureInfo.InvariantCulture, $"{method} {path}{(query.Length > 0 ? "?" + query : "")} HTTP/1.1\r\n");
        foreach (var (name, value) in headers.Concat(extra))
        {
            builder.Append(CultureInfo.InvariantCulture, $"{name}: {value}\r\n");
        }

        builder.Append(CultureInfo.InvariantCulture, $"authorization: {authorization}\r\nconnection: close\r\n\r\n");
        return builder.ToString();
    }

    private static async Task<HttpResponseMessage> SendSignedAsync(HttpClient http, HttpMethod method, string path, string query, int port, byte[]? body = null)
    {
        var now = DateTimeOffset.UtcNow;
        var timestamp = now.ToString("yyyyMMdd'T'HHmmss'Z'", CultureInfo.InvariantCulture);
        var date = timestamp[..8];
        var host = $"127.0.0.1:{port.ToString(CultureInfo.InvariantCulture)}";
        List<(string, string)> headers = [("host", host), ("x-amz-content-sha256", "UNSIGNED-PAYLOAD"), ("x-amz-date", timestamp)];
        var authorization = SigV4TestSupport.Authorization(method.Method, path, query, headers, "UNSIGNED-PAYLOAD", SigV4TestSupport.SigningKey(date: date), $"{date}/us-east-1/s3/aws4_request", timestamp);
        using var request = new HttpRequestMessage(method, new Uri($"http://{host}{path}{(query.Length > 0 ? "?" + query : "")}"));
        request.Headers.TryAddWithoutValidation("x-amz-content-sha256", "UNSIGNED-PAYLOAD");
        request.Headers.TryAddWithoutValidation("x-amz-date", timestamp);
        request.Headers.TryAddWithoutValidation("Authorization", authorization);
        request.Content = new ByteArrayContent(body ?? []);
        return await http.SendAsync(request, TestContext.Current.CancellationToken);
    }
}
