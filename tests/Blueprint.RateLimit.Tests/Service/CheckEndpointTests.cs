using System.Net;
using System.Text;
using System.Text.Json;

namespace Blueprint.RateLimit.Tests.Service;

public sealed class CheckEndpointTests : IAsyncLifetime
{
    private const string Rules = """
        domain: api
        descriptors:
          - key: user
            rate_limit: { unit: hour, requests_per_unit: 3 }
            algorithm: token_bucket
          - key: trial
            rate_limit: { unit: hour, requests_per_unit: 1 }
            shadow_mode: true
        """;

    private TestNode _node = null!;

    public async ValueTask InitializeAsync() => _node = await RateLimitNode.StartAsync(Rules);

    public ValueTask DisposeAsync() => _node.DisposeAsync();

    private async Task<(HttpStatusCode Status, JsonElement Body)> CheckAsync(string json)
    {
        using var content = new StringContent(json, Encoding.UTF8, "application/json");
        var response = await _node.Http.PostAsync("/v1/ratelimit/check", content, TestContext.Current.CancellationToken);
        var text = await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
        return (response.StatusCode, JsonDocument.Parse(text).RootElement.Clone());
    }

    private static string Request(string key, string value, int hits = 1) =>
        $$"""{"domain":"api","descriptors":[{"entries":[{"key":"{{key}}","value":"{{value}}"}]}],"hits_addend":{{hits}}}""";

    [Fact]
    public async Task Check_WithinThenOverLimit_AnswersOkThenOverLimitWithRetryAfter()
    {
        for (var i = 0; i < 3; i++)
        {
            var (status, ok) = await CheckAsync(Request("user", "ada"));
            Assert.Equal(HttpStatusCode.OK, status);
            Assert.Equal("OK", ok.GetProperty("overall_code").GetString());
            Assert.Equal(2 - i, ok.GetProperty("statuses")[0].GetProperty("limit_remaining").GetInt64());
        }

        var (_, over) = await CheckAsync(Request("user", "ada"));
        Assert.Equal("OVER_LIMIT", over.GetProperty("overall_code").GetString());
        var statusOver = over.GetProperty("statuses")[0];
        Assert.Equal("OVER_LIMIT", statusOver.GetProperty("code").GetString());
        Assert.Equal("api/user", statusOver.GetProperty("rule").GetString());
        Assert.Equal(3, statusOver.GetProperty("current_limit").GetProperty("requests_per_unit").GetInt64());
        Assert.Equal("HOUR", statusOver.GetProperty("current_limit").GetProperty("unit").GetString());
        // One permit refills every 20 minutes; a bit less has to pass.
        Assert.InRange(statusOver.GetProperty("retry_after_ms").GetInt64(), 1_100_000, 1_200_000);

        // Another user has its own counter.
        var (_, other) = await CheckAsync(Request("user", "grace"));
        Assert.Equal("OK", other.GetProperty("overall_code").GetString());
    }

    [Fact]
    public async Task Check_NoRuleMatches_AnswersOkWithUnknownStatus()
    {
        var (status, body) = await CheckAsync(Request("nobody-limits-this", "x"));
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("OK", body.GetProperty("overall_code").GetString());
        Assert.Equal("UNKNOWN", body.GetProperty("statuses")[0].GetProperty("code").GetString());
    }

    [Fact]
    public async Task Check_ShadowRuleOverLimit_ReportsButDoesNotEnforce()
    {
        await CheckAsync(Request("trial", "t1"));
        var (_, body) = await CheckAsync(Request("trial", "t1"));
        Assert.Equal("OK", body.GetProperty("overall_code").GetString());
        Assert.Equal("OVER_LIMIT", body.GetProperty("statuses")[0].GetProperty("code").GetString());
        Assert.True(body.GetProperty("statuses")[0].GetProperty("shadow_mode").GetBoolean());
    }

    [Fact]
    public async Task Check_HitsAboveTheLimit_IsOverLimitWithoutConsuming()
    {
        var (_, body) = await CheckAsync(Request("user", "bulk", hits: 4));
        Assert.Equal("OVER_LIMIT", body.GetProperty("overall_code").GetString());
        var (_, after) = await CheckAsync(Request("user", "bulk", hits: 3));
        Assert.Equal("OK", after.GetProperty("overall_code").GetString());
    }

    [Theory]
    [InlineData("not json", "not a valid check request")]
    [InlineData("""{"domain":"api"}""", "needs 'domain' and 'descriptors'")]
    [InlineData("""{"domain":"api","descriptors":[]}""", "descriptors must hold 1 to 16")]
    [InlineData("""{"domain":"api","descriptors":[{"entries":[{"key":"user"}]}]}""", "each with a key and a value")]
    [InlineData("""{"domain":"api","descriptors":[{"entries":[{"key":"user","value":"a"}]}],"hits_addend":-1}""", "hits must be 0 or more")]
    public async Task Check_BadRequest_Answers400ProblemWithReason(string json, string reason)
    {
        using var content = new StringContent(json, Encoding.UTF8, "application/json");
        var response = await _node.Http.PostAsync("/v1/ratelimit/check", content, TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Contains(reason, await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Check_BodyAboveItsLimit_IsRejected()
    {
        var huge = Request("user", new string('x', 70 * 1024));
        using var content = new StringContent(huge, Encoding.UTF8, "application/json");
        var response = await _node.Http.PostAsync("/v1/ratelimit/check", content, TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
    }

    [Fact]
    public async Task Metrics_AfterDecisions_CountOutcomesPerRule()
    {
        for (var i = 0; i < 4; i++)
        {
            await CheckAsync(Request("user", "metered"));
        }

        var metrics = await _node.Http.GetStringAsync("/metrics", TestContext.Current.CancellationToken);
        Assert.Matches("""blueprint_ratelimit_decisions_total\{[^}]*outcome="limited"[^}]*rule="api/user"[^}]*\} [1-9]""", metrics);
        Assert.Matches("""blueprint_ratelimit_decisions_total\{[^}]*outcome="near_limit"[^}]*rule="api/user"[^}]*\} [1-9]""", metrics);
        Assert.Contains("blueprint_ratelimit_decision_duration_seconds_bucket", metrics, StringComparison.Ordinal);
    }
}
