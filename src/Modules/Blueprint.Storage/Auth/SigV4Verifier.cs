// AWS Signature Version 4 verification, written here by hand: NuGet has no well-kept library that verifies SigV4 on
// the server side (the AWS SDK for .NET only signs, and its signer is internal API that changes between majors). The
// algorithm follows the S3 API reference ("Signature Calculations for the Authorization Header", "Authenticating
// Requests: Using Query Parameters", the chunked-upload and trailing-header pages) and is tested against its worked
// examples and against requests signed by the AWS SDK.

using System.Collections.Concurrent;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Blueprint.Storage.S3;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Primitives;

namespace Blueprint.Storage.Auth;

/// <summary>Verifies SigV4-signed S3 requests: the <c>Authorization</c> header form and presigned URLs.</summary>
internal sealed class SigV4Verifier
{
    private const int MaxCachedKeys = 256;

    private readonly Func<string, string?> _secretFor;
    private readonly string _region;
    private readonly TimeSpan _clockSkew;
    private readonly TimeProvider _time;
    private readonly ConcurrentDictionary<(string Secret, string Date, string Region), byte[]> _keys = new();

    /// <summary>Creates a verifier.</summary>
    /// <param name="secretFor">The secret of an access key id, or null when the key is unknown.</param>
    /// <param name="region">The region requests must be signed for.</param>
    /// <param name="clockSkew">How far a request's time may be from the server's.</param>
    /// <param name="time">The clock.</param>
    public SigV4Verifier(Func<string, string?> secretFor, string region, TimeSpan clockSkew, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(secretFor);
        ArgumentException.ThrowIfNullOrEmpty(region);
        ArgumentNullException.ThrowIfNull(time);
        _secretFor = secretFor;
        _region = region;
        _clockSkew = clockSkew;
        _time = time;
    }

    /// <summary>
    /// Null when the request carries no signature at all (anonymous: the caller decides); otherwise the verified
    /// context. Throws <see cref="S3Exception"/> when a signature is present but wrong, malformed, for another region
    /// or service, skewed beyond the allowed clock skew, or (presigned) expired or valid for more than seven days.
    /// </summary>
    public SigV4Context? Verify(HttpRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        (string path, string query) = RawTarget(request);
        List<QueryParameter> parameters = ParseQuery(query);

        StringValues authorization = request.Headers.Authorization;
        if (!StringValues.IsNullOrEmpty(authorization))
        {
            if (Find(parameters, "X-Amz-Algorithm") is not null || Find(parameters, "X-Amz-Signature") is not null)
            {
                throw S3Exception.InvalidArgument("Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter or the Authorization header should be specified.");
            }

            if (authorization.Count != 1)
            {
                throw S3Exception.AuthorizationHeaderMalformed("The authorization header is malformed; more than one Authorization header.");
            }

            return VerifyHeader(request, authorization.ToString(), path, parameters);
        }

        if (Find(parameters, "X-Amz-Algorithm") is not null || Find(parameters, "X-Amz-Signature") is not null || Find(parameters, "X-Amz-Credential") is not null)
        {
            return VerifyPresigned(request, path, parameters);
        }

        if (Find(parameters, "AWSAccessKeyId") is not null && Find(parameters, "Signature") is not null)
        {
            throw SignatureV2();
        }

        return null;
    }

    private static S3Exception SignatureV2() => S3Exception.InvalidRequest("Signature Version 2 is not supported; use SigV4 (AWS4-HMAC-SHA256).");

