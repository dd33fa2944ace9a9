using System.ComponentModel.DataAnnotations;
using Blueprint.Gateway.Forward;

namespace Blueprint.Gateway;

/// <summary>Options of the gateway module (configuration section <c>Gateway</c>); routes and clusters are under <c>Gateway:ReverseProxy</c> in YARP's shape.</summary>
public sealed class GatewayOptions : IValidatableObject
{
    /// <summary>The configuration section.</summary>
    public const string Section = "Gateway";

    /// <summary>A JSON file with routes and clusters in YARP's shape, reloaded when it changes; it replaces <c>Gateway:ReverseProxy</c>.</summary>
    public string? ConfigFile { get; set; }

    /// <summary>
    /// The TLS port (HTTP/1.1 and HTTP/2 by ALPN); 0 (the default) turns it off. Without a configured
    /// certificate, a self-signed one for localhost is made at the first start and kept in the data directory.
    /// </summary>
    [Range(0, 65535, ErrorMessage = "must be a port from 1 to 65535, or 0 for none")]
    public int HttpsPort { get; set; }

    /// <summary>A cleartext HTTP/2-only port (h2c, prior knowledge, as gRPC clients use); 0 (the default) turns it off.</summary>
    [Range(0, 65535, ErrorMessage = "must be a port from 1 to 65535, or 0 for none")]
    public int H2cPort { get; set; }

    /// <summary>The certificate for <see cref="HttpsPort"/>.</summary>
    public CertificateOptions Certificate { get; set; } = new();

    /// <summary>JWT bearer validation, for routes whose <c>AuthorizationPolicy</c> is <c>jwt</c>.</summary>
    public JwtOptions Jwt { get; set; } = new();

    /// <summary>CORS policies by name, for routes' <c>CorsPolicy</c> (read at start).</summary>
    public Dictionary<string, CorsPolicySettings> Cors { get; set; } = new(StringComparer.Ordinal);

    /// <summary>Whether each request that matched a route is logged (category <c>Blueprint.Gateway.AccessLog</c>). <value>Default true.</value></summary>
    public bool AccessLog { get; set; } = true;

    /// <summary>The forward proxy (absolute-form requests and CONNECT tunnels to allowed destinations); off unless its port is set.</summary>
    public ForwardProxyOptions ForwardProxy { get; set; } = new();

    /// <inheritdoc />
    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        foreach (var (name, policy) in Cors)
        {
            foreach (var (key, reason) in policy.Problems())
            {
                yield return new ValidationResult(reason, [$"{nameof(Cors)}:{name}:{key}"]);
            }
        }

        if (!string.IsNullOrWhiteSpace(Certificate.Path) && !File.Exists(Certificate.Path))
        {
            yield return new ValidationResult($"no such file: {Certificate.Path}", [$"{nameof(Certificate)}:{nameof(CertificateOptions.Path)}"]);
        }

        if (!string.IsNullOrWhiteSpace(Certificate.KeyPath) && !File.Exists(Certificate.KeyPath))
        {
            yield return new ValidationResult($"no such file: {Certificate.KeyPath}", [$"{nameof(Certificate)}:{nameof(CertificateOptions.KeyPath)}"]);
        }

        if (Jwt.IsEnabled)
        {
            if (string.IsNullOrWhiteSpace(Jwt.Audience))
            {
                yield return new ValidationResult("must be set when Gateway:Jwt:Issuer is", [$"{nameof(Jwt)}:{nameof(JwtOptions.Audience)}"]);
            }

            if (Jwt.SigningKeys.Count == 0)
            {
                yield return new ValidationResult("needs at least one key (base64 for HMAC, or a PEM public key) when Gateway:Jwt:Issuer is set", [$"{nameof(Jwt)}:{nameof(JwtOptions.SigningKeys)}"]);
            }

            for (var i = 0; i < Jwt.SigningKeys.Count; i++)
            {
                if (JwtOptions.TryParseKey(Jwt.SigningKeys[i], out _) is { } reason)
                {
                    yield return new ValidationResult(reason, [$"{nameof(Jwt)}:{nameof(JwtOptions.SigningKeys)}:{i}"]);
                }
            }

            if (Jwt.ClockSkewSeconds is < 0 or > 300)
            {
                yield return new ValidationResult("must be from 0 to 300 seconds", [$"{nameof(Jwt)}:{nameof(JwtOptions.ClockSkewSeconds)}"]);
            }
        }

