using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Amazon.SimpleNotificationService.Model;
using Blueprint.Core.RateLimiting.Stores;
using Blueprint.Hosting;
using Blueprint.Kv;
using Blueprint.Log;
using Blueprint.Notify.Pipeline;
using Blueprint.RateLimit;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace Blueprint.Notify.Tests.Limits;

/// <summary>Per-user send limits on the product API and per-channel delivery limits in the pipeline, decided through the ratelimit module's store.</summary>
public sealed class RateLimitTests
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(30);

    /// <summary>A node with the ratelimit module (and the KV it decides on) beside notify.</summary>
    private static readonly ModuleCatalog WithRateLimit = new([new KvModule(), new RateLimitModule(), new LogModule(), new NotifyModule()]);

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    private static async Task<string> SendAsync(TestNode node, params string[] users)
    {
        using var response = await node.Http.PostAsJsonAsync("/api/notify/send", new { users, template = "ping", data = new { text = "hi" } }, Token);
        Assert.True(response.StatusCode == HttpStatusCode.Accepted, $"send: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync(Token)}");
        return (await response.Content.ReadFromJsonAsync<JsonElement>(Token)).GetProperty("messages")[0].GetProperty("messageId").GetString()!;
    }

    [Fact]
    public async Task AUserOverTheSendLimit_Gets429WithRetryAfter_AndNothingIsAccepted_WhileOverTheInboxLimitDeliveriesWait()
    {
        await using var node = await TestNode.StartAsync(
            WithRateLimit,
            null,
            new Dictionary<string, string?> { ["Notify:UserLimit"] = "3/1h", ["Notify:UserChannelLimits"] = "inbox=1/1h" },
            null,
            Token);
        await node.PutAsync("/api/notify/templates/ping", new { bodies = new Dictionary<string, string> { ["default"] = "{{ data.text }}" } }, Token);
        await node.PutAsync("/api/notify/users/alice", new { channels = new Dictionary<string, string> { ["inbox"] = "alice" } }, Token);
        await node.PutAsync("/api/notify/users/bob", new { channels = new Dictionary<string, string> { ["inbox"] = "bob" } }, Token);

        string[] sent = [await SendAsync(node, "alice"), await SendAsync(node, "alice"), await SendAsync(node, "alice")];
        using var refused = await node.Http.PostAsJsonAsync("/api/notify/send", new { users = new[] { "alice" }, template = "ping", data = new { text = "one too many" } }, Token);
        using var refusedWithBob = await node.Http.PostAsJsonAsync("/api/notify/send", new { users = new[] { "bob", "alice" }, template = "ping" }, Token);

        Assert.Equal(HttpStatusCode.TooManyRequests, refused.StatusCode);
        Assert.Equal("application/problem+json", refused.Content.Headers.ContentType?.MediaType);
        var retryAfter = refused.Headers.RetryAfter?.Delta;
        Assert.True(retryAfter > TimeSpan.Zero && retryAfter <= TimeSpan.FromHours(1), $"Retry-After: {refused.Headers.RetryAfter}");
        var problem = await refused.Content.ReadFromJsonAsync<JsonElement>(Token);
        Assert.Equal(429, problem.GetProperty("status").GetInt32());
        Assert.Equal("Too many sends", problem.GetProperty("title").GetString());
        Assert.StartsWith("user alice is over the send limit 3/1h; retry after ", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.TooManyRequests, refusedWithBob.StatusCode);
        Assert.Equal(3, node.AcceptedCount());

        // Bob is limited on his own: his send goes.
        await SendAsync(node, "bob");
        Assert.Equal(4, node.AcceptedCount());

        // The counters are the ratelimit module's, on its KV, under its prefix and the descriptors of the domain notify.
        var kv = (await node.RedisAsync()).GetDatabase();
        Assert.True(await kv.KeyExistsAsync("rl:notify|user=alice"));

        // One inbox delivery per user per hour: one of alice's three messages is delivered, the two others wait (not failed, not dead).
        var ledger = node.Node.Services.GetRequiredService<DeliveryLedger>();
        await Eventually.TrueAsync(
            () => sent.All(id => ledger.AttemptsOf(id).Count > 0),
            Deadline,
            () => string.Join("; ", sent.Select(id => $"{id}: {string.Join(", ", ledger.AttemptsOf(id).Select(attempt => attempt.Outcome))}")),
            Token);
        var outcomes = sent.Select(id => ledger.AttemptsOf(id)[0]).ToList();
        Assert.Equal(1, outcomes.Count(attempt => attempt.Outcome == "Delivered"));
        var waiting = outcomes.Where(attempt => attempt.Outcome == NotifyPipeline.RateLimitedOutcome).ToList();
        Assert.Equal(2, waiting.Count);
        Assert.All(waiting, attempt =>
        {
            Assert.Equal(1, attempt.Attempt);
            Assert.StartsWith("user alice is over the inbox limit 1/1h; deferred ", attempt.Detail, StringComparison.Ordinal);
        });
        Assert.Single(await node.InboxAsync("alice", Token));
        Assert.True(await kv.KeyExistsAsync("rl:notify|user=alice|channel=inbox"));
        Assert.Empty((await node.Http.GetFromJsonAsync<JsonElement>("/api/notify/dead-letters", Token)).GetProperty("deadLetters").EnumerateArray());
        var status = await node.Http.GetFromJsonAsync<JsonElement>($"/api/notify/messages/{waiting[0].MessageId}", Token);
        Assert.Equal(NotifyPipeline.RateLimitedOutcome, status.GetProperty("attempts")[0].GetProperty("outcome").GetString());
    }

    [Fact]
    public async Task DeliveriesOverAChannelLimit_AreDeferred_NotFailed_AndAllDeliveredOnceTimeMoves()
    {
        // The limiter's store runs on a clock the test moves: while it stands still, exactly the burst goes through.
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var node = await TestNode.StartAsync(
            null,
            new Dictionary<string, string?> { ["Notify:ChannelLimits"] = "inbox=5/10s", ["Notify:RetryDelays"] = "100ms,300ms", ["Notify:RetryJitterPercent"] = "0" },
            services => services.AddSingleton<IRateLimitStore>(new LocalRateLimitStore(clock, 1000)),
            Token);
        using var sns = node.Sns();
        var topic = (await sns.CreateTopicAsync("burst", Token)).TopicArn;
        await sns.SubscribeAsync(new SubscribeRequest { TopicArn = topic, Protocol = "inbox", Endpoint = "burst", Attributes = new() { ["RawMessageDelivery"] = "true" } }, Token);

        var ids = new List<string>();
        for (var i = 0; i < 20; i++)
        {
            ids.Add((await sns.PublishAsync(topic, $"m{i}", Token)).MessageId);
        }

        var ledger = node.Node.Services.GetRequiredService<DeliveryLedger>();
        string Outcomes() => string.Join("; ", ids.Select(id => string.Join(",", ledger.AttemptsOf(id).Select(attempt => attempt.Outcome))));
        await Eventually.TrueAsync(() => ids.All(id => ledger.AttemptsOf(id).Count > 0), Deadline, Outcomes, Token);

        // The burst of five is delivered; the fifteen others are deferred, again and again while the clock stands still.
        Assert.Equal(5, ids.Count(id => ledger.AttemptsOf(id).Any(attempt => attempt.Outcome == "Delivered")));
        var deferred = ids.Where(id => ledger.AttemptsOf(id)[0].Outcome == NotifyPipeline.RateLimitedOutcome).ToList();
        Assert.Equal(15, deferred.Count);
        Assert.All(deferred, id => Assert.StartsWith("the inbox channel is over its limit 5/10s; deferred ", ledger.AttemptsOf(id)[0].Detail, StringComparison.Ordinal));
        Assert.Equal(5, (await node.InboxAsync("burst", Token)).Count);

        // Each poll moves the limiter's clock by a window, so five more may pass each time.
        await Eventually.TrueAsync(
            () =>
            {
                clock.Advance(TimeSpan.FromSeconds(10));
                return ids.All(id => ledger.AttemptsOf(id).Any(attempt => attempt.Outcome == "Delivered"));
            },
            Deadline,
            Outcomes,
            Token);

        // Every message delivered exactly once, at its first attempt: a deferral is not a failed attempt, and none was dead-lettered.
        Assert.All(ids, id =>
        {
            var attempts = ledger.AttemptsOf(id);
            var delivered = Assert.Single(attempts, attempt => attempt.Outcome == "Delivered");
            Assert.Equal(1, delivered.Attempt);
            Assert.All(attempts, attempt => Assert.Contains(attempt.Outcome, new[] { "Delivered", NotifyPipeline.RateLimitedOutcome }));
        });
        Assert.Equal(Enumerable.Range(0, 20).Select(i => $"m{i}").Order(StringComparer.Ordinal), (await node.InboxAsync("burst", Token)).Order(StringComparer.Ordinal));
        Assert.Empty((await node.Http.GetFromJsonAsync<JsonElement>("/api/notify/dead-letters", Token)).GetProperty("deadLetters").EnumerateArray());
        var status = await node.Http.GetFromJsonAsync<JsonElement>($"/api/notify/messages/{deferred[0]}", Token);
        Assert.Equal(
            [NotifyPipeline.RateLimitedOutcome, "Delivered"],
            status.GetProperty("attempts").EnumerateArray().Select(attempt => attempt.GetProperty("outcome").GetString()).Distinct());
    }
}
