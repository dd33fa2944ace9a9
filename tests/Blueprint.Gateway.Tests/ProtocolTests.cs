using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;

namespace Blueprint.Gateway.Tests;

/// <summary>TLS with HTTP/2 by ALPN on the development certificate, and cleartext HTTP/2 (h2c) with curl.</summary>
public sealed class ProtocolTests
{
    [Fact]
    public async Task HTTPS_with_HTTP2_on_a_development_certificate_made_once_per_data_directory()
    {
        await using var backends = await Backends.StartAsync(1);
        using var directory = new TempDirectory("gateway-tls");
        var port = FreePorts.Next();
        string thumbprint;
        await using (var gateway = await StartAsync(backends, directory.Path, new() { ["Gateway:HttpsPort"] = $"{port}" }))
        {
            var file = Path.Combine(directory.Path, "gateway", "dev-cert.pfx");
            if (!OperatingSystem.IsWindows())
            {
                Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(file)); // the private key is the owner's alone
            }
            using var certificate = X509CertificateLoader.LoadPkcs12FromFile(file, null);
            thumbprint = certificate.Thumbprint;
            Assert.Contains("localhost", certificate.GetNameInfo(X509NameType.DnsName, false), StringComparison.Ordinal);
            var (version, body) = await GetOverTlsAsync(port, thumbprint);
            Assert.Equal(HttpVersion.Version20, version);
            Assert.Equal("b0 GET /svc/secure", body);
        }

        // A restart keeps the same certificate (clients that trusted it keep trusting it).
        await using (await StartAsync(backends, directory.Path, new() { ["Gateway:HttpsPort"] = $"{port}" }))
        {
            using var again = X509CertificateLoader.LoadPkcs12FromFile(Path.Combine(directory.Path, "gateway", "dev-cert.pfx"), null);
            Assert.Equal(thumbprint, again.Thumbprint);
            Assert.Equal(HttpVersion.Version20, (await GetOverTlsAsync(port, thumbprint)).Version);
        }
    }

    [Fact]
    public async Task Cleartext_HTTP2_with_prior_knowledge_answers_curl()
    {
        var curl = Peers.Require("curl", "curl");
        await using var backends = await Backends.StartAsync(1);
        using var directory = new TempDirectory("gateway-h2c");
        var port = FreePorts.Next();
        await using var gateway = await StartAsync(backends, directory.Path, new() { ["Gateway:H2cPort"] = $"{port}" });
        await using var process = ProcessRunner.Start(curl, ["-s", "--http2-prior-knowledge", "-w", "\n%{http_version} %{http_code}", $"http://127.0.0.1:{port}/svc/h2c"]);
        Assert.Equal(0, await process.WaitForExitAsync(TimeSpan.FromSeconds(30)));
        Assert.Equal(["b0 GET /svc/h2c", "2 200"], process.StandardOutput.Trim().Split('\n'));
    }

    [Fact]
    public async Task A_busy_HTTPS_port_is_a_startup_problem_naming_the_setting()
    {
        using var busy = new TcpListener(IPAddress.Loopback, 0);
        busy.Start();
        var port = ((IPEndPoint)busy.LocalEndpoint).Port;
        using var directory = new TempDirectory("gateway-busy");
        await using var backends = await Backends.StartAsync(1);
        var error = await Assert.ThrowsAsync<Blueprint.Hosting.StartupProblemException>(() => StartAsync(backends, directory.Path, new() { ["Gateway:HttpsPort"] = $"{port}" }));
        Assert.Contains("Gateway:HttpsPort", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task One_port_for_two_listeners_is_refused_naming_both()
    {
        using var directory = new TempDirectory("gateway-clash");
        await using var backends = await Backends.StartAsync(1);
        var port = FreePorts.Next();
        var error = await Assert.ThrowsAsync<Blueprint.Hosting.StartupProblemException>(() => StartAsync(backends, directory.Path, new()
        {
            ["Gateway:HttpsPort"] = $"{port}",
            ["Gateway:H2cPort"] = $"{FreePorts.Next()}",
            ["Node:HttpPort"] = $"{port}",
        }));
        Assert.Equal($"port {port} is configured for both HTTP (--http-port) and HTTPS (gateway) (Gateway:HttpsPort); give each its own", error.Message);
    }

    private static Task<TestNode> StartAsync(Backends backends, string dataDir, Dictionary<string, string?> settings)
    {
        settings["Node:Modules"] = "gateway";
        settings["Gateway:ReverseProxy:Routes:svc:ClusterId"] = "backends";
        settings["Gateway:ReverseProxy:Routes:svc:Match:Path"] = "/svc/{**rest}";
        settings["Gateway:ReverseProxy:Clusters:backends:Destinations:b0:Address"] = backends.Addresses[0];
        return TestNode.StartAsync(dataDir, settings, TestContext.Current.CancellationToken);
    }

    private static async Task<(Version Version, string Body)> GetOverTlsAsync(int port, string thumbprint)
    {
        using var handler = new SocketsHttpHandler();
        handler.SslOptions.RemoteCertificateValidationCallback = (_, certificate, _, _) =>
            certificate is not null && string.Equals(new X509Certificate2(certificate).Thumbprint, thumbprint, StringComparison.Ordinal);
        using var client = new HttpClient(handler);
        using var request = new HttpRequestMessage(HttpMethod.Get, $"https://localhost:{port}/svc/secure")
        {
            Version = HttpVersion.Version20,
            VersionPolicy = HttpVersionPolicy.RequestVersionExact,
        };
        using var response = await client.SendAsync(request, TestContext.Current.CancellationToken);
        response.EnsureSuccessStatusCode();
        return (response.Version, await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
    }
}
