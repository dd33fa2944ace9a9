using System.Globalization;
using System.Net.Http.Json;
using System.Text.Json;
using Blueprint.Hosting;
using Blueprint.RateLimit.Tests.Service;
using Grpc.Core;
using Grpc.Net.Client;
using Code = Blueprint.RateLimit.Grpc.Envoy.RateLimitResponse.Types.Code;
using Envoy = Blueprint.RateLimit.Grpc.Envoy;
using Unit = Blueprint.RateLimit.Grpc.Envoy.RateLimitResponse.Types.RateLimit.Types.Unit;

namespace Blueprint.RateLimit.Tests.Grpc;

/// <summary>Envoy's RLS v3 over gRPC, called as a foreign client would, with a client generated from the proto.</summary>
public sealed class RlsServiceTests : IAsyncLifetime
{
    private const string Rules = """
        domain: api
        descriptors:
          - key: user
            rate_limit: { unit: hour, requests_per_unit: 3 }
            algorithm: token_bucket
          - key: tenant
            rate_limit: { unit: minute, requests_per_unit: 5 }
            algorithm: fixed_window
        """;

    private readonly int _grpcPort = FreePorts.Next();
    private TestNode _node = null!;
    private GrpcChannel _channel = null!;
    private Envoy.RateLimitService.RateLimitServiceClient _client = null!;

    public async ValueTask InitializeAsync()
    {
        _node = await RateLimitNode.StartAsync(Rules, new Dictionary<string, string?>
        {
            ["RateLimit:GrpcPort"] = _grpcPort.ToString(CultureInfo.InvariantCulture),
        });
        _channel = GrpcChannel.ForAddress($"http://127.0.0.1:{_grpcPort}");
        _client = new Envoy.RateLimitService.RateLimitServiceClient(_channel);
    }

    public async ValueTask DisposeAsync()
    {
        _channel.Dispose();
        await _node.DisposeAsync();
    }

    private static Envoy.RateLimitRequest Request(string key, string value, uint hits = 1)
    {
        var descriptor = new Envoy.RateLimitDescriptor();
        descriptor.Entries.Add(new Envoy.RateLimitDescriptor.Types.Entry { Key = key, Value = value });
        var request = new Envoy.RateLimitRequest { Domain = "api", HitsAddend = hits };
        request.Descriptors.Add(descriptor);
        return request;
    }

    private Task<Envoy.RateLimitResponse> CheckAsync(Envoy.RateLimitRequest request) =>
        _client.ShouldRateLimitAsync(request, cancellationToken: TestContext.Current.CancellationToken).ResponseAsync;

    [Fact]
    public async Task ShouldRateLimit_WithinThenOverLimit_AnswersOkThenOverLimit()
    {
        for (var i = 0; i < 3; i++)
        {
            var ok = await CheckAsync(Request("user", "ada"));
            Assert.Equal(Code.Ok, ok.OverallCode);
            var status = Assert.Single(ok.Statuses);
            Assert.Equal(Code.Ok, status.Code);
            Assert.Equal((uint)(2 - i), status.LimitRemaining);
        }

        var over = await CheckAsync(Request("user", "ada"));
        Assert.Equal(Code.OverLimit, over.OverallCode);
        var overStatus = Assert.Single(over.Statuses);
        Assert.Equal(Code.OverLimit, overStatus.Code);
        Assert.Equal(0u, overStatus.LimitRemaining);
        Assert.Equal(3u, overStatus.CurrentLimit.RequestsPerUnit);
        Assert.Equal(Unit.Hour, overStatus.CurrentLimit.Unit);
        Assert.Equal("api/user", overStatus.CurrentLimit.Name);
        Assert.True(overStatus.DurationUntilReset.ToTimeSpan() > TimeSpan.Zero);

        // Another user has its own counter.
        Assert.Equal(Code.Ok, (await CheckAsync(Request("user", "grace"))).OverallCode);
    }

    [Fact]
    public async Task ShouldRateLimit_StatusesFollowTheRequestOrder()
    {
        var request = Request("nobody-limits-this", "x");
        request.Descriptors.Add(Request("tenant", "t-order").Descriptors[0]);
        var response = await CheckAsync(request);
        Assert.Equal(Code.Ok, response.OverallCode);
        Assert.Equal(2, response.Statuses.Count);
        Assert.Equal(Code.Unknown, response.Statuses[0].Code);
        Assert.Equal(Code.Ok, response.Statuses[1].Code);
        Assert.Equal(Unit.Minute, response.Statuses[1].CurrentLimit.Unit);
        Assert.Equal(4u, response.Statuses[1].LimitRemaining);
    }

    [Fact]
    public async Task ShouldRateLimit_NoRuleMatches_AnswersOkWithUnknownStatus()
    {
        var response = await CheckAsync(Request("nobody-limits-this", "x"));
        Assert.Equal(Code.Ok, response.OverallCode);
        var status = Assert.Single(response.Statuses);
        Assert.Equal(Code.Unknown, status.Code);
        Assert.Null(status.CurrentLimit);
    }

