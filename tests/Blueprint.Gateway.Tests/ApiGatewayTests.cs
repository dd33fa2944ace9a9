using System.Net;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Blueprint.Gateway.Tests;

/// <summary>The API-gateway features on routes: API keys, rate limits, CORS, body limits, the access log and checked metadata.</summary>
public sealed class ApiGatewayTests
{
    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_route_with_the_apikey_policy_admits_only_listed_keys()
    {
        await using var backends = await Backends.StartAsync(1);
        const string key = "bpk_test_0123456789abcdef";
        await using var gateway = await GatewayTests.StartGatewayAsync(backends, "RoundRobin", extra: new Dictionary<string, string?>
        {
            ["Gateway:ApiKeys:Keys:0:Name"] = "billing-team",
            ["Gateway:ApiKeys:Keys:0:Sha256"] = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(key))),
            ["Gateway:ReverseProxy:Routes:svc:AuthorizationPolicy"] = "apikey",
        });

        foreach (var (presented, expected) in new (string?, HttpStatusCode)[]
        {
            (key, HttpStatusCode.OK),
            (null, HttpStatusCode.Unauthorized),
            ("bpk_wrong", HttpStatusCode.Unauthorized),
            (key + "x", HttpStatusCode.Unauthorized),
            (new string('k', 10_000), HttpStatusCode.Unauthorized),
        })
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, "/svc/data");
            if (presented is not null)
            {
                request.Headers.Add("X-Api-Key", presented);
            }

            using var response = await gateway.Http.SendAsync(request, Cancel);
            Assert.True(expected == response.StatusCode, $"{presented?[..Math.Min(12, presented.Length)]}: {(int)response.StatusCode}");
        }

        Assert.Equal(1, backends.Hits[0]);
    }

    [Fact]
    public async Task The_same_key_listed_twice_stops_the_start()
    {
        var hash = Convert.ToHexStringLower(SHA256.HashData("k"u8));
        var error = await Assert.ThrowsAnyAsync<Exception>(() => TestNode.StartAsync(settings: new Dictionary<string, string?>
        {
            ["Node:Modules"] = "gateway",
            ["Gateway:ApiKeys:Keys:0:Name"] = "a",
            ["Gateway:ApiKeys:Keys:0:Sha256"] = hash,
            ["Gateway:ApiKeys:Keys:1:Name"] = "b",
            ["Gateway:ApiKeys:Keys:1:Sha256"] = hash.ToUpperInvariant(),
        }, cancellationToken: Cancel));
        Assert.Contains("Keys:1:Sha256", error.Message, StringComparison.Ordinal);
        Assert.Contains("listed twice", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_key_that_is_not_a_sha256_stops_the_start()
    {
        var error = await Assert.ThrowsAnyAsync<Exception>(() => TestNode.StartAsync(settings: new Dictionary<string, string?>
        {
            ["Node:Modules"] = "gateway",
            ["Gateway:ApiKeys:Keys:0:Name"] = "team",
            ["Gateway:ApiKeys:Keys:0:Sha256"] = "the-key-itself",
        }, cancellationToken: Cancel));
        Assert.Contains("Keys:0:Sha256", error.Message, StringComparison.Ordinal);
        Assert.Contains("64 hex digits", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_route_with_the_distributed_policy_answers_429_past_its_rule_and_other_routes_are_not_limited()
    {
        await using var backends = await Backends.StartAsync(1);
        await using var gateway = await GatewayTests.StartGatewayAsync(backends, "RoundRobin", extra: new Dictionary<string, string?>
        {
            ["Node:Modules"] = "kv,ratelimit,gateway",
            ["RateLimit:Rules"] = """
                {"domain": "http", "descriptors": [{"key": "route", "value": "svc", "rate_limit": {"unit": "minute", "requests_per_unit": 3}}]}
                """,
            ["Gateway:ReverseProxy:Routes:svc:RateLimiterPolicy"] = "distributed",
            ["Gateway:ReverseProxy:Routes:open:ClusterId"] = "backends",
            ["Gateway:ReverseProxy:Routes:open:Match:Path"] = "/open/{**rest}",
        });

        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < 5; i++)
        {
            using var response = await gateway.Http.GetAsync("/svc/x", Cancel);
            statuses.Add(response.StatusCode);
            if (response.StatusCode == HttpStatusCode.TooManyRequests)
            {
                Assert.True(response.Headers.RetryAfter?.Delta >= TimeSpan.FromSeconds(1));
                Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
            }
        }

        Assert.Equal([HttpStatusCode.OK, HttpStatusCode.OK, HttpStatusCode.OK, HttpStatusCode.TooManyRequests, HttpStatusCode.TooManyRequests], statuses);
        for (var i = 0; i < 5; i++)
        {
            using var open = await gateway.Http.GetAsync("/open/x", Cancel);
            Assert.Equal(HttpStatusCode.OK, open.StatusCode);
        }

        Assert.Equal(8, backends.Hits[0]);
    }

    [Fact]
    public async Task A_route_with_a_cors_policy_answers_preflights_for_its_origins_only()
    {
        await using var backends = await Backends.StartAsync(1);
        await using var gateway = await GatewayTests.StartGatewayAsync(backends, "RoundRobin", extra: new Dictionary<string, string?>
        {
            ["Gateway:Cors:web:Origins:0"] = "https://app.example",
            ["Gateway:Cors:web:Methods:0"] = "GET",
            ["Gateway:Cors:web:Methods:1"] = "POST",
            ["Gateway:ReverseProxy:Routes:svc:CorsPolicy"] = "web",
        });

        using (var preflight = new HttpRequestMessage(HttpMethod.Options, "/svc/orders"))
        {
            preflight.Headers.Add("Origin", "https://app.example");
            preflight.Headers.Add("Access-Control-Request-Method", "POST");
            using var response = await gateway.Http.SendAsync(preflight, Cancel);
            Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
            Assert.Equal("https://app.example", response.Headers.GetValues("Access-Control-Allow-Origin").Single());
            Assert.Equal("600", response.Headers.GetValues("Access-Control-Max-Age").Single());
        }

        using (var foreign = new HttpRequestMessage(HttpMethod.Options, "/svc/orders"))
        {
            foreign.Headers.Add("Origin", "https://evil.example");
            foreign.Headers.Add("Access-Control-Request-Method", "POST");
            using var response = await gateway.Http.SendAsync(foreign, Cancel);
            Assert.False(response.Headers.Contains("Access-Control-Allow-Origin"));
        }

        using var simple = new HttpRequestMessage(HttpMethod.Get, "/svc/orders");
        simple.Headers.Add("Origin", "https://app.example");
        using var answer = await gateway.Http.SendAsync(simple, Cancel);
        Assert.Equal("b0 GET /svc/orders", await answer.Content.ReadAsStringAsync(Cancel));
        Assert.Equal("https://app.example", answer.Headers.GetValues("Access-Control-Allow-Origin").Single());
        Assert.Equal(1, backends.Hits[0]); // preflights are answered by the gateway
    }

    [Fact]
    public async Task A_preflight_to_a_route_that_needs_a_key_is_answered_without_one()
    {
        await using var backends = await Backends.StartAsync(1);
        await using var gateway = await GatewayTests.StartGatewayAsync(backends, "RoundRobin", extra: new Dictionary<string, string?>
        {
            ["Gateway:Cors:web:Origins:0"] = "https://app.example",
            ["Gateway:ApiKeys:Keys:0:Name"] = "web",
            ["Gateway:ApiKeys:Keys:0:Sha256"] = Convert.ToHexStringLower(SHA256.HashData("k"u8)),
            ["Gateway:ReverseProxy:Routes:svc:CorsPolicy"] = "web",
            ["Gateway:ReverseProxy:Routes:svc:AuthorizationPolicy"] = "apikey",
        });
        using var preflight = new HttpRequestMessage(HttpMethod.Options, "/svc/orders");
        preflight.Headers.Add("Origin", "https://app.example");
        preflight.Headers.Add("Access-Control-Request-Method", "POST");
        preflight.Headers.Add("Access-Control-Request-Headers", "X-Api-Key");
        using var response = await gateway.Http.SendAsync(preflight, Cancel);
        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
        Assert.Equal("https://app.example", response.Headers.GetValues("Access-Control-Allow-Origin").Single());
        using var unauthenticated = await gateway.Http.GetAsync("/svc/orders", Cancel);
        Assert.Equal(HttpStatusCode.Unauthorized, unauthenticated.StatusCode);
    }

    [Fact]
    public async Task The_distributed_policy_also_limits_each_client_on_a_route()
    {
        await using var backends = await Backends.StartAsync(1);
        await using var gateway = await GatewayTests.StartGatewayAsync(backends, "RoundRobin", extra: new Dictionary<string, string?>
        {
            ["Node:Modules"] = "kv,ratelimit,gateway",
            ["RateLimit:Rules"] = """
                {"domain": "http", "descriptors": [{"key": "route", "value": "svc",
                  "descriptors": [{"key": "remote_address", "rate_limit": {"unit": "minute", "requests_per_unit": 2}}]}]}
                """,
            ["Gateway:ReverseProxy:Routes:svc:RateLimiterPolicy"] = "distributed",
        });
        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < 3; i++)
        {
            using var response = await gateway.Http.GetAsync("/svc/x", Cancel);
            statuses.Add(response.StatusCode);
        }

        Assert.Equal([HttpStatusCode.OK, HttpStatusCode.OK, HttpStatusCode.TooManyRequests], statuses);
        var redis = await gateway.RedisAsync();
        var keys = await redis.GetServer(redis.GetEndPoints()[0]).KeysAsync(pattern: "*127.0.0.1*").ToArrayAsync(Cancel);
        Assert.NotEmpty(keys); // the counter is the client's, in the KV
    }

    [Fact]
    public async Task A_cors_policy_with_credentials_for_any_origin_stops_the_start()
    {
        var error = await Assert.ThrowsAnyAsync<Exception>(() => TestNode.StartAsync(settings: new Dictionary<string, string?>
        {
            ["Node:Modules"] = "gateway",
            ["Gateway:Cors:web:Origins:0"] = "*",
            ["Gateway:Cors:web:AllowCredentials"] = "true",
        }, cancellationToken: Cancel));
        Assert.Contains("Cors:web:AllowCredentials", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_body_over_the_routes_limit_gets_413_and_never_reaches_the_backend()
    {
        await using var backends = await Backends.StartAsync(1);
        await using var gateway = await GatewayTests.StartGatewayAsync(backends, "RoundRobin", extra: new Dictionary<string, string?>
        {
            ["Gateway:ReverseProxy:Routes:svc:MaxRequestBodySize"] = "100",
        });
        using var small = await gateway.Http.PostAsync("/svc/upload", new ByteArrayContent(new byte[100]), Cancel);
        Assert.Equal(HttpStatusCode.OK, small.StatusCode);
        using var large = await gateway.Http.PostAsync("/svc/upload", new ByteArrayContent(new byte[101]), Cancel);
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, large.StatusCode);
        Assert.Equal(1, backends.Hits[0]);
    }

    [Fact]
    public async Task Every_routed_request_is_in_the_access_log_with_its_route_destination_and_status()
    {
        await using var backends = await Backends.StartAsync(1);
        var logs = new LogCapture(LogLevel.Information, "Blueprint.Gateway.AccessLog");
        await using var gateway = await GatewayTests.StartGatewayAsync(backends, "RoundRobin", extra: new Dictionary<string, string?>
        {
            ["Gateway:ReverseProxy:Routes:svc:MaxRequestBodySize"] = "10",
            ["Logging:LogLevel:Blueprint.Gateway.AccessLog"] = "Information", // tests log warnings only
        }, services: services => services.AddSingleton<ILoggerProvider>(logs));
        using (await gateway.Http.GetAsync("/svc/items?secret=s3cr3t", Cancel))
        {
        }

        using (await gateway.Http.PostAsync("/svc/items", new ByteArrayContent(new byte[11]), Cancel))
        {
        }

        using (await gateway.Http.GetAsync("/healthz", Cancel))
        {
        }

        // A line is written once its response has gone out: wait for both, within a deadline.
        await Eventually.TrueAsync(
            () => logs.Messages.Count() >= 2,
            TimeSpan.FromSeconds(10),
            () => $"{logs.Messages.Count()} access log line(s): {string.Join(" | ", logs.Messages)}",
            Cancel);

        var lines = logs.Messages.ToArray();
        Assert.Equal(2, lines.Length);
        Assert.Matches(@"^GET /svc/items 200 \d+\.\d ms route=svc cluster=backends destination=b0 client=127\.0\.0\.1 trace=[0-9a-f]{32} $", lines[0]);
        Assert.StartsWith("POST /svc/items 413 ", lines[1], StringComparison.Ordinal);
        Assert.DoesNotContain("s3cr3t", string.Join('\n', lines), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Route_transforms_rewrite_the_path_and_add_a_response_header()
    {
        await using var backends = await Backends.StartAsync(1);
        await using var gateway = await GatewayTests.StartGatewayAsync(backends, "RoundRobin", extra: new Dictionary<string, string?>
        {
            ["Gateway:ReverseProxy:Routes:svc:Transforms:0:PathRemovePrefix"] = "/svc",
            ["Gateway:ReverseProxy:Routes:svc:Transforms:1:ResponseHeader"] = "X-Served-By",
            ["Gateway:ReverseProxy:Routes:svc:Transforms:1:Append"] = "blueprint",
        });
        using var response = await gateway.Http.GetAsync("/svc/orders/7", Cancel);
        Assert.Equal("b0 GET /orders/7", await response.Content.ReadAsStringAsync(Cancel));
        Assert.Equal("blueprint", response.Headers.GetValues("X-Served-By").Single());
    }

    [Theory]
    [InlineData("Clusters:backends:Metadata:HashKey", "header:", "must be ip, header:NAME or cookie:NAME")]
    [InlineData("Clusters:backends:Destinations:b0:Metadata:Weight", "0", "must be a whole number from 1 to 1000")]
    [InlineData("Clusters:backends:Metadata:Retries", "9", "must be a whole number from 0 to 5")]
    public async Task Bad_metadata_for_blueprints_policies_stops_the_start_with_the_reason(string key, string value, string reason)
    {
        await using var backends = await Backends.StartAsync(1);
        var error = await Assert.ThrowsAsync<Blueprint.Hosting.StartupProblemException>(() => GatewayTests.StartGatewayAsync(
            backends, "ConsistentHash", extra: new Dictionary<string, string?> { [$"Gateway:ReverseProxy:{key}"] = value }));
        Assert.Contains($"{key} = '{value}': {reason}", error.Message, StringComparison.Ordinal);
    }
}
