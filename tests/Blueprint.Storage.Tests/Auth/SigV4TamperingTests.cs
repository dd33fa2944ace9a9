using System.Text;
using Blueprint.Storage.Auth;
using Blueprint.Storage.S3;
using Microsoft.AspNetCore.Http;
using static Blueprint.Storage.Tests.Auth.SigV4AwsExampleTests;
using static Blueprint.Storage.Tests.Auth.SigV4TestSupport;

namespace Blueprint.Storage.Tests.Auth;

/// <summary>Every kind of tampering with a signed request is refused, with the error code S3 gives.</summary>
public sealed class SigV4TamperingTests
{
    private static readonly byte[] Data = Enumerable.Range(0, 200_000).Select(i => (byte)(i * 7)).ToArray();

    [Fact]
    public void ChangedHeaderValueIsSignatureDoesNotMatch()
    {
        S3Exception e = Refused(() => Verifier(ExampleTime).Verify(GetObjectWithRange(range: "bytes=0-99")));

        Assert.Equal("SignatureDoesNotMatch", e.Code);
        Assert.Equal(403, e.Status);
    }

    [Fact]
    public void HeaderWhitespaceIsCanonicalized()
    {
        Assert.NotNull(Verifier(ExampleTime).Verify(GetObjectWithRange(range: "  bytes=0-9 ")));
    }

    [Fact]
    public void ChangedPathIsSignatureDoesNotMatch()
    {
        Assert.Equal("SignatureDoesNotMatch", Refused(() => Verifier(ExampleTime).Verify(GetObjectWithRange("/test.txx"))).Code);
    }

    [Fact]
    public void ChangedQueryIsSignatureDoesNotMatch()
    {
        Assert.Equal("SignatureDoesNotMatch", Refused(() => Verifier(ExampleTime).Verify(ListObjects("/?max-keys=2&prefix=K"))).Code);
        Assert.Equal("SignatureDoesNotMatch", Refused(() => Verifier(ExampleTime).Verify(ListObjects("/?max-keys=2&prefix=J&delimiter=%2F"))).Code);
        Assert.Equal("SignatureDoesNotMatch", Refused(() => Verifier(ExampleTime).Verify(GetObjectWithRange("/test.txt?versionId=2"))).Code);
    }

    [Fact]
    public void WrongSecretIsSignatureDoesNotMatch()
    {
        Assert.Equal("SignatureDoesNotMatch", Refused(() => Verifier(ExampleTime, secret: "not-the-secret").Verify(GetObjectWithRange())).Code);
    }

    [Fact]
    public void UnknownAccessKeyIsInvalidAccessKeyId()
    {
        var verifier = new SigV4Verifier(_ => null, "us-east-1", TimeSpan.FromMinutes(15), new Microsoft.Extensions.Time.Testing.FakeTimeProvider(ExampleTime));

        Assert.Equal("InvalidAccessKeyId", Refused(() => verifier.Verify(GetObjectWithRange())).Code);
    }

    [Fact]
    public void WrongRegionIsAuthorizationHeaderMalformed()
    {
        S3Exception e = Refused(() => Verifier(ExampleTime, region: "eu-west-1").Verify(GetObjectWithRange()));

        Assert.Equal("AuthorizationHeaderMalformed", e.Code);
        Assert.Equal(400, e.Status);
    }

    [Fact]
    public void WrongServiceIsAuthorizationHeaderMalformed()
    {
        HttpRequest request = GetObjectWithRange();
        request.Headers.Authorization = request.Headers.Authorization.ToString().Replace("/s3/", "/iam/", StringComparison.Ordinal);

        Assert.Equal("AuthorizationHeaderMalformed", Refused(() => Verifier(ExampleTime).Verify(request)).Code);
    }

    [Fact]
    public void CredentialDateOtherThanTheRequestDateIsMalformed()
    {
        HttpRequest request = GetObjectWithRange();
        request.Headers["x-amz-date"] = "20130525T000000Z";

        Assert.Equal("AuthorizationHeaderMalformed", Refused(() => Verifier(ExampleTime.AddDays(1)).Verify(request)).Code);
    }