    [Fact]
    public async Task ShouldRateLimit_HitsAddendZero_CountsAsOne()
    {
        var first = await CheckAsync(Request("tenant", "t-zero", hits: 0));
        Assert.Equal(4u, Assert.Single(first.Statuses).LimitRemaining);

        var second = await CheckAsync(Request("tenant", "t-zero", hits: 3));
        Assert.Equal(1u, Assert.Single(second.Statuses).LimitRemaining);
    }

    [Fact]
    public async Task ShouldRateLimit_NoDescriptors_IsInvalidArgument()
    {
        var error = await Assert.ThrowsAsync<RpcException>(() => CheckAsync(new Envoy.RateLimitRequest { Domain = "api" }));
        Assert.Equal(StatusCode.InvalidArgument, error.StatusCode);
        Assert.Contains("descriptors", error.Status.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ShouldRateLimit_NoDomain_IsInvalidArgument()
    {
        var request = Request("user", "ada");
        request.Domain = "";
        var error = await Assert.ThrowsAsync<RpcException>(() => CheckAsync(request));
        Assert.Equal(StatusCode.InvalidArgument, error.StatusCode);
        Assert.Contains("domain", error.Status.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task GrpcAndHttpCheck_ShareTheSameCounters()
    {
        // Two hits through gRPC, observed (and one more consumed) through HTTP.
        await CheckAsync(Request("tenant", "t-shared", hits: 2));
        using var response = await _node.Http.PostAsJsonAsync(
            "/v1/ratelimit/check",
            new { domain = "api", descriptors = new[] { new { entries = new[] { new { key = "tenant", value = "t-shared" } } } } },
            TestContext.Current.CancellationToken);
        response.EnsureSuccessStatusCode();
        var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken)).RootElement;
        Assert.Equal(2, body.GetProperty("statuses")[0].GetProperty("limit_remaining").GetInt64());

        // Two more through HTTP and the next gRPC check is over the limit.
        var viaGrpc = await CheckAsync(Request("tenant", "t-shared", hits: 2));
        Assert.Equal(0u, Assert.Single(viaGrpc.Statuses).LimitRemaining);
        Assert.Equal(Code.OverLimit, (await CheckAsync(Request("tenant", "t-shared"))).OverallCode);
    }

    [Fact]
    public async Task ShouldRateLimit_WithAnAuthorityOtherThanTheListeningAddress_IsServed()
    {
        // Envoy names its rate limit cluster in :authority, not the address it dials: the service is pinned to its
        // listener by the connection's local port, never by the Host header.
        using var handler = new AuthorityHandler("ratelimit.envoy-cluster:8081") { InnerHandler = new SocketsHttpHandler() };
        using var channel = GrpcChannel.ForAddress($"http://127.0.0.1:{_grpcPort}", new GrpcChannelOptions { HttpHandler = handler });
        var client = new Envoy.RateLimitService.RateLimitServiceClient(channel);
        var response = await client.ShouldRateLimitAsync(Request("user", "envoy"), cancellationToken: TestContext.Current.CancellationToken);
        Assert.Equal(Code.Ok, response.OverallCode);
        Assert.Equal(2u, Assert.Single(response.Statuses).LimitRemaining);
        Assert.Equal("ratelimit.envoy-cluster:8081", handler.SentAuthority);
    }

    /// <summary>Sends every request with a Host (HTTP/2 :authority) other than the address dialled.</summary>
    private sealed class AuthorityHandler(string authority) : DelegatingHandler
    {
        public string? SentAuthority { get; private set; }

        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            request.Headers.Host = authority;
            SentAuthority = request.Headers.Host;
            return base.SendAsync(request, cancellationToken);
        }
    }

    [Fact]
    public void Node_DescribesTheGrpcPortAndEndpoint()
    {
        var endpoints = _node.Node.DescribeEndpoints();
        Assert.Contains(endpoints, endpoint => endpoint.Module == "ratelimit" && endpoint.Endpoint.Address == $"grpc://127.0.0.1:{_grpcPort}");
        var listener = Assert.Single(_node.Node.Listeners, listener => listener.Module == "ratelimit");
        Assert.Equal(_grpcPort, listener.Port);
        Assert.Equal(ListenerProtocol.H2c, listener.Listener.Protocol);
    }

    [Fact]
    public async Task GrpcPortInUse_IsAStartupProblemNamingTheSetting()
    {
        using var holder = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        holder.Start();
        var busy = ((System.Net.IPEndPoint)holder.LocalEndpoint).Port;
        var error = await Assert.ThrowsAsync<Blueprint.Hosting.StartupProblemException>(() => RateLimitNode.StartAsync(Rules, new Dictionary<string, string?>
        {
            ["RateLimit:GrpcPort"] = busy.ToString(CultureInfo.InvariantCulture),
        }));
        Assert.Contains($"port {busy}", error.Message, StringComparison.Ordinal);
        Assert.Contains("RateLimit:GrpcPort", error.Message, StringComparison.Ordinal);
    }
}
