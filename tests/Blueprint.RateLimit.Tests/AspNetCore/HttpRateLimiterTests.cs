using System.Net;
using Blueprint.RateLimit.AspNetCore;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Options;

namespace Blueprint.RateLimit.Tests.AspNetCore;

public sealed class HttpRateLimiterTests
{
    private const string Rules = """
        domain: http
        descriptors:
          - key: route
            value: /
            rate_limit: { unit: hour, requests_per_unit: 2 }
        """;

    [Fact]
    public async Task UseRateLimiter_OverTheRouteLimit_Answers429WithRetryAfterAndRateLimitFields()
    {
        await using var node = await Service.RateLimitNode.StartAsync(Rules, new Dictionary<string, string?> { ["RateLimit:Http:Enabled"] = "true" });
        var token = TestContext.Current.CancellationToken;

        var first = await node.Http.GetAsync("/", token);
        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        Assert.Equal("\"http/route=/\";q=2;w=3600", first.Headers.GetValues("RateLimit-Policy").Single());
        Assert.StartsWith("\"http/route=/\";r=1;t=", first.Headers.GetValues("RateLimit").Single(), StringComparison.Ordinal);

        Assert.Equal(HttpStatusCode.OK, (await node.Http.GetAsync("/", token)).StatusCode);

        var rejected = await node.Http.GetAsync("/", token);
        Assert.Equal(HttpStatusCode.TooManyRequests, rejected.StatusCode);
        var retryAfter = long.Parse(rejected.Headers.GetValues("Retry-After").Single(), System.Globalization.CultureInfo.InvariantCulture);
        Assert.InRange(retryAfter, 1700, 1800); // one permit per 30 minutes
        Assert.Equal("application/problem+json", rejected.Content.Headers.ContentType?.MediaType);
        Assert.Contains("rate limit exceeded", await rejected.Content.ReadAsStringAsync(token), StringComparison.Ordinal);
        Assert.StartsWith("\"http/route=/\";r=0;", rejected.Headers.GetValues("RateLimit").Single(), StringComparison.Ordinal);

        // Health and metrics are never limited.
        for (var i = 0; i < 5; i++)
        {
            Assert.Equal(HttpStatusCode.OK, (await node.Http.GetAsync("/healthz", token)).StatusCode);
        }
    }

    private static BlueprintHttpRateLimiter Limiter(params string[] trustedProxies)
    {
        var options = new HttpRateLimitOptions();
        foreach (var proxy in trustedProxies)
        {
            options.TrustedProxies.Add(proxy);
        }

        return new BlueprintHttpRateLimiter(null!, Options.Create(options));
    }

    private static DefaultHttpContext Request(string peer, string? forwardedFor)
    {
        var context = new DefaultHttpContext();
        context.Connection.RemoteIpAddress = IPAddress.Parse(peer);
        if (forwardedFor is not null)
        {
            context.Request.Headers["X-Forwarded-For"] = forwardedFor;
        }

        return context;
    }

    [Fact]
    public void ClientIp_UntrustedPeer_IgnoresForwardedFor() =>
        Assert.Equal(IPAddress.Parse("203.0.113.7"), Limiter("10.0.0.1").ClientIp(Request("203.0.113.7", "1.2.3.4")));

    [Fact]
    public void ClientIp_TrustedProxyChain_TakesRightMostUntrustedHop() =>
        Assert.Equal(IPAddress.Parse("198.51.100.9"), Limiter("10.0.0.1", "10.0.0.2").ClientIp(Request("10.0.0.1", "1.2.3.4, 198.51.100.9, 10.0.0.2")));

    [Fact]
    public void ClientIp_MalformedHop_StopsTrustAtThePeer() =>
        Assert.Equal(IPAddress.Parse("10.0.0.1"), Limiter("10.0.0.1").ClientIp(Request("10.0.0.1", "1.2.3.4, not-an-ip")));

    [Fact]
    public void Descriptors_ApiKeyAndIp_OneDescriptorEach()
    {
        var options = new HttpRateLimitOptions { ApiKeyHeader = "X-Api-Key", ByRoute = false };
        var limiter = new BlueprintHttpRateLimiter(null!, Options.Create(options));
        var context = Request("192.0.2.1", null);
        context.Request.Headers["X-Api-Key"] = "k-123";

        var descriptors = limiter.Descriptors(context);
        Assert.Equal(2, descriptors.Count);
        Assert.Equal(new Blueprint.RateLimit.Rules.DescriptorEntry("remote_address", "192.0.2.1"), Assert.Single(descriptors[0]));
        Assert.Equal(new Blueprint.RateLimit.Rules.DescriptorEntry("api_key", "k-123"), Assert.Single(descriptors[1]));
    }
}