    [Fact]
    public void SignedHeadersWithoutHostIsMalformed()
    {
        HttpRequest request = GetObjectWithRange();
        request.Headers.Authorization = request.Headers.Authorization.ToString().Replace("SignedHeaders=host;", "SignedHeaders=", StringComparison.Ordinal);

        Assert.Equal("AuthorizationHeaderMalformed", Refused(() => Verifier(ExampleTime).Verify(request)).Code);
    }

    [Fact]
    public void AuthorizationWithoutSignatureIsMalformed()
    {
        HttpRequest request = GetObjectWithRange();
        request.Headers.Authorization = $"AWS4-HMAC-SHA256 Credential={AccessKey}/{Scope},SignedHeaders=host";

        Assert.Equal("AuthorizationHeaderMalformed", Refused(() => Verifier(ExampleTime).Verify(request)).Code);
    }

    [Fact]
    public void SkewedTimeIsRequestTimeTooSkewed()
    {
        Assert.Equal("RequestTimeTooSkewed", Refused(() => Verifier(ExampleTime.AddMinutes(16)).Verify(GetObjectWithRange())).Code);
        Assert.Equal("RequestTimeTooSkewed", Refused(() => Verifier(ExampleTime.AddMinutes(-16)).Verify(GetObjectWithRange())).Code);
        Assert.NotNull(Verifier(ExampleTime.AddMinutes(14)).Verify(GetObjectWithRange()));
    }

    [Fact]
    public void ExpiredPresignIsAccessDenied()
    {
        S3Exception e = Refused(() => Verifier(ExampleTime.AddSeconds(86401)).Verify(PresignedGet()));

        Assert.Equal("AccessDenied", e.Code);
        Assert.Equal("Request has expired", e.Message);
    }

    [Fact]
    public void PresignFromTheFutureIsRequestTimeTooSkewed()
    {
        Assert.Equal("RequestTimeTooSkewed", Refused(() => Verifier(ExampleTime.AddHours(-1)).Verify(PresignedGet())).Code);
    }

    [Fact]
    public void PresignValidForMoreThanAWeekIsRefused()
    {
        HttpRequest request = PresignedGet(PresignedTarget().Replace("X-Amz-Expires=86400", "X-Amz-Expires=604801", StringComparison.Ordinal));

        Assert.Equal("AuthorizationQueryParametersError", Refused(() => Verifier(ExampleTime).Verify(request)).Code);
    }

    [Fact]
    public void PresignWithLongerExpiryIsSignatureDoesNotMatch()
    {
        HttpRequest request = PresignedGet(PresignedTarget().Replace("X-Amz-Expires=86400", "X-Amz-Expires=604800", StringComparison.Ordinal));

        Assert.Equal("SignatureDoesNotMatch", Refused(() => Verifier(ExampleTime).Verify(request)).Code);
    }

    [Fact]
    public void PresignWithAnExtraParameterIsSignatureDoesNotMatch()
    {
        Assert.Equal("SignatureDoesNotMatch", Refused(() => Verifier(ExampleTime).Verify(PresignedGet(PresignedTarget() + "&x-id=GetObject"))).Code);
    }

