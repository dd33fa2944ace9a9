namespace Blueprint.Storage.Auth;

/// <summary>
/// A request whose SigV4 signature was verified: who signed it, and what the payload reader needs to check the body
/// (the signing key, the credential scope, the request's timestamp, the seed signature and the
/// <c>x-amz-content-sha256</c> mode).
/// </summary>
internal sealed class SigV4Context
{
    internal SigV4Context(string accessKey, byte[] signingKey, string scope, string timestamp, DateTimeOffset requestTime, string signature, string contentSha256, bool isPresigned)
    {
        AccessKey = accessKey;
        SigningKey = signingKey;
        Scope = scope;
        Timestamp = timestamp;
        RequestTime = requestTime;
        Signature = signature;
        ContentSha256 = contentSha256;
        IsPresigned = isPresigned;
    }

    /// <summary>The access key id the request was signed with.</summary>
    public string AccessKey { get; }

    /// <summary>The derived signing key (HMAC of date, region, service and <c>aws4_request</c>); chunk signatures use it.</summary>
    internal byte[] SigningKey { get; }

    /// <summary>The credential scope, <c>yyyyMMdd/region/s3/aws4_request</c>.</summary>
    public string Scope { get; }

    /// <summary>The request's timestamp as signed, <c>yyyyMMddTHHmmssZ</c>.</summary>
    public string Timestamp { get; }

    /// <summary>The request's time.</summary>
    public DateTimeOffset RequestTime { get; }

    /// <summary>The request's signature (lowercase hex): the seed signature of an aws-chunked body.</summary>
    public string Signature { get; }

    /// <summary>
    /// What the body is declared as: a lowercase hex SHA-256, <c>UNSIGNED-PAYLOAD</c> or one of the <c>STREAMING-*</c>
    /// values. Presigned requests are <c>UNSIGNED-PAYLOAD</c> unless the request carries a hex <c>x-amz-content-sha256</c>.
    /// </summary>
    public string ContentSha256 { get; }

    /// <summary>Whether the signature came in the query (a presigned URL) rather than the <c>Authorization</c> header.</summary>
    public bool IsPresigned { get; }
}
