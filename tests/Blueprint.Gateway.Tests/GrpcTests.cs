using System.Security.Cryptography.X509Certificates;
using Blueprint.Gateway.Tests.Protos;
using Grpc.Core;
using Grpc.Net.Client;

namespace Blueprint.Gateway.Tests;

/// <summary>
/// gRPC through the gateway: Grpc.Net.Client on the cleartext HTTP/2 port (and on TLS by ALPN), YARP
/// to a gRPC backend over HTTP/2 (<c>HttpRequest: { Version: "2", VersionPolicy: "RequestVersionExact" }</c>):
/// every call shape, status codes with their details and trailers, request metadata.
/// </summary>
public sealed class GrpcTests
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task Unary_call_through_h2c_returns_the_backends_answer_and_the_backend_sees_the_metadata()
    {
        await using var echo = await H2cEcho.StartAsync();
        var metadata = new Metadata { { "x-tenant", "acme" }, { "x-blob-bin", new byte[] { 0, 1, 0x7f, 0xfe, 0xff } } };
        var reply = await echo.Client.SayAsync(new SayRequest { Text = "hello" }, metadata, DateTime.UtcNow + Deadline, TestContext.Current.CancellationToken);
        Assert.Equal("echo: hello", reply.Text);
        Assert.Equal("acme", reply.Tenant);
        Assert.Equal(new byte[] { 0, 1, 0x7f, 0xfe, 0xff }, reply.Blob.ToByteArray());
        Assert.Equal("HTTP/2", reply.Protocol);
    }

    [Fact]
    public async Task Server_streaming_delivers_every_message_in_order_and_the_final_status()
    {
        await using var echo = await H2cEcho.StartAsync();
        using var call = echo.Client.Count(new CountRequest { Count = 500 }, deadline: DateTime.UtcNow + Deadline, cancellationToken: TestContext.Current.CancellationToken);
        var texts = new List<string>();
        await foreach (var message in call.ResponseStream.ReadAllAsync(TestContext.Current.CancellationToken))
        {
            texts.Add(message.Text);
        }

        Assert.Equal(Enumerable.Range(1, 500).Select(i => $"{i}"), texts);
        // The client reports OK only when the grpc-status trailer arrived (a lost trailer is an error).
        Assert.Equal(StatusCode.OK, call.GetStatus().StatusCode);
    }

    [Theory]
    [InlineData(StatusCode.NotFound, "no order 42")]
    [InlineData(StatusCode.PermissionDenied, "tenant acme may not read order 42")]
    [InlineData(StatusCode.ResourceExhausted, "quota: 0 of 100 left — try after 12:00 (ü)")]
    public async Task An_error_status_from_the_backend_arrives_unchanged_with_its_trailers(StatusCode code, string detail)
    {
        await using var echo = await H2cEcho.StartAsync();
        using var call = echo.Client.FailAsync(new FailRequest { Code = (int)code, Detail = detail, Reason = "deleted" }, deadline: DateTime.UtcNow + Deadline, cancellationToken: TestContext.Current.CancellationToken);
        var error = await Assert.ThrowsAsync<RpcException>(() => call.ResponseAsync);
        Assert.Equal(code, error.StatusCode);
        Assert.Equal(detail, error.Status.Detail);
        Assert.Equal("deleted", error.Trailers.GetValue("x-reason"));
    }

    [Fact]
    public async Task An_error_after_streamed_messages_arrives_in_the_trailers_after_them()
    {
        await using var echo = await H2cEcho.StartAsync();
        using var call = echo.Client.Count(new CountRequest { Count = 3, FailDetail = "stopped at 3" }, deadline: DateTime.UtcNow + Deadline, cancellationToken: TestContext.Current.CancellationToken);
        var texts = new List<string>();
        var error = await Assert.ThrowsAsync<RpcException>(async () =>
        {
            await foreach (var message in call.ResponseStream.ReadAllAsync(TestContext.Current.CancellationToken))
            {
                texts.Add(message.Text);
            }
        });
        Assert.Equal(["1", "2", "3"], texts);
        Assert.Equal(StatusCode.Aborted, error.StatusCode);
        Assert.Equal("stopped at 3", error.Status.Detail);
        Assert.Equal("after the stream", call.GetTrailers().GetValue("x-reason"));
    }

    [Fact]
    public async Task Bidirectional_streaming_answers_each_message_before_the_next_is_sent()
    {
        await using var echo = await H2cEcho.StartAsync();
        using var call = echo.Client.Chat(deadline: DateTime.UtcNow + Deadline, cancellationToken: TestContext.Current.CancellationToken);
        // Each answer must come back while the request stream is still open: a gateway that buffered
        // either direction would hold it until the deadline, and the call would fail.
        foreach (var text in new[] { "one", "two", "three" })
        {
            await call.RequestStream.WriteAsync(new SayRequest { Text = text }, TestContext.Current.CancellationToken);
            Assert.True(await call.ResponseStream.MoveNext(TestContext.Current.CancellationToken));
            Assert.Equal($"echo: {text}", call.ResponseStream.Current.Text);
        }

        await call.RequestStream.CompleteAsync();
        Assert.False(await call.ResponseStream.MoveNext(TestContext.Current.CancellationToken));
        Assert.Equal(StatusCode.OK, call.GetStatus().StatusCode);
    }

    [Fact]
    public async Task Unary_call_over_TLS_by_ALPN_reaches_the_backend_over_HTTP2()
    {
        await using var backend = await EchoBackend.StartAsync();
        using var directory = new TempDirectory("gateway-grpc-tls");
        var port = FreePorts.Next();
        await using var gateway = await OneRouteGateway.StartAsync(Route, backend.Address, GrpcCluster(new() { ["Gateway:HttpsPort"] = $"{port}" }), directory.Path);
        using var certificate = X509CertificateLoader.LoadPkcs12FromFile(Path.Combine(directory.Path, "gateway", "dev-cert.pfx"), null);
        using var handler = new SocketsHttpHandler();
        handler.SslOptions.RemoteCertificateValidationCallback = (_, presented, _, _) =>
            presented is not null && string.Equals(new X509Certificate2(presented).Thumbprint, certificate.Thumbprint, StringComparison.Ordinal);
        using var channel = GrpcChannel.ForAddress($"https://localhost:{port}", new GrpcChannelOptions { HttpHandler = handler, DisposeHttpClient = false });
        var reply = await new Echo.EchoClient(channel).SayAsync(new SayRequest { Text = "secure" }, new Metadata { { "x-tenant", "acme" } }, DateTime.UtcNow + Deadline, TestContext.Current.CancellationToken);
        Assert.Equal("echo: secure", reply.Text);
        Assert.Equal("acme", reply.Tenant);
        Assert.Equal("HTTP/2", reply.Protocol);
    }

    [Fact]
    public async Task Without_RequestVersionExact_the_gateway_speaks_HTTP1_to_an_HTTP2_only_backend_and_the_call_fails()
    {
        // The setting is what makes gRPC work: YARP's default (HTTP/2 or lower) speaks HTTP/1.1 to a
        // cleartext destination; Kestrel's HTTP/2-only endpoint answers that with 400, which the gateway passes on.
        await using var backend = await EchoBackend.StartAsync();
        var port = FreePorts.Next();
        await using var gateway = await OneRouteGateway.StartAsync(Route, backend.Address, new() { ["Gateway:H2cPort"] = $"{port}" });
        using var channel = GrpcChannel.ForAddress($"http://127.0.0.1:{port}");
        var error = await Assert.ThrowsAsync<RpcException>(async () =>
            await new Echo.EchoClient(channel).SayAsync(new SayRequest { Text = "hello" }, deadline: DateTime.UtcNow + Deadline, cancellationToken: TestContext.Current.CancellationToken));
        Assert.Equal(StatusCode.Internal, error.StatusCode);
        Assert.Equal("Bad gRPC response. HTTP status code: 400", error.Status.Detail);
    }

    /// <summary>The route: gRPC's paths are <c>/package.Service/Method</c>.</summary>
    private const string Route = "blueprint.gateway.tests.Echo";

    /// <summary>The echo backend behind a gateway with a gRPC route, and a client on the gateway's h2c port.</summary>
    private sealed class H2cEcho(LoopbackApp backend, TestNode gateway, GrpcChannel channel) : IAsyncDisposable
    {
        public Echo.EchoClient Client { get; } = new(channel);

        public static async Task<H2cEcho> StartAsync()
        {
            var backend = await EchoBackend.StartAsync();
            try
            {
                var port = FreePorts.Next();
                var gateway = await OneRouteGateway.StartAsync(Route, backend.Address, GrpcCluster(new() { ["Gateway:H2cPort"] = $"{port}" }));
                return new H2cEcho(backend, gateway, GrpcChannel.ForAddress($"http://127.0.0.1:{port}"));
            }
            catch
            {
                await backend.DisposeAsync();
                throw;
            }
        }

        public async ValueTask DisposeAsync()
        {
            channel.Dispose();
            await gateway.DisposeAsync();
            await backend.DisposeAsync();
        }
    }

    /// <summary>YARP's shape for a gRPC cluster: HTTP/2 to the destination, never lower.</summary>
    private static Dictionary<string, string?> GrpcCluster(Dictionary<string, string?> settings)
    {
        settings[$"{OneRouteGateway.Cluster}:HttpRequest:Version"] = "2";
        settings[$"{OneRouteGateway.Cluster}:HttpRequest:VersionPolicy"] = "RequestVersionExact";
        return settings;
    }
}