    [Fact]
    public void PresignWithAnUnsignedAmzHeaderAddedIsAccessDenied()
    {
        HttpRequest request = PresignedGet();
        request.Headers["x-amz-copy-source"] = "otherbucket/secret.txt";

        S3Exception e = Refused(() => Verifier(ExampleTime).Verify(request));

        Assert.Equal("AccessDenied", e.Code);
        Assert.Contains("x-amz-copy-source", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void PresignWithAnAddedChecksumHeaderIsVerified()
    {
        HttpRequest request = PresignedGet();
        request.Headers["x-amz-checksum-crc32"] = "AAAAAA==";
        request.Headers["x-amz-content-sha256"] = SigV4.EmptySha256;

        SigV4Context? context = Verifier(ExampleTime).Verify(request);

        Assert.Equal(SigV4.EmptySha256, context?.ContentSha256);
    }

    [Fact]
    public void PresignWithASignedStreamingPayloadIsInvalidRequest()
    {
        HttpRequest request = PresignedGet();
        request.Headers["x-amz-content-sha256"] = SigV4.StreamingSigned;

        Assert.Equal("InvalidRequest", Refused(() => Verifier(ExampleTime).Verify(request)).Code);
    }

    [Fact]
    public void SigV4aIsRefusedAsMalformed()
    {
        HttpRequest request = GetObjectWithRange();
        request.Headers.Authorization = "AWS4-ECDSA-P256-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/s3/aws4_request, SignedHeaders=host, Signature=3045";

        S3Exception e = Refused(() => Verifier(ExampleTime).Verify(request));

        Assert.Equal("AuthorizationHeaderMalformed", e.Code);
        Assert.Contains("AWS4-ECDSA-P256-SHA256", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void SynchronousReadsOfAPlainBodyAreCheckedToo()
    {
        HttpRequest request = PutObject("Welcome to Amazon S4."u8.ToArray());
        (Stream body, _) = SigV4Payload.Open(request, Verifier(ExampleTime).Verify(request));

        Assert.Equal("XAmzContentSHA256Mismatch", Refused(() => body.CopyTo(Stream.Null)).Code);
    }

    [Fact]
    public void BothAuthorizationHeaderAndPresignIsInvalidArgument()
    {
        HttpRequest request = PresignedGet();
        request.Headers.Authorization = GetObjectWithRange().Headers.Authorization;

        Assert.Equal("InvalidArgument", Refused(() => Verifier(ExampleTime).Verify(request)).Code);
    }

    [Fact]
    public void DateHeaderStandsInForXAmzDate()
    {
        (string, string)[] signed = [("date", "Fri, 24 May 2013 00:00:00 GMT"), ("host", "examplebucket.s3.amazonaws.com"), ("x-amz-content-sha256", SigV4.UnsignedPayload)];
        string authorization = Authorization("GET", "/photos/2013%2F05/a%20b.jpg", "acl=&versionId=a%2Bb", signed, SigV4.UnsignedPayload);
        HttpRequest request = Request("GET", "/photos/2013%2f05/a%20b.jpg?versionId=a%2bb&acl", [.. signed, ("Authorization", authorization)]);

        SigV4Context? context = Verifier(ExampleTime.AddMinutes(3)).Verify(request);

        Assert.Equal(Timestamp, context?.Timestamp);
        Assert.Equal(SigV4.UnsignedPayload, context?.ContentSha256);
    }

    [Fact]
    public void PresignForAnotherRegionIsAuthorizationQueryParametersError()
    {
        Assert.Equal("AuthorizationQueryParametersError", Refused(() => Verifier(ExampleTime, region: "eu-west-1").Verify(PresignedGet())).Code);
    }

    [Fact]
    public void PresignWithoutSignatureIsAuthorizationQueryParametersError()
    {
        string target = PresignedTarget();
        HttpRequest request = PresignedGet(target[..target.IndexOf("&X-Amz-Signature", StringComparison.Ordinal)]);

        Assert.Equal("AuthorizationQueryParametersError", Refused(() => Verifier(ExampleTime).Verify(request)).Code);
    }

    [Fact]
    public async Task TamperedPutBodyIsContentSha256Mismatch()
    {
        HttpRequest request = PutObject("Welcome to Amazon S4."u8.ToArray());
        (Stream body, _) = SigV4Payload.Open(request, Verifier(ExampleTime).Verify(request));

        S3Exception e = await Assert.ThrowsAsync<S3Exception>(() => ReadAllAsync(body));

        Assert.Equal("XAmzContentSHA256Mismatch", e.Code);
    }

    [Fact]
    public async Task TruncatedPlainBodyIsIncompleteBody()
    {
        HttpRequest request = PutObject("Welcome to Amazon S3"u8.ToArray());
        request.ContentLength = 21;
        (Stream body, _) = SigV4Payload.Open(request, Verifier(ExampleTime).Verify(request));

        Assert.Equal("IncompleteBody", (await Assert.ThrowsAsync<S3Exception>(() => ReadAllAsync(body))).Code);
    }

    [Fact]
    public async Task TamperedChunkDataIsSignatureDoesNotMatch()
    {
        byte[] tampered = ChunkedBody();
        tampered[65626 + 86 + 100] = (byte)'b'; // inside the second chunk's data
        HttpRequest request = ChunkedPut(tampered);
        (Stream body, _) = SigV4Payload.Open(request, Verifier(ExampleTime).Verify(request));

        Assert.Equal("SignatureDoesNotMatch", (await Assert.ThrowsAsync<S3Exception>(() => ReadAllAsync(body))).Code);
    }

    [Fact]
    public async Task TamperedFirstChunkFailsBeforeTheEnd()
    {
        byte[] tampered = ChunkedBody();
        tampered[100] = (byte)'b';
        HttpRequest request = ChunkedPut(tampered);
        (Stream body, _) = SigV4Payload.Open(request, Verifier(ExampleTime).Verify(request));

        // The first chunk's data may be handed out, but its signature fails before the next chunk is read.
        long handed = 0;
        S3Exception e = await Assert.ThrowsAsync<S3Exception>(async () =>
        {
            byte[] buffer = new byte[4096];
            int n;
            while ((n = await body.ReadAsync(buffer, TestContext.Current.CancellationToken)) > 0)
            {
                handed += n;
            }
        });

        Assert.Equal("SignatureDoesNotMatch", e.Code);
        Assert.Equal(65536, handed);
        Assert.Equal("SignatureDoesNotMatch", (await Assert.ThrowsAsync<S3Exception>(() => ReadAllAsync(body))).Code);
    }

    [Fact]
    public async Task ReorderedChunkSignaturesAreRefused()
    {
        string body = Encoding.Latin1.GetString(ChunkedBody());
        body = body.Replace("0;chunk-signature=b6c6", "0;chunk-signature=b6c7", StringComparison.Ordinal);
        HttpRequest request = ChunkedPut(Encoding.Latin1.GetBytes(body));
        (Stream stream, _) = SigV4Payload.Open(request, Verifier(ExampleTime).Verify(request));

        Assert.Equal("SignatureDoesNotMatch", (await Assert.ThrowsAsync<S3Exception>(() => ReadAllAsync(stream))).Code);
    }

    [Theory]
    [InlineData(66824 - 86)] // the final chunk missing
    [InlineData(66824 - 2)] // the final CRLF missing
    [InlineData(40_000)] // inside the first chunk
    [InlineData(65626 + 40)] // inside a chunk header
    public async Task TruncatedChunkedBodyIsIncompleteBody(int length)
    {
        HttpRequest request = ChunkedPut(ChunkedBody()[..length]);
        (Stream body, _) = SigV4Payload.Open(request, Verifier(ExampleTime).Verify(request));

        Assert.Equal("IncompleteBody", (await Assert.ThrowsAsync<S3Exception>(() => ReadAllAsync(body))).Code);
    }

    [Fact]
    public async Task MalformedChunkFramingIsInvalidRequest()
    {
        byte[] body = ChunkedBody();
        body[0] = (byte)'x';
        HttpRequest request = ChunkedPut(body);
        (Stream stream, _) = SigV4Payload.Open(request, Verifier(ExampleTime).Verify(request));

        Assert.Equal("InvalidRequest", (await Assert.ThrowsAsync<S3Exception>(() => ReadAllAsync(stream))).Code);
    }

    [Fact]
    public async Task OverlongChunkHeaderLineIsRefused()
    {
        byte[] body = [.. "10000;x="u8, .. Enumerable.Repeat((byte)'z', 5000), .. "\r\n"u8];
        HttpRequest request = ChunkedPut(body);
        (Stream stream, _) = SigV4Payload.Open(request, Verifier(ExampleTime).Verify(request));

        S3Exception e = await Assert.ThrowsAsync<S3Exception>(() => ReadAllAsync(stream));

        Assert.Equal("InvalidRequest", e.Code);
        Assert.Contains("4096", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task OversizedChunkIsRefused()
    {
        HttpRequest request = ChunkedPut("1000001;chunk-signature=ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648\r\n"u8.ToArray());
        request.Headers["x-amz-decoded-content-length"] = "99999999";
        (Stream stream, _) = SigV4Payload.Open(request, new SigV4Context(AccessKey, SigningKey(), Scope, Timestamp, ExampleTime, new string('0', 64), SigV4.StreamingSigned, false));

        Assert.Equal("InvalidRequest", (await Assert.ThrowsAsync<S3Exception>(() => ReadAllAsync(stream))).Code);
    }

    [Fact]
    public async Task SignedTrailerIsVerifiedAndItsChecksumChecked()
    {
        (HttpRequest request, _) = SignedTrailerPut(Data, Crc32Base64(Data));
        (Stream body, long? length) = SigV4Payload.Open(request, Verifier(ExampleTime).Verify(request));

        Assert.Equal(Data, await ReadAllAsync(body));
        Assert.Equal(Data.Length, length);
        Assert.Equal(Crc32Base64(Data), Assert.Single(((IVerifiedBody)body).Checksums).Expected);
    }

    [Fact]
    public async Task TamperedTrailerChecksumIsRefused()
    {
        // The trailer signed as sent, but the checksum not the data's: BadDigest.
        (HttpRequest request, _) = SignedTrailerPut(Data, Crc32Base64([1, 2, 3]));
        (Stream body, _) = SigV4Payload.Open(request, Verifier(ExampleTime).Verify(request));

        Assert.Equal("BadDigest", (await Assert.ThrowsAsync<S3Exception>(() => ReadAllAsync(body))).Code);
    }

    [Fact]
    public async Task TrailerChangedAfterSigningIsSignatureDoesNotMatch()
    {
        (HttpRequest request, byte[] sent) = SignedTrailerPut(Data, Crc32Base64(Data));
        string text = Encoding.Latin1.GetString(sent).Replace("x-amz-checksum-crc32:" + Crc32Base64(Data), "x-amz-checksum-crc32:" + Crc32Base64([1, 2, 3]), StringComparison.Ordinal);
        request.Body = new MemoryStream(Encoding.Latin1.GetBytes(text));
        (Stream body, _) = SigV4Payload.Open(request, Verifier(ExampleTime).Verify(request));

        Assert.Equal("SignatureDoesNotMatch", (await Assert.ThrowsAsync<S3Exception>(() => ReadAllAsync(body))).Code);
    }

    [Fact]
    public async Task UnsignedTrailerIsDecodedAndItsChecksumChecked()
    {
        string crc = Crc32Base64(Data);
        HttpRequest good = UnsignedTrailerPut(Chunked(Data, 8192, seed: null, [("x-amz-checksum-crc32", crc)]));
        (Stream body, _) = SigV4Payload.Open(good, null);
        Assert.Equal(Data, await ReadAllAsync(body));

        HttpRequest bad = UnsignedTrailerPut(Chunked(Data, 8192, seed: null, [("x-amz-checksum-crc32", Crc32Base64([9]))]));
        (Stream badBody, _) = SigV4Payload.Open(bad, null);
        Assert.Equal("BadDigest", (await Assert.ThrowsAsync<S3Exception>(() => ReadAllAsync(badBody))).Code);
    }

    [Fact]
    public async Task MissingDeclaredTrailerIsRefused()
    {
        HttpRequest request = UnsignedTrailerPut(Chunked(Data, 8192, seed: null, []));
        (Stream body, _) = SigV4Payload.Open(request, null);

        Assert.Equal("IncompleteBody", (await Assert.ThrowsAsync<S3Exception>(() => ReadAllAsync(body))).Code);
    }

    [Fact]
    public async Task UnsignedChunkedBodyLongerThanDeclaredIsRefused()
    {
        HttpRequest request = UnsignedTrailerPut(Chunked(Data, 8192, seed: null, [("x-amz-checksum-crc32", Crc32Base64(Data))]));
        request.Headers["x-amz-decoded-content-length"] = "1000";
        (Stream body, _) = SigV4Payload.Open(request, null);

        Assert.Equal("InvalidRequest", (await Assert.ThrowsAsync<S3Exception>(() => ReadAllAsync(body))).Code);
    }

    [Fact]
    public async Task ChecksumHeaderOnAPlainBodyIsChecked()
    {
        byte[] data = "hello, world"u8.ToArray();
        HttpRequest good = Request("PUT", "/b/k", [("Host", "h"), ("x-amz-checksum-sha256", Convert.ToBase64String(System.Security.Cryptography.SHA256.HashData(data)))], data);
        (Stream body, _) = SigV4Payload.Open(good, null);
        Assert.Equal(data, await ReadAllAsync(body));

        HttpRequest bad = Request("PUT", "/b/k", [("Host", "h"), ("x-amz-checksum-crc32c", "AAAAAA==")], data);
        (Stream badBody, _) = SigV4Payload.Open(bad, null);
        Assert.Equal("BadDigest", (await Assert.ThrowsAsync<S3Exception>(() => ReadAllAsync(badBody))).Code);

#pragma warning disable CA5351 // Content-MD5 is what S3 clients send
        HttpRequest md5 = Request("PUT", "/b/k", [("Host", "h"), ("Content-MD5", Convert.ToBase64String(System.Security.Cryptography.MD5.HashData("other"u8)))], data);
#pragma warning restore CA5351
        (Stream md5Body, _) = SigV4Payload.Open(md5, null);
        Assert.Equal("BadDigest", (await Assert.ThrowsAsync<S3Exception>(() => ReadAllAsync(md5Body))).Code);

        HttpRequest invalid = Request("PUT", "/b/k", [("Host", "h"), ("x-amz-checksum-crc32", "not base64!")], data);
        (Stream invalidBody, _) = SigV4Payload.Open(invalid, null);
        Assert.Equal("InvalidDigest", (await Assert.ThrowsAsync<S3Exception>(() => ReadAllAsync(invalidBody))).Code);
    }

    [Theory]
    [InlineData("x-amz-checksum-crc32", "y/Q5Jg==")] // 0xCBF43926
    [InlineData("x-amz-checksum-crc32c", "4waSgw==")] // 0xE3069283
    [InlineData("x-amz-checksum-crc64nvme", "rosUhgp5mIg=")] // 0xAE8B14860A799888
    [InlineData("x-amz-checksum-sha1", "98O8HYCOBHMq32eZZczDTKeuNEE=")]
    [InlineData("x-amz-checksum-sha256", "FeKw08M4keuw8e9gnsQZQgwg4yDOlMZfvIwzEkSOsiU=")]
    public void ChecksumsComputeTheirCheckValues(string name, string expected)
    {
        using PayloadChecksum checksum = PayloadChecksum.Create(name)!;
        checksum.Append("123456789"u8);

        Assert.Equal(expected, checksum.Compute());
    }

    private static string PresignedTarget() => PresignedGet().HttpContext.Features.Get<Microsoft.AspNetCore.Http.Features.IHttpRequestFeature>()!.RawTarget;

    private static string Crc32Base64(byte[] data) => Convert.ToBase64String(BitConverter.GetBytes(System.IO.Hashing.Crc32.HashToUInt32(data)).Reverse().ToArray());

    private static (HttpRequest Request, byte[] Body) SignedTrailerPut(byte[] data, string crc)
    {
        (string, string)[] signed =
        [
            ("content-encoding", "aws-chunked"),
            ("host", "s3.amazonaws.com"),
            ("x-amz-content-sha256", "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER"),
            ("x-amz-date", Timestamp),
            ("x-amz-decoded-content-length", data.Length.ToString(System.Globalization.CultureInfo.InvariantCulture)),
            ("x-amz-trailer", "x-amz-checksum-crc32"),
        ];
        string authorization = Authorization("PUT", "/examplebucket/trailer.bin", "", signed, "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER");
        string seed = authorization[(authorization.IndexOf("Signature=", StringComparison.Ordinal) + 10)..];
        byte[] body = Chunked(data, 65536, seed, [("x-amz-checksum-crc32", crc)]);
        return (Request("PUT", "/examplebucket/trailer.bin", [.. signed, ("Authorization", authorization)], body), body);
    }

    private static HttpRequest UnsignedTrailerPut(byte[] body) =>
        Request("PUT", "/examplebucket/trailer.bin",
        [
            ("Host", "s3.amazonaws.com"),
            ("Content-Encoding", "aws-chunked"),
            ("x-amz-content-sha256", "STREAMING-UNSIGNED-PAYLOAD-TRAILER"),
            ("x-amz-decoded-content-length", Data.Length.ToString(System.Globalization.CultureInfo.InvariantCulture)),
            ("x-amz-trailer", "x-amz-checksum-crc32"),
        ], body);
}