    private SigV4Context VerifyHeader(HttpRequest request, string authorization, string path, List<QueryParameter> parameters)
    {
        ReadOnlySpan<char> auth = authorization.AsSpan().Trim();
        if (auth.StartsWith("AWS ", StringComparison.Ordinal))
        {
            throw SignatureV2();
        }

        if (!auth.StartsWith(SigV4.Algorithm + " ", StringComparison.Ordinal))
        {
            int space = auth.IndexOf(' ');
            string algorithm = (space < 0 ? auth : auth[..space]).ToString();
            throw S3Exception.AuthorizationHeaderMalformed($"The authorization mechanism '{algorithm}' is not supported; use {SigV4.Algorithm}.");
        }

        string? credential = null, signedHeaders = null, signature = null;
        foreach (Range part in auth[(SigV4.Algorithm.Length + 1)..].Split(','))
        {
            ReadOnlySpan<char> item = auth[(SigV4.Algorithm.Length + 1)..][part].Trim();
            if (item.IsEmpty)
            {
                continue;
            }

            int eq = item.IndexOf('=');
            if (eq <= 0)
            {
                throw S3Exception.AuthorizationHeaderMalformed($"The authorization header is malformed; the component '{item}' is not of the form Name=Value.");
            }

            ReadOnlySpan<char> name = item[..eq].Trim();
            string value = item[(eq + 1)..].Trim().ToString();
            if (name.SequenceEqual("Credential"))
            {
                credential = value;
            }
            else if (name.SequenceEqual("SignedHeaders"))
            {
                signedHeaders = value;
            }
            else if (name.SequenceEqual("Signature"))
            {
                signature = value;
            }
        }

        if (credential is null || signedHeaders is null || signature is null)
        {
            throw S3Exception.AuthorizationHeaderMalformed("The authorization header is malformed; it must carry Credential, SignedHeaders and Signature.");
        }

        string? timestamp = request.Headers["x-amz-date"].ToString();
        DateTimeOffset time;
        if (string.IsNullOrEmpty(timestamp))
        {
            string date = request.Headers.Date.ToString();
            if (string.IsNullOrEmpty(date))
            {
                throw S3Exception.AccessDenied("AWS authentication requires a valid Date or x-amz-date header");
            }

            if (!TryParseTimestamp(date, out time)
                && !DateTimeOffset.TryParseExact(date, "r", CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out time))
            {
                throw S3Exception.AccessDenied("AWS authentication requires a valid Date or x-amz-date header");
            }

            timestamp = time.UtcDateTime.ToString(SigV4.TimestampFormat, CultureInfo.InvariantCulture);
        }
        else if (!TryParseTimestamp(timestamp, out time))
        {
            throw S3Exception.AccessDenied("AWS authentication requires a valid Date or x-amz-date header");
        }

        Credential scope = ParseCredential(credential, timestamp, S3Exception.AuthorizationHeaderMalformed);
        string[] headerNames = ParseSignedHeaders(signedHeaders, S3Exception.AuthorizationHeaderMalformed);
        if (!SigV4.IsSha256Hex(signature))
        {
            throw S3Exception.AuthorizationHeaderMalformed("The authorization header is malformed; the signature must be 64 hex digits.");
        }

        DateTimeOffset now = _time.GetUtcNow();
        if ((now - time).Duration() > _clockSkew)
        {
            throw S3Exception.RequestTimeTooSkewed();
        }

        string contentSha256 = request.Headers["x-amz-content-sha256"].ToString();
        if (string.IsNullOrEmpty(contentSha256))
        {
            throw S3Exception.InvalidRequest("Missing required header for this request: x-amz-content-sha256");
        }

        if (SigV4.IsSha256Hex(contentSha256))
        {
            contentSha256 = contentSha256.ToLowerInvariant();
        }
        else if (contentSha256 is not (SigV4.UnsignedPayload or SigV4.StreamingSigned or SigV4.StreamingSignedTrailer or SigV4.StreamingUnsignedTrailer))
        {
            throw S3Exception.InvalidArgument("x-amz-content-sha256 must be UNSIGNED-PAYLOAD, STREAMING-AWS4-HMAC-SHA256-PAYLOAD(-TRAILER), STREAMING-UNSIGNED-PAYLOAD-TRAILER or a valid sha256 value.");
        }

        byte[] key = SigningKey(scope);
        var canonical = new StringBuilder(512);
        AppendCanonicalRequest(canonical, request, path, parameters, headerNames, signedHeaders, request.Headers["x-amz-content-sha256"].ToString(), excludeSignature: false);
        Check(key, timestamp, scope.Scope, canonical, signature);
        return new SigV4Context(scope.AccessKey, key, scope.Scope, timestamp, time, signature.ToLowerInvariant(), contentSha256, isPresigned: false);
    }