        if (HttpsPort != 0 && HttpsPort == H2cPort)
        {
            yield return new ValidationResult("must differ from Gateway:H2cPort", [nameof(HttpsPort)]);
        }

        foreach (var result in ForwardProxy.Validate(nameof(ForwardProxy)))
        {
            yield return result;
        }
    }
}

/// <summary>A TLS certificate: a PFX (with its password) or a PEM certificate with its PEM key.</summary>
public sealed class CertificateOptions
{
    /// <summary>The PFX or PEM certificate file; empty for the development certificate.</summary>
    public string? Path { get; set; }

    /// <summary>The PEM private key, when <see cref="Path"/> is a PEM certificate.</summary>
    public string? KeyPath { get; set; }

    /// <summary>The PFX password.</summary>
    public string? Password { get; set; }
}

/// <summary>How bearer tokens are validated: issuer, audience, lifetime and signature.</summary>
public sealed class JwtOptions
{
    /// <summary>The expected issuer (<c>iss</c>); empty turns JWT validation off.</summary>
    public string? Issuer { get; set; }

    /// <summary>The expected audience (<c>aud</c>).</summary>
    public string? Audience { get; set; }

    /// <summary>Signing keys: base64 secrets (HS256/384/512) or PEM public keys (RSA or ECDSA), so keys can be rotated.</summary>
    public List<string> SigningKeys { get; set; } = [];

    /// <summary>Tolerated clock difference. <value>0–300 seconds; default 30 (checked by <see cref="GatewayOptions"/>).</value></summary>
    public int ClockSkewSeconds { get; set; } = 30;

    /// <summary>Whether JWT validation is configured.</summary>
    public bool IsEnabled => !string.IsNullOrWhiteSpace(Issuer);

    /// <summary>The PEM key as <typeparamref name="TAlgorithm"/>, or null (the algorithm object disposed) when it is not one.</summary>
    private static Microsoft.IdentityModel.Tokens.SecurityKey? ImportPem<TAlgorithm>(
        string pem, Func<TAlgorithm> create, Func<TAlgorithm, Microsoft.IdentityModel.Tokens.SecurityKey> wrap)
        where TAlgorithm : System.Security.Cryptography.AsymmetricAlgorithm
    {
        var algorithm = create();
        try
        {
            algorithm.ImportFromPem(pem);
            return wrap(algorithm);
        }
        catch (Exception e) when (e is ArgumentException or System.Security.Cryptography.CryptographicException)
        {
            algorithm.Dispose();
            return null;
        }
    }

    /// <summary>Parses one configured key; returns null and the key, or the reason it is not one.</summary>
    internal static string? TryParseKey(string text, out Microsoft.IdentityModel.Tokens.SecurityKey? key)
    {
        key = null;
        var trimmed = text.Trim();
        if (trimmed.StartsWith("-----BEGIN", StringComparison.Ordinal))
        {
            key = ImportPem(trimmed, System.Security.Cryptography.RSA.Create, rsa => new Microsoft.IdentityModel.Tokens.RsaSecurityKey(rsa))
                ?? ImportPem(trimmed, System.Security.Cryptography.ECDsa.Create, ecdsa => new Microsoft.IdentityModel.Tokens.ECDsaSecurityKey(ecdsa));
            return key is null ? "is not a PEM RSA or ECDSA public key" : null;
        }

        var bytes = new byte[trimmed.Length];
        if (!Convert.TryFromBase64String(trimmed, bytes, out var written))
        {
            return "is neither base64 (an HMAC secret) nor a PEM public key";
        }

        if (written < 32)
        {
            return "an HMAC secret needs at least 32 bytes (256 bits)";
        }

        key = new Microsoft.IdentityModel.Tokens.SymmetricSecurityKey(bytes[..written]);
        return null;
    }
}
