using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Blueprint.Storage.Auth;
using Blueprint.Storage.S3;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Time.Testing;

namespace Blueprint.Storage.Tests.Auth;

/// <summary>Requests for the verifier's tests: built as Kestrel would hand them over, and signed independently.</summary>
internal static class SigV4TestSupport
{
    public const string AccessKey = "AKIAIOSFODNN7EXAMPLE";
    public const string Secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
    public const string Timestamp = "20130524T000000Z";
    public const string Scope = "20130524/us-east-1/s3/aws4_request";

    /// <summary>The AWS examples' time: 2013-05-24T00:00:00Z.</summary>
    public static readonly DateTimeOffset ExampleTime = new(2013, 5, 24, 0, 0, 0, TimeSpan.Zero);

    public static SigV4Verifier Verifier(DateTimeOffset now, string region = "us-east-1", string secret = Secret) =>
        new(key => key == AccessKey ? secret : null, region, TimeSpan.FromMinutes(15), new FakeTimeProvider(now));

    /// <summary>A request as the server sees it: the raw target as sent, headers (repeatable), a body.</summary>
    public static HttpRequest Request(string method, string rawTarget, IEnumerable<(string Name, string Value)> headers, byte[]? body = null)
    {
        var context = new DefaultHttpContext();
        IHttpRequestFeature feature = context.Features.Get<IHttpRequestFeature>()!;
        feature.RawTarget = rawTarget;
        HttpRequest request = context.Request;
        request.Method = method;
        int q = rawTarget.IndexOf('?', StringComparison.Ordinal);
        request.Path = PathString.FromUriComponent(q < 0 ? rawTarget : rawTarget[..q]);
        request.QueryString = q < 0 ? QueryString.Empty : new QueryString(rawTarget[q..]);
        foreach ((string name, string value) in headers)
        {
            request.Headers.Append(name, value);
        }

        if (body is not null)
        {
            request.Body = new MemoryStream(body);
            if (request.ContentLength is null)
            {
                request.ContentLength = body.Length;
            }
        }

        return request;
    }

    public static S3Exception Refused(Action action) => Assert.Throws<S3Exception>(action);

    /// <summary>Reads the whole verified body; the S3 error is what reading throws.</summary>
    public static async Task<byte[]> ReadAllAsync(Stream body)
    {
        using var copy = new MemoryStream();
        byte[] buffer = new byte[7001]; // an odd size, so reads straddle chunk boundaries
        int n;
        while ((n = await body.ReadAsync(buffer, TestContext.Current.CancellationToken)) > 0)
        {
            copy.Write(buffer, 0, n);
        }

        return copy.ToArray();
    }

    public static string Hex(ReadOnlySpan<byte> bytes) => Convert.ToHexStringLower(bytes);

    public static string Sha256Hex(ReadOnlySpan<byte> bytes) => Hex(SHA256.HashData(bytes));

    public static byte[] SigningKey(string secret = Secret, string date = "20130524", string region = "us-east-1")
    {
        byte[] key = HMACSHA256.HashData(Encoding.UTF8.GetBytes("AWS4" + secret), Encoding.UTF8.GetBytes(date));
        key = HMACSHA256.HashData(key, Encoding.UTF8.GetBytes(region));
        key = HMACSHA256.HashData(key, "s3"u8.ToArray());
        return HMACSHA256.HashData(key, "aws4_request"u8.ToArray());
    }

    public static string Hmac(byte[] key, string text) => Hex(HMACSHA256.HashData(key, Encoding.UTF8.GetBytes(text)));

    /// <summary>
    /// Signs with the Authorization header, the canonical request written out plainly from already-canonical parts
    /// (the tests pick paths and queries that need no further encoding).
    /// </summary>
    public static string Authorization(string method, string canonicalPath, string canonicalQuery, IReadOnlyList<(string Name, string Value)> signedHeaders, string payloadHash, byte[]? key = null, string scope = Scope, string timestamp = Timestamp)
    {
        var sorted = signedHeaders.OrderBy(h => h.Name, StringComparer.Ordinal).ToList();
        string canonicalHeaders = string.Concat(sorted.Select(h => h.Name + ":" + h.Value.Trim() + "\n"));
        string names = string.Join(';', sorted.Select(h => h.Name));
        string canonical = string.Join('\n', method, canonicalPath, canonicalQuery, canonicalHeaders, names, payloadHash);
        string stringToSign = "AWS4-HMAC-SHA256\n" + timestamp + "\n" + scope + "\n" + Sha256Hex(Encoding.UTF8.GetBytes(canonical));
        string signature = Hmac(key ?? SigningKey(), stringToSign);
        return $"AWS4-HMAC-SHA256 Credential={AccessKey}/{scope},SignedHeaders={names},Signature={signature}";
    }

    /// <summary>An aws-chunked body: signed chunks chained from <paramref name="seed"/> (or unsigned without one), then trailers.</summary>
    public static byte[] Chunked(byte[] data, int chunkSize, string? seed, IReadOnlyList<(string Name, string Value)>? trailers = null, byte[]? key = null)
    {
        key ??= SigningKey();
        var body = new MemoryStream();
        string previous = seed ?? "";
        int offset = 0;
        while (true)
        {
            int size = Math.Min(chunkSize, data.Length - offset);
            ReadOnlySpan<byte> chunk = data.AsSpan(offset, size);
            string header = size.ToString("x", CultureInfo.InvariantCulture);
            if (seed is not null)
            {
                previous = Hmac(key, "AWS4-HMAC-SHA256-PAYLOAD\n" + Timestamp + "\n" + Scope + "\n" + previous + "\n" + Sha256Hex([]) + "\n" + Sha256Hex(chunk));
                header += ";chunk-signature=" + previous;
            }

            body.Write(Encoding.ASCII.GetBytes(header + "\r\n"));
            body.Write(chunk);
            offset += size;
            if (size == 0)
            {
                break;
            }

            body.Write("\r\n"u8);
        }

        if (trailers is null)
        {
            body.Write("\r\n"u8);
            return body.ToArray();
        }

        var lines = new StringBuilder();
        foreach ((string name, string value) in trailers)
        {
            lines.Append(name).Append(':').Append(value).Append("\r\n");
        }

        if (seed is not null)
        {
            string canonical = string.Concat(trailers.OrderBy(t => t.Name, StringComparer.Ordinal).Select(t => t.Name + ":" + t.Value + "\n"));
            string signature = Hmac(key, "AWS4-HMAC-SHA256-TRAILER\n" + Timestamp + "\n" + Scope + "\n" + previous + "\n" + Sha256Hex(Encoding.UTF8.GetBytes(canonical)));
            lines.Append("x-amz-trailer-signature:").Append(signature).Append("\r\n");
        }

        lines.Append("\r\n");
        body.Write(Encoding.ASCII.GetBytes(lines.ToString()));
        return body.ToArray();
    }
}
