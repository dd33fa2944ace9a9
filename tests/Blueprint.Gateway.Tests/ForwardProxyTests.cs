using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;

namespace Blueprint.Gateway.Tests;

/// <summary>The forward proxy with real loopback destinations: absolute-form requests, CONNECT tunnels, the allowlist, and curl as a client.</summary>
public sealed class ForwardProxyTests
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(30);

    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Absolute_form_GET_to_an_allowed_destination_is_forwarded_without_proxy_headers()
    {
        await using var backend = await RecordingBackend.StartAsync();
        await using var proxy = await ForwardProxyHarness.StartAsync([$"127.0.0.1:{backend.Port}"]);

        var response = await RawAsync(proxy.Port,
            $"GET http://127.0.0.1:{backend.Port}/hello?x=1 HTTP/1.0\r\nHost: 127.0.0.1:{backend.Port}\r\n"
            + "Proxy-Authorization: Basic dXNlcjpwYXNz\r\nProxy-Connection: keep-alive\r\nProxy-Trace: 7\r\n"
            + "Connection: X-Hop\r\nX-Hop: drop me\r\nX-Kept: 1\r\n\r\n");

        Assert.StartsWith("HTTP/1.1 200 ", response, StringComparison.Ordinal);
        Assert.EndsWith("\r\n\r\nseen GET /hello?x=1", response, StringComparison.Ordinal);
        var request = Assert.Single(backend.Requests);
        Assert.Contains("x-kept", request.Headers);
        Assert.DoesNotContain(request.Headers, name => name.StartsWith("proxy-", StringComparison.Ordinal));
        Assert.DoesNotContain("x-hop", request.Headers); // named by Connection: hop-by-hop
        Assert.Contains("via", request.Headers);
    }

    [Fact]
    public async Task A_destination_outside_the_allowlist_is_refused_with_403_and_never_reached()
    {
        await using var allowed = await RecordingBackend.StartAsync();
        await using var other = await RecordingBackend.StartAsync();
        await using var proxy = await ForwardProxyHarness.StartAsync([$"127.0.0.1:{allowed.Port}"]);
        using var client = ProxiedClient(proxy.Port);

        using var refused = await client.GetAsync($"http://127.0.0.1:{other.Port}/secret", Cancel);
        Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
        Assert.Equal("application/problem+json", refused.Content.Headers.ContentType?.MediaType);
        var detail = JsonDocument.Parse(await refused.Content.ReadAsStringAsync(Cancel)).RootElement.GetProperty("detail").GetString();
        Assert.Equal($"127.0.0.1:{other.Port} is not on Gateway:ForwardProxy:Allow", detail);

        // A name is never resolved to match an address rule: localhost is not 127.0.0.1 here.
        using var byName = await client.GetAsync($"http://localhost:{allowed.Port}/x", Cancel);
        Assert.Equal(HttpStatusCode.Forbidden, byName.StatusCode);

        using var ok = await client.GetAsync($"http://127.0.0.1:{allowed.Port}/x", Cancel);
        Assert.Equal("seen GET /x", await ok.Content.ReadAsStringAsync(Cancel));
        Assert.Empty(other.Requests);
        Assert.Single(allowed.Requests);
    }

    [Fact]
    public async Task An_empty_allowlist_refuses_everything_and_says_why()
    {
        await using var backend = await RecordingBackend.StartAsync();
        await using var proxy = await ForwardProxyHarness.StartAsync([]);
        using var client = ProxiedClient(proxy.Port);
        using var refused = await client.GetAsync($"http://127.0.0.1:{backend.Port}/x", Cancel);
        Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
        Assert.Contains("Gateway:ForwardProxy:Allow is empty", await refused.Content.ReadAsStringAsync(Cancel), StringComparison.Ordinal);
        Assert.Empty(backend.Requests);
    }

    [Fact]
    public async Task Origin_form_on_the_forward_proxy_port_is_400_and_absolute_form_on_the_node_port_is_not_forwarded()
    {
        await using var backend = await RecordingBackend.StartAsync();
        await using var proxy = await ForwardProxyHarness.StartAsync([$"127.0.0.1:{backend.Port}"]);
        using var direct = new HttpClient();
        using var response = await direct.GetAsync($"http://127.0.0.1:{proxy.Port}/hello", Cancel);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("is not absolute-form", await response.Content.ReadAsStringAsync(Cancel), StringComparison.Ordinal);

        // The node's own HTTP port is no forward proxy, whatever the request says.
        var onNodePort = await RawAsync(proxy.Node.Node.HttpAddress.Port,
            $"GET http://127.0.0.1:{backend.Port}/x HTTP/1.1\r\nHost: 127.0.0.1:{backend.Port}\r\nConnection: close\r\n\r\n");
        Assert.StartsWith("HTTP/1.1 404 ", onNodePort, StringComparison.Ordinal);
        Assert.Empty(backend.Requests);
    }

    [Fact]
    public async Task An_allowed_destination_that_is_down_is_502()
    {
        var closed = FreePorts.Next(); // nothing listens there
        await using var proxy = await ForwardProxyHarness.StartAsync([$"127.0.0.1:{closed}"], connectPorts: [closed]);
        using var client = ProxiedClient(proxy.Port);
        using var response = await client.GetAsync($"http://127.0.0.1:{closed}/x", Cancel);
        Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);
        Assert.Contains("cannot be reached", await response.Content.ReadAsStringAsync(Cancel), StringComparison.Ordinal);

        var tunnel = await RawAsync(proxy.Port, $"CONNECT 127.0.0.1:{closed} HTTP/1.1\r\nHost: 127.0.0.1:{closed}\r\n\r\n");
        Assert.StartsWith("HTTP/1.1 502 Bad Gateway\r\n", tunnel, StringComparison.Ordinal);
        Assert.Contains("ConnectionRefused", tunnel, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_allowed_destination_that_never_accepts_is_504_after_the_connect_timeout()
    {
        using var full = await FullListener.StartAsync();
        await using var proxy = await ForwardProxyHarness.StartAsync([$"127.0.0.1:{full.Port}"], connectPorts: [full.Port], connectTimeoutSeconds: 1);
        using var client = ProxiedClient(proxy.Port);
        using var response = await client.GetAsync($"http://127.0.0.1:{full.Port}/x", Cancel);
        Assert.Equal(HttpStatusCode.GatewayTimeout, response.StatusCode);

        var tunnel = await RawAsync(proxy.Port, $"CONNECT 127.0.0.1:{full.Port} HTTP/1.1\r\nHost: 127.0.0.1:{full.Port}\r\n\r\n");
        Assert.StartsWith("HTTP/1.1 504 Gateway Timeout\r\n", tunnel, StringComparison.Ordinal);
        Assert.Contains("did not accept a connection within 1 s", tunnel, StringComparison.Ordinal);
    }

    [Fact]
    public async Task CONNECT_to_an_allowed_echo_server_tunnels_bytes_both_ways_and_passes_the_half_close()
    {
        await using var echo = EchoServer.Start();
        await using var proxy = await ForwardProxyHarness.StartAsync([$"127.0.0.1:{echo.Port}"], connectPorts: [echo.Port]);
        using var socket = new Socket(SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync(IPAddress.Loopback, proxy.Port, Cancel);
        await using var stream = new NetworkStream(socket);
        // The first bytes for the destination travel in the same packet as the request head.
        await stream.WriteAsync(Encoding.ASCII.GetBytes($"CONNECT 127.0.0.1:{echo.Port} HTTP/1.1\r\nHost: 127.0.0.1:{echo.Port}\r\n\r\nearly;"), Cancel);
        Assert.Equal("HTTP/1.1 200 Connection Established\r\n\r\n", await ReadExactlyAsync(stream, "HTTP/1.1 200 Connection Established\r\n\r\n".Length));
        Assert.Equal("echo:early;", await ReadExactlyAsync(stream, "echo:early;".Length));

        var large = new string('z', 200_000) + ";"; // more than one tunnel buffer and Kestrel's output buffer
        await stream.WriteAsync(Encoding.ASCII.GetBytes(large), Cancel);
        Assert.Equal("echo:" + large, await ReadExactlyAsync(stream, 5 + large.Length));

        socket.Shutdown(SocketShutdown.Send); // the echo server sees the end, says goodbye and closes
        Assert.Equal("echo:bye", await ReadToEndAsync(stream));
    }

    [Fact]
    public async Task CONNECT_outside_the_allowlist_or_to_a_port_not_in_ConnectPorts_is_403_and_never_reached()
    {
        await using var echo = EchoServer.Start();
        await using var allowedHostOtherPort = await ForwardProxyHarness.StartAsync([$"127.0.0.2"], connectPorts: [echo.Port]);
        var outside = await RawAsync(allowedHostOtherPort.Port, $"CONNECT 127.0.0.1:{echo.Port} HTTP/1.1\r\nHost: 127.0.0.1:{echo.Port}\r\n\r\n");
        Assert.StartsWith("HTTP/1.1 403 Forbidden\r\n", outside, StringComparison.Ordinal);
        Assert.Contains($"127.0.0.1:{echo.Port} is not on Gateway:ForwardProxy:Allow", outside, StringComparison.Ordinal);

        await using var defaultPorts = await ForwardProxyHarness.StartAsync(["127.0.0.0/8"]);
        var notHttps = await RawAsync(defaultPorts.Port, $"CONNECT 127.0.0.1:{echo.Port} HTTP/1.1\r\nHost: 127.0.0.1:{echo.Port}\r\n\r\n");
        Assert.StartsWith("HTTP/1.1 403 Forbidden\r\n", notHttps, StringComparison.Ordinal);
        Assert.Contains("CONNECT may reach ports 443 only", notHttps, StringComparison.Ordinal);
        Assert.Equal(0, echo.Accepted);
    }

    [Fact]
    public async Task A_tunnel_past_TunnelsMax_is_503_until_one_closes()
    {
        await using var echo = EchoServer.Start();
        await using var proxy = await ForwardProxyHarness.StartAsync([$"127.0.0.1:{echo.Port}"], connectPorts: [echo.Port],
            extra: new() { ["Gateway:ForwardProxy:TunnelsMax"] = "1" });
        var connect = $"CONNECT 127.0.0.1:{echo.Port} HTTP/1.1\r\nHost: 127.0.0.1:{echo.Port}\r\n\r\n";
        using (var first = new TcpClient())
        {
            await first.ConnectAsync(IPAddress.Loopback, proxy.Port, Cancel);
            var stream = first.GetStream();
            await stream.WriteAsync(Encoding.ASCII.GetBytes(connect + "hi;"), Cancel);
            const string expected = "HTTP/1.1 200 Connection Established\r\n\r\necho:hi;";
            Assert.Equal(expected, await ReadExactlyAsync(stream, expected.Length));

            var second = await RawAsync(proxy.Port, connect);
            Assert.StartsWith("HTTP/1.1 503 Service Unavailable\r\n", second, StringComparison.Ordinal);
            Assert.Equal(1, echo.Accepted);
        }

        // The first tunnel's end frees its place: a new one opens within the deadline.
        await Eventually.ValueAsync(
            async () =>
            {
                using var again = new TcpClient();
                await again.ConnectAsync(IPAddress.Loopback, proxy.Port, Cancel);
                var stream = again.GetStream();
                await stream.WriteAsync(Encoding.ASCII.GetBytes(connect), Cancel);
                var status = await ReadExactlyAsync(stream, 12);
                if (status != "HTTP/1.1 200")
                {
                    Assert.Equal("HTTP/1.1 503", status);
                }

                return status;
            },
            status => status == "HTTP/1.1 200",
            Deadline,
            status => $"the closed tunnel's place was not freed: {status}",
            Cancel);
    }

    [Fact]
    public async Task A_request_addressed_to_the_proxy_itself_ends_after_one_hop()
    {
        var port = FreePorts.Next();
        await using var proxy = await ForwardProxyHarness.StartAsync([$"127.0.0.1:{port}"], port: port);
        using var client = ProxiedClient(proxy.Port);
        using var response = await client.GetAsync($"http://127.0.0.1:{proxy.Port}/loop", Cancel);
        // The proxy forwards origin-form, which its own port refuses: one hop, no loop.
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("'/loop' is not absolute-form", await response.Content.ReadAsStringAsync(Cancel), StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_oversized_CONNECT_head_is_431()
    {
        await using var proxy = await ForwardProxyHarness.StartAsync(["127.0.0.1"]);
        var response = await RawAsync(proxy.Port, $"CONNECT 127.0.0.1:443 HTTP/1.1\r\nX-Big: {new string('a', 10_000)}\r\n\r\n");
        Assert.StartsWith("HTTP/1.1 431 ", response, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_forward_proxy_is_off_by_default()
    {
        await using var node = await TestNode.StartAsync(settings: new Dictionary<string, string?> { ["Node:Modules"] = "gateway" }, cancellationToken: Cancel);
        var addresses = node.Node.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses;
        Assert.Equal([node.Node.HttpAddress.ToString().TrimEnd('/')], addresses.ToArray());
        Assert.DoesNotContain(node.Node.Listeners, active => active.Listener.ConfigKey == "Gateway:ForwardProxy:Port");
    }

    [Fact]
    public async Task Bad_forward_proxy_settings_stop_the_start_naming_each_one()
    {
        var error = await Assert.ThrowsAsync<Microsoft.Extensions.Options.OptionsValidationException>(() => TestNode.StartAsync(settings: new Dictionary<string, string?>
        {
            ["Node:Modules"] = "gateway",
            ["Gateway:ForwardProxy:Port"] = $"{FreePorts.Next()}",
            ["Gateway:ForwardProxy:Allow:0"] = "*",
            ["Gateway:ForwardProxy:Allow:1"] = "10.0.0.1/8",
            ["Gateway:ForwardProxy:Allow:2"] = "example.com:99999",
            ["Gateway:ForwardProxy:Allow:3"] = "bad_name.example",
            ["Gateway:ForwardProxy:Allow:4"] = "api.example.com:443",
            ["Gateway:ForwardProxy:ConnectPorts:0"] = "0",
            ["Gateway:ForwardProxy:ConnectTimeoutSeconds"] = "0",
            ["Gateway:ForwardProxy:TunnelBufferBytes"] = "10",
        }, cancellationToken: Cancel));
        Assert.Contains(error.Failures, failure => failure.StartsWith("Gateway:ForwardProxy:Allow:0", StringComparison.Ordinal) && failure.Contains("open proxy", StringComparison.Ordinal));
        Assert.Contains(error.Failures, failure => failure.StartsWith("Gateway:ForwardProxy:Allow:1", StringComparison.Ordinal) && failure.Contains("host bits set: the range is written 10.0.0.0/8", StringComparison.Ordinal));
        Assert.Contains(error.Failures, failure => failure.StartsWith("Gateway:ForwardProxy:Allow:2", StringComparison.Ordinal) && failure.Contains("port", StringComparison.Ordinal));
        Assert.Contains(error.Failures, failure => failure.StartsWith("Gateway:ForwardProxy:Allow:3", StringComparison.Ordinal) && failure.Contains("not a host name", StringComparison.Ordinal));
        Assert.DoesNotContain(error.Failures, failure => failure.StartsWith("Gateway:ForwardProxy:Allow:4", StringComparison.Ordinal));
        Assert.Contains(error.Failures, failure => failure.StartsWith("Gateway:ForwardProxy:ConnectPorts:0", StringComparison.Ordinal));
        Assert.Contains(error.Failures, failure => failure.StartsWith("Gateway:ForwardProxy:ConnectTimeoutSeconds", StringComparison.Ordinal));
        Assert.Contains(error.Failures, failure => failure.StartsWith("Gateway:ForwardProxy:TunnelBufferBytes", StringComparison.Ordinal));
    }

    [Fact]
    public async Task The_forward_proxy_port_must_differ_from_the_other_listeners()
    {
        var port = FreePorts.Next();
        var error = await Assert.ThrowsAsync<Blueprint.Hosting.StartupProblemException>(() => TestNode.StartAsync(settings: new Dictionary<string, string?>
        {
            ["Node:Modules"] = "gateway",
            ["Gateway:H2cPort"] = $"{port}",
            ["Gateway:ForwardProxy:Port"] = $"{port}",
        }, cancellationToken: Cancel));
        Assert.Contains("Gateway:ForwardProxy:Port", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Curl_uses_it_as_an_HTTP_proxy_and_as_a_CONNECT_tunnel()
    {
        var curl = Peers.Require("curl", "curl");
        await using var backend = await RecordingBackend.StartAsync();
        await using var other = await RecordingBackend.StartAsync();
        await using var proxy = await ForwardProxyHarness.StartAsync([$"127.0.0.1:{backend.Port}"], connectPorts: [backend.Port, other.Port]);
        var via = $"http://127.0.0.1:{proxy.Port}";

        await using var get = ProcessRunner.Start(curl, ["-sS", "--noproxy", "", "-x", via, $"http://127.0.0.1:{backend.Port}/curl?q=1"]);
        Assert.Equal(0, await get.WaitForExitAsync(Deadline));
        Assert.Equal("seen GET /curl?q=1", get.StandardOutput.TrimEnd('\n'));

        await using var tunnel = ProcessRunner.Start(curl, ["-sS", "--noproxy", "", "-p", "-x", via, $"http://127.0.0.1:{backend.Port}/tunneled"]);
        Assert.Equal(0, await tunnel.WaitForExitAsync(Deadline));
        Assert.Equal("seen GET /tunneled", tunnel.StandardOutput.TrimEnd('\n'));
        Assert.DoesNotContain("via", backend.Requests.Last().Headers); // a tunnel carries the client's bytes untouched

        await using var refused = ProcessRunner.Start(curl, ["-sS", "--noproxy", "", "-o", "/dev/null", "-w", "%{http_code}", "-x", via, $"http://127.0.0.1:{other.Port}/"]);
        Assert.Equal(0, await refused.WaitForExitAsync(Deadline));
        Assert.Equal("403", refused.StandardOutput.TrimEnd('\n'));

        await using var refusedTunnel = ProcessRunner.Start(curl, ["-sS", "--noproxy", "", "-p", "-x", via, $"http://127.0.0.1:{other.Port}/"]);
        Assert.NotEqual(0, await refusedTunnel.WaitForExitAsync(Deadline));
        Assert.Contains("403", refusedTunnel.StandardError, StringComparison.Ordinal);
        Assert.Empty(other.Requests);
    }

    private static HttpClient ProxiedClient(int proxyPort) => new(new SocketsHttpHandler
    {
        Proxy = new WebProxy($"http://127.0.0.1:{proxyPort}") { BypassProxyOnLocal = false },
        UseProxy = true,
    })
    { Timeout = Deadline };

    /// <summary>Sends <paramref name="request"/> on a new connection and reads until the proxy closes it.</summary>
    private static async Task<string> RawAsync(int port, string request)
    {
        using var client = new TcpClient();
        await client.ConnectAsync(IPAddress.Loopback, port, Cancel);
        await using var stream = client.GetStream();
        await stream.WriteAsync(Encoding.ASCII.GetBytes(request), Cancel);
        return await ReadToEndAsync(stream);
    }

    private static async Task<string> ReadToEndAsync(Stream stream)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(Cancel);
        timeout.CancelAfter(Deadline);
        using var memory = new MemoryStream();
        await stream.CopyToAsync(memory, timeout.Token);
        return Encoding.ASCII.GetString(memory.ToArray());
    }

    private static async Task<string> ReadExactlyAsync(Stream stream, int count)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(Cancel);
        timeout.CancelAfter(Deadline);
        var buffer = new byte[count];
        await stream.ReadExactlyAsync(buffer, timeout.Token);
        return Encoding.ASCII.GetString(buffer);
    }
}
