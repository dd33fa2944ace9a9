using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Blueprint.Gateway;

/// <summary>The gateway's TLS certificate: the configured one, or a self-signed development certificate made once per data directory.</summary>
internal static class Certificates
{
    /// <summary>The development certificate's file name in the module's data directory.</summary>
    public const string DevelopmentFile = "dev-cert.pfx";

    /// <summary>Loads the configured certificate, or the development one from <paramref name="directory"/>, making it on first use.</summary>
    public static X509Certificate2 Load(CertificateOptions options, string directory)
    {
        if (!string.IsNullOrWhiteSpace(options.Path))
        {
            return string.IsNullOrWhiteSpace(options.KeyPath)
                ? X509CertificateLoader.LoadPkcs12FromFile(options.Path, options.Password)
                : X509Certificate2.CreateFromPemFile(options.Path, options.KeyPath);
        }

        var path = Path.Combine(directory, DevelopmentFile);
        var now = DateTimeOffset.UtcNow;
        if (File.Exists(path))
        {
            var existing = X509CertificateLoader.LoadPkcs12FromFile(path, null);
            if (existing.NotAfter > now.AddDays(30).UtcDateTime)
            {
                return existing;
            }

            // Within a month of expiry: replace it.
            existing.Dispose();
            File.Delete(path);
        }

        var pfx = CreateDevelopment(now);
        // Written private (0600) from the first byte, under a temporary name, then moved into place
        // without overwriting: a node sharing the directory that got there first wins, and nobody
        // ever reads a half-written file.
        var temporary = $"{path}.{Environment.ProcessId}.tmp";
        var create = new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            create.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }

        using (var stream = new FileStream(temporary, create))
        {
            stream.Write(pfx);
        }

        try
        {
            File.Move(temporary, path, overwrite: false);
            return X509CertificateLoader.LoadPkcs12(pfx, null);
        }
        catch (IOException) when (File.Exists(path))
        {
            File.Delete(temporary);
            return X509CertificateLoader.LoadPkcs12FromFile(path, null);
        }
    }

    /// <summary>A self-signed server certificate for localhost, 127.0.0.1 and ::1, valid a year from <paramref name="now"/>, as PFX bytes.</summary>
    internal static byte[] CreateDevelopment(DateTimeOffset now)
    {
        using var key = RSA.Create(2048);
        var request = new CertificateRequest("CN=localhost, O=Blueprint development", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        var names = new SubjectAlternativeNameBuilder();
        names.AddDnsName("localhost");
        names.AddIpAddress(IPAddress.Loopback);
        names.AddIpAddress(IPAddress.IPv6Loopback);
        request.CertificateExtensions.Add(names.Build());
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature | X509KeyUsageFlags.KeyEncipherment, true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], false));
        using var certificate = request.CreateSelfSigned(now.AddMinutes(-5), now.AddYears(1));
        return certificate.Export(X509ContentType.Pfx);
    }
}