    private SigV4Context VerifyPresigned(HttpRequest request, string path, List<QueryParameter> parameters)
    {
        static S3Exception Error(string message) => S3Exception.AuthorizationQueryParametersError(message);

        string algorithm = Find(parameters, "X-Amz-Algorithm")?.Value ?? throw Error("Query-string authentication requires the X-Amz-Algorithm parameter.");
        if (algorithm != SigV4.Algorithm)
        {
            throw Error($"X-Amz-Algorithm only supports \"{SigV4.Algorithm}\".");
        }

        string credential = Find(parameters, "X-Amz-Credential")?.Value ?? throw Error("Query-string authentication requires the X-Amz-Credential parameter.");
        string timestamp = Find(parameters, "X-Amz-Date")?.Value ?? throw Error("Query-string authentication requires the X-Amz-Date parameter.");
        string expiresText = Find(parameters, "X-Amz-Expires")?.Value ?? throw Error("Query-string authentication requires the X-Amz-Expires parameter.");
        string signedHeaders = Find(parameters, "X-Amz-SignedHeaders")?.Value ?? throw Error("Query-string authentication requires the X-Amz-SignedHeaders parameter.");
        string signature = Find(parameters, "X-Amz-Signature")?.Value ?? throw Error("Query-string authentication requires the X-Amz-Signature parameter.");

        if (!TryParseTimestamp(timestamp, out DateTimeOffset time))
        {
            throw Error("X-Amz-Date must be in the ISO8601 Long Format \"yyyyMMdd'T'HHmmss'Z'\".");
        }

        if (!int.TryParse(expiresText, NumberStyles.None, CultureInfo.InvariantCulture, out int expires) || expires < 1)
        {
            throw Error("X-Amz-Expires should be a number of seconds from 1 to 604800.");
        }

        if (expires > SigV4.MaxExpiresSeconds)
        {
            throw Error("X-Amz-Expires must be less than a week (in seconds) that is 604800.");
        }

        Credential scope = ParseCredential(credential, timestamp, Error);
        string[] headerNames = ParseSignedHeaders(signedHeaders, Error);
        if (!SigV4.IsSha256Hex(signature))
        {
            throw Error("X-Amz-Signature must be 64 hex digits.");
        }

        // Whoever holds a presigned URL must not add what its signer did not sign (an x-amz-copy-source, an
        // x-amz-acl, metadata...). The headers that only add checks of the body are allowed unsigned.
        foreach (KeyValuePair<string, StringValues> header in request.Headers)
        {
            if (header.Key.StartsWith("x-amz-", StringComparison.OrdinalIgnoreCase)
                && !IsCheckOnlyHeader(header.Key)
                && !Array.Exists(headerNames, name => string.Equals(name, header.Key, StringComparison.OrdinalIgnoreCase)))
            {
                throw S3Exception.AccessDenied($"There were headers present in the request which were not signed: {header.Key.ToLowerInvariant()}");
            }
        }

        DateTimeOffset now = _time.GetUtcNow();
        if (time - now > _clockSkew)
        {
            throw S3Exception.RequestTimeTooSkewed();
        }

        if (now > time.AddSeconds(expires))
        {
            throw S3Exception.ExpiredPresignedUrl();
        }

        byte[] key = SigningKey(scope);
        var canonical = new StringBuilder(512);
        AppendCanonicalRequest(canonical, request, path, parameters, headerNames, signedHeaders, SigV4.UnsignedPayload, excludeSignature: true);
        Check(key, timestamp, scope.Scope, canonical, signature);

        // A presigned URL's payload is unsigned; a hex x-amz-content-sha256 the client adds is still checked.
        string contentSha256 = request.Headers["x-amz-content-sha256"].ToString();
        if (contentSha256 is SigV4.StreamingSigned or SigV4.StreamingSignedTrailer)
        {
            throw S3Exception.InvalidRequest("A presigned request cannot carry a signed aws-chunked payload; use UNSIGNED-PAYLOAD or STREAMING-UNSIGNED-PAYLOAD-TRAILER.");
        }

        contentSha256 = SigV4.IsSha256Hex(contentSha256) ? contentSha256.ToLowerInvariant()
            : contentSha256 == SigV4.StreamingUnsignedTrailer ? contentSha256
            : SigV4.UnsignedPayload;
        return new SigV4Context(scope.AccessKey, key, scope.Scope, timestamp, time, signature.ToLowerInvariant(), contentSha256, isPresigned: true);
    }

