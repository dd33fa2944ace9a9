using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace Blueprint.StorageLoad;

/// <summary>
/// Signs requests with AWS Signature Version 4 in the Authorization header, the payload declared
/// <c>UNSIGNED-PAYLOAD</c>: the cost per request is two SHA-256/HMAC passes over a few hundred bytes, none per body byte.
/// Keys are plain ASCII (letters, digits, '-', '.', '/'), so the path needs no encoding.
/// </summary>
internal sealed class SigV4Signer
{
    private const string Algorithm = "AWS4-HMAC-SHA256";
    private const string Unsigned = "UNSIGNED-PAYLOAD";
    private const string SignedHeaders = "host;x-amz-content-sha256;x-amz-date";
    private readonly string _accessKey;
    private readonly string _secretKey;
    private readonly string _region;
    private readonly Lock _gate = new();
    private string _keyDate = "";
    private byte[] _key = [];

    public SigV4Signer(string accessKey, string secretKey, string region)
    {
        _accessKey = accessKey;
        _secretKey = secretKey;
        _region = region;
    }

    /// <summary>Adds x-amz-date, x-amz-content-sha256 and Authorization to <paramref name="request"/>.</summary>
    public void Sign(HttpRequestMessage request)
    {
        ArgumentNullException.ThrowIfNull(request);
        var uri = request.RequestUri ?? throw new ArgumentException("the request has no URI", nameof(request));
        var timestamp = DateTime.UtcNow.ToString("yyyyMMdd'T'HHmmss'Z'", CultureInfo.InvariantCulture);
        var date = timestamp[..8];
        var host = uri.IsDefaultPort ? uri.Host : uri.Host + ":" + uri.Port.ToString(CultureInfo.InvariantCulture);
        var canonical = string.Concat(
            request.Method.Method, "\n",
            uri.AbsolutePath, "\n",
            uri.Query.TrimStart('?'), "\n",
            "host:" + host + "\n",
            "x-amz-content-sha256:" + Unsigned + "\n",
            "x-amz-date:" + timestamp + "\n",
            "\n",
            SignedHeaders + "\n",
            Unsigned);
        var scope = date + "/" + _region + "/s3/aws4_request";
        var stringToSign = Algorithm + "\n" + timestamp + "\n" + scope + "\n" +
            Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(canonical)));
        var signature = Convert.ToHexStringLower(HMACSHA256.HashData(KeyFor(date), Encoding.UTF8.GetBytes(stringToSign)));
        request.Headers.TryAddWithoutValidation("x-amz-date", timestamp);
        request.Headers.TryAddWithoutValidation("x-amz-content-sha256", Unsigned);
        request.Headers.TryAddWithoutValidation(
            "Authorization", Algorithm + " Credential=" + _accessKey + "/" + scope + ", SignedHeaders=" + SignedHeaders + ", Signature=" + signature);
    }

    private byte[] KeyFor(string date)
    {
        lock (_gate)
        {
            if (_keyDate != date)
            {
                var key = HMACSHA256.HashData(Encoding.UTF8.GetBytes("AWS4" + _secretKey), Encoding.UTF8.GetBytes(date));
                key = HMACSHA256.HashData(key, Encoding.UTF8.GetBytes(_region));
                key = HMACSHA256.HashData(key, "s3"u8);
                _key = HMACSHA256.HashData(key, "aws4_request"u8);
                _keyDate = date;
            }

            return _key;
        }
    }
}
