// A SigV4 request signer for the backup client, written here by hand: the AWS SDK is only a test dependency of this
// project, and taking it into the product for one signer would ship a large SDK for about a hundred lines. The module
// already holds SigV4's pieces (SigV4.cs: the key derivation, header trimming, hashing) for its verifier; this signs
// with them, path-style, with an unsigned payload (the bodies are checked by their sha256 and MD5 instead).

using System.Globalization;
using System.Text;
using Blueprint.Storage.Auth;

namespace Blueprint.Storage.Backup;

/// <summary>Signs S3 requests with SigV4 (Authorization header, <c>UNSIGNED-PAYLOAD</c>).</summary>
internal sealed class S3Signer
{
    private readonly string _accessKey;
    private readonly string _secretKey;
    private readonly string _region;
    private readonly TimeProvider _time;

    public S3Signer(string accessKey, string secretKey, string region, TimeProvider time)
    {
        _accessKey = accessKey;
        _secretKey = secretKey;
        _region = region;
        _time = time;
    }

    /// <summary>
    /// Adds <c>x-amz-date</c>, <c>x-amz-content-sha256</c> and <c>Authorization</c> to <paramref name="request"/>,
    /// signing the host, every <c>x-amz-*</c> header and the content type. The request URI must be the one
    /// <see cref="Uri"/> of <see cref="EncodePath"/> and <see cref="EncodeQuery"/> built (sent as is, not canonicalized again).
    /// </summary>
    public void Sign(HttpRequestMessage request)
    {
        ArgumentNullException.ThrowIfNull(request);
        var uri = request.RequestUri ?? throw new ArgumentException("the request has no URI", nameof(request));
        var now = _time.GetUtcNow().UtcDateTime;
        var timestamp = now.ToString(SigV4.TimestampFormat, CultureInfo.InvariantCulture);
        var date = timestamp[..8];
        request.Headers.Remove("x-amz-date");
        request.Headers.Remove("x-amz-content-sha256");
        request.Headers.TryAddWithoutValidation("x-amz-date", timestamp);
        request.Headers.TryAddWithoutValidation("x-amz-content-sha256", SigV4.UnsignedPayload);

        SortedDictionary<string, string> headers = new(StringComparer.Ordinal) { ["host"] = uri.IsDefaultPort ? uri.Host : uri.Authority };
        foreach (var (name, values) in request.Headers)
        {
            if (name.StartsWith("x-amz-", StringComparison.OrdinalIgnoreCase))
            {
                headers[name.ToLowerInvariant()] = string.Join(',', values);
            }
        }

        if (request.Content?.Headers.ContentType is { } contentType)
        {
            headers["content-type"] = contentType.ToString();
        }

        var signedHeaders = string.Join(';', headers.Keys);
        var canonical = new StringBuilder(512);
        canonical.Append(request.Method.Method).Append('\n');
        var path = uri.AbsolutePath;
        canonical.Append(path.Length == 0 ? "/" : path).Append('\n');
        var query = uri.Query.TrimStart('?');
        if (query.Length > 0)
        {
            var pairs = query.Split('&').Select(p => p.Split('=', 2)).Select(p => (Name: p[0], Value: p.Length > 1 ? p[1] : ""));
            canonical.AppendJoin('&', pairs.OrderBy(p => p.Name, StringComparer.Ordinal).ThenBy(p => p.Value, StringComparer.Ordinal).Select(p => $"{p.Name}={p.Value}"));
        }

        canonical.Append('\n');
        foreach (var (name, value) in headers)
        {
            canonical.Append(name).Append(':');
            SigV4.AppendTrimmed(canonical, value);
            canonical.Append('\n');
        }

        canonical.Append('\n').Append(signedHeaders).Append('\n').Append(SigV4.UnsignedPayload);

        Span<byte> hash = stackalloc byte[32];
        SigV4.Sha256Utf8(canonical, hash);
        var scope = $"{date}/{_region}/{SigV4.Service}/{SigV4.Terminator}";
        var stringToSign = $"{SigV4.Algorithm}\n{timestamp}\n{scope}\n{Convert.ToHexStringLower(hash)}";
        var key = SigV4.DeriveSigningKey(_secretKey, date, _region, SigV4.Service);
        Span<byte> signature = stackalloc byte[32];
        SigV4.HmacUtf8(key, stringToSign, signature);
        request.Headers.TryAddWithoutValidation("Authorization",
            $"{SigV4.Algorithm} Credential={_accessKey}/{scope}, SignedHeaders={signedHeaders}, Signature={Convert.ToHexStringLower(signature)}");
    }

    /// <summary>The path-style path of a bucket and (optional) key: every byte but RFC 3986's unreserved ones and the key's slashes escaped.</summary>
    public static string EncodePath(string bucket, string? key)
    {
        var builder = new StringBuilder("/").Append(Uri.EscapeDataString(bucket));
        if (key is not null)
        {
            builder.Append('/').AppendJoin('/', key.Split('/').Select(Uri.EscapeDataString));
        }

        return builder.ToString();
    }

    /// <summary>A query string (without '?') of <paramref name="parameters"/>, names and values escaped as SigV4 canonicalizes them.</summary>
    public static string EncodeQuery(IEnumerable<(string Name, string? Value)> parameters) =>
        string.Join('&', parameters.Select(p => p.Value is null ? Uri.EscapeDataString(p.Name) : $"{Uri.EscapeDataString(p.Name)}={Uri.EscapeDataString(p.Value)}"));
}