    private static bool IsCheckOnlyHeader(string name) =>
        name.StartsWith("x-amz-checksum-", StringComparison.OrdinalIgnoreCase)
        || name.Equals("x-amz-content-sha256", StringComparison.OrdinalIgnoreCase)
        || name.Equals("x-amz-sdk-checksum-algorithm", StringComparison.OrdinalIgnoreCase)
        || name.Equals("x-amz-trailer", StringComparison.OrdinalIgnoreCase)
        || name.Equals("x-amz-decoded-content-length", StringComparison.OrdinalIgnoreCase)
        || name.Equals("x-amz-user-agent", StringComparison.OrdinalIgnoreCase);

    private static void Check(byte[] key, string timestamp, string scope, StringBuilder canonical, string signature)
    {
        Span<byte> hash = stackalloc byte[32];
        SigV4.Sha256Utf8(canonical, hash);
        Span<char> hex = stackalloc char[64];
        Convert.TryToHexStringLower(hash, hex, out _);
        string stringToSign = string.Concat(SigV4.Algorithm + "\n" + timestamp + "\n", scope + "\n", hex);

        Span<byte> expected = stackalloc byte[32];
        SigV4.HmacUtf8(key, stringToSign, expected);
        Span<byte> provided = stackalloc byte[32];
        if (!SigV4.TryParseSha256Hex(signature, provided) || !CryptographicOperations.FixedTimeEquals(expected, provided))
        {
            throw S3Exception.SignatureDoesNotMatch();
        }
    }

    private static void AppendCanonicalRequest(StringBuilder canonical, HttpRequest request, string path, List<QueryParameter> parameters, string[] headerNames, string signedHeaders, string payloadHash, bool excludeSignature)
    {
        canonical.Append(request.Method).Append('\n');
        if (path.Length == 0)
        {
            canonical.Append('/');
        }
        else
        {
            SigV4.AppendUriEncoded(canonical, path, keepSlash: true, plusIsSpace: false);
        }

        canonical.Append('\n');
        bool first = true;
        foreach (QueryParameter parameter in parameters)
        {
            if (excludeSignature && parameter.Name == "X-Amz-Signature")
            {
                continue;
            }

            if (!first)
            {
                canonical.Append('&');
            }

            first = false;
            canonical.Append(parameter.Name).Append('=').Append(parameter.EncodedValue);
        }

        canonical.Append('\n');
        foreach (string name in headerNames)
        {
            canonical.Append(name).Append(':');
            StringValues values = request.Headers[name];
            for (int i = 0; i < values.Count; i++)
            {
                if (i > 0)
                {
                    canonical.Append(',');
                }

                SigV4.AppendTrimmed(canonical, values[i]);
            }

            canonical.Append('\n');
        }

        canonical.Append('\n').Append(signedHeaders).Append('\n').Append(payloadHash);
    }

    private byte[] SigningKey(Credential credential)
    {
        string secret = _secretFor(credential.AccessKey) ?? throw S3Exception.InvalidAccessKeyId();
        (string, string, string) cacheKey = (secret, credential.Date, credential.Region);
        if (_keys.TryGetValue(cacheKey, out byte[]? key))
        {
            return key;
        }

        key = SigV4.DeriveSigningKey(secret, credential.Date, credential.Region, SigV4.Service);
        if (_keys.Count >= MaxCachedKeys)
        {
            _keys.Clear();
        }

        _keys[cacheKey] = key;
        return key;
    }

    private Credential ParseCredential(string credential, string timestamp, Func<string, S3Exception> error)
    {
        // <access key>/<yyyyMMdd>/<region>/s3/aws4_request, read from the right (the key id has no '/').
        string[] parts = credential.Split('/');
        if (parts.Length != 5 || parts[0].Length == 0)
        {
            throw error($"The credential '{credential}' is malformed; expecting \"<YOUR-AKID>/YYYYMMDD/REGION/SERVICE/aws4_request\".");
        }

        if (parts[1] != timestamp[..8])
        {
            throw error($"Invalid credential date \"{parts[1]}\". This date is not the same as X-Amz-Date: \"{timestamp[..8]}\".");
        }

        if (parts[2] != _region)
        {
            throw error($"The authorization header is malformed; the region '{parts[2]}' is wrong; expecting '{_region}'");
        }

        if (parts[3] != SigV4.Service)
        {
            throw error($"The authorization header is malformed; incorrect service \"{parts[3]}\". This endpoint belongs to \"{SigV4.Service}\".");
        }

        if (parts[4] != SigV4.Terminator)
        {
            throw error($"The authorization header is malformed; incorrect terminal \"{parts[4]}\". This endpoint uses \"{SigV4.Terminator}\".");
        }

        return new Credential(parts[0], parts[1], parts[2], string.Join('/', parts, 1, 4));
    }

