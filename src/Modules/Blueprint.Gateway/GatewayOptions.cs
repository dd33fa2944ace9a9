using System.ComponentModel.DataAnnotations;

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

    /// <inheritdoc />
    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (!string.IsNullOrWhiteSpace(Certificate.Path) && !File.Exists(Certificate.Path))
        {
            yield return new ValidationResult($"no such file: {Certificate.Path}", [$"{nameof(Certificate)}:{nameof(CertificateOptions.Path)}"]);
        }

        if (!string.IsNullOrWhiteSpace(Certificate.KeyPath) && !File.Exists(Certificate.KeyPath))
        {
            yield return new ValidationResult($"no such file: {Certificate.KeyPath}", [$"{nameof(Certificate)}:{nameof(CertificateOptions.KeyPath)}"]);
        }

        if (HttpsPort != 0 && HttpsPort == H2cPort)
        {
            yield return new ValidationResult("must differ from Gateway:H2cPort", [nameof(HttpsPort)]);
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