    private static string[] ParseSignedHeaders(string signedHeaders, Func<string, S3Exception> error)
    {
        string[] names = signedHeaders.Split(';');
        bool host = false;
        foreach (string name in names)
        {
            if (name.Length == 0)
            {
                throw error("The signed headers are malformed; an empty header name.");
            }

            foreach (char c in name)
            {
                if (char.IsAsciiLetterUpper(c) || c <= ' ' || c >= 0x7F || c == ':')
                {
                    throw error($"The signed headers are malformed; '{name}' is not a lowercase header name.");
                }
            }

            host |= name == "host";
        }

        return host ? names : throw error("The signed headers must include 'host'.");
    }

    private static bool TryParseTimestamp(string value, out DateTimeOffset time) =>
        DateTimeOffset.TryParseExact(value, SigV4.TimestampFormat, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out time);

    /// <summary>The path and query as the client sent them (RawTarget), without the '?'.</summary>
    private static (string Path, string Query) RawTarget(HttpRequest request)
    {
        string? target = request.HttpContext.Features.Get<IHttpRequestFeature>()?.RawTarget;
        if (string.IsNullOrEmpty(target))
        {
            string query = request.QueryString.HasValue ? request.QueryString.Value![1..] : "";
            return ((request.PathBase + request.Path).ToUriComponent(), query);
        }

        if (target[0] != '/')
        {
            // absolute-form (http://host/path?query): drop the scheme and authority.
            int scheme = target.IndexOf("://", StringComparison.Ordinal);
            if (scheme >= 0)
            {
                int slash = target.IndexOfAny(['/', '?'], scheme + 3);
                target = slash < 0 ? "/" : target[slash] == '?' ? "/" + target[slash..] : target[slash..];
            }
        }

        int q = target.IndexOf('?');
        return q < 0 ? (target, "") : (target[..q], target[(q + 1)..]);
    }

    /// <summary>The query's parameters, names and values canonically encoded, sorted by name then value.</summary>
    private static List<QueryParameter> ParseQuery(string query)
    {
        var parameters = new List<QueryParameter>();
        foreach (Range range in query.AsSpan().Split('&'))
        {
            ReadOnlySpan<char> pair = query.AsSpan()[range];
            if (pair.IsEmpty)
            {
                continue;
            }

            int eq = pair.IndexOf('=');
            ReadOnlySpan<char> name = eq < 0 ? pair : pair[..eq];
            ReadOnlySpan<char> value = eq < 0 ? [] : pair[(eq + 1)..];
            parameters.Add(new QueryParameter(SigV4.UriEncode(name, keepSlash: false, plusIsSpace: true), SigV4.UriEncode(value, keepSlash: false, plusIsSpace: true)));
        }

        parameters.Sort(static (a, b) =>
        {
            int byName = string.CompareOrdinal(a.Name, b.Name);
            return byName != 0 ? byName : string.CompareOrdinal(a.EncodedValue, b.EncodedValue);
        });
        return parameters;
    }

    private static QueryParameter? Find(List<QueryParameter> parameters, string name)
    {
        foreach (QueryParameter parameter in parameters)
        {
            if (parameter.Name == name)
            {
                return parameter;
            }
        }

        return null;
    }

    private sealed record Credential(string AccessKey, string Date, string Region, string Scope);

    private sealed class QueryParameter(string name, string encodedValue)
    {
        /// <summary>The name, canonically encoded (the X-Amz-* names encode to themselves).</summary>
        public string Name { get; } = name;

        public string EncodedValue { get; } = encodedValue;

        /// <summary>The decoded value (the canonical encoding is strict, so unescaping it is exact).</summary>
        public string Value => Uri.UnescapeDataString(EncodedValue);
    }
}
