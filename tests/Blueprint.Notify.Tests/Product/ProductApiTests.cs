using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Blueprint.Notify.Pipeline;
using Microsoft.Extensions.DependencyInjection;

namespace Blueprint.Notify.Tests.Product;

/// <summary>Users, preferences, templates, quiet hours and scheduled sends through the product API.</summary>
public sealed class ProductApiTests
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(30);

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    private static Task PutAsync(TestNode node, string path, object body) => node.PutAsync(path, body, Token);

    private static async Task<JsonElement> SendAsync(TestNode node, object body)
    {
        using var response = await node.Http.PostAsJsonAsync("/api/notify/send", body, Token);
        Assert.True(response.StatusCode == HttpStatusCode.Accepted, $"send: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync(Token)}");
        return await response.Content.ReadFromJsonAsync<JsonElement>(Token);
    }

    private static async Task<List<string>> InboxAsync(TestNode node, string inbox, int count) =>
        await Eventually.ValueAsync(
            () => node.InboxAsync(inbox, Token),
            found => found.Count >= count,
            Deadline,
            found => $"{count} messages in inbox {inbox}, found {found.Count}",
            Token);

    [Fact]
    public async Task ATemplateIsRenderedPerUserAndChannel_AndPreferencesTurnChannelsOff()
    {
        await using var receiver = await WebhookReceiver.StartAsync(Token);
        await using var node = await TestNode.StartAsync(cancellationToken: Token);
        await PutAsync(node, "/api/notify/templates/invoice", new
        {
            subject = "Invoice for {{ user.name }}",
            bodies = new Dictionary<string, string>
            {
                ["inbox"] = "{{ user.name }}, you owe {{ data.amount }} {{ data.currency | upcase }}",
                ["webhook"] = "{\"user\": \"{{ user.id }}\", \"amount\": {{ data.amount }}}",
            },
        });
        await PutAsync(node, "/api/notify/users/alice", new
        {
            channels = new Dictionary<string, string> { ["inbox"] = "alice-inbox", ["webhook"] = receiver.Url("/alice") },
            data = new Dictionary<string, string> { ["name"] = "Alice" },
            preferences = new Dictionary<string, string[]> { ["marketing"] = ["webhook"] },
        });
        await PutAsync(node, "/api/notify/users/bob", new
        {
            channels = new Dictionary<string, string> { ["inbox"] = "bob-inbox" },
            data = new Dictionary<string, string> { ["name"] = "Bob" },
        });

        var sent = await SendAsync(node, new { users = new[] { "alice", "bob" }, template = "invoice", category = "billing", data = new { amount = 42, currency = "eur" } });
        Assert.Equal(["alice", "bob"], sent.GetProperty("messages").EnumerateArray().Select(message => message.GetProperty("user").GetString()));
        var marketing = (await SendAsync(node, new { users = new[] { "alice" }, template = "invoice", category = "marketing", data = new { amount = 1, currency = "usd" } }))
            .GetProperty("messages")[0].GetProperty("messageId").GetString()!;

        Assert.Equal(["Alice, you owe 42 EUR", "Alice, you owe 1 USD"], (await InboxAsync(node, "alice-inbox", 2)).Order(StringComparer.Ordinal).Reverse());
        Assert.Equal(["Bob, you owe 42 EUR"], await InboxAsync(node, "bob-inbox", 1));
        var webhook = await Eventually.ValueAsync(
            () => Task.FromResult(receiver.Of("/alice")),
            found => found.Count >= 1,
            Deadline,
            found => $"alice's webhook, {found.Count} requests",
            Token);
        using var envelope = JsonDocument.Parse(webhook[0].Body);
        Assert.Equal("{\"user\": \"alice\", \"amount\": 42}", envelope.RootElement.GetProperty("Message").GetString());
        Assert.Equal("Invoice for Alice", envelope.RootElement.GetProperty("Subject").GetString());

        // The marketing message reached alice's inbox (checked above) but not her webhook, which she turned off for marketing.
        var ledger = node.Node.Services.GetRequiredService<DeliveryLedger>();
        await Eventually.TrueAsync(() => ledger.AttemptsOf(marketing).Count > 0, Deadline, () => "the marketing message's delivery", Token);
        Assert.Equal("inbox", Assert.Single(ledger.AttemptsOf(marketing)).Protocol);
        Assert.Single(receiver.Of("/alice"));
    }

    [Fact]
    public async Task ADigest_CollectsTheSendsOfItsWindow_IntoOneMessage()
    {
        await using var node = await TestNode.StartAsync(cancellationToken: Token);
        await PutAsync(node, "/api/notify/templates/activity", new
        {
            bodies = new Dictionary<string, string> { ["default"] = "{{ data.count }} new:{% for item in data.items %} {{ item.what }}{% endfor %}" },
        });
        await PutAsync(node, "/api/notify/users/gina", new { channels = new Dictionary<string, string> { ["inbox"] = "gina" } });

        var first = await SendAsync(node, new { users = new[] { "gina" }, template = "activity", category = "social", digest = "2s", data = new { what = "like" } });
        await SendAsync(node, new { users = new[] { "gina" }, template = "activity", category = "social", digest = "2s", data = new { what = "comment" } });
        await SendAsync(node, new { users = new[] { "gina" }, template = "activity", category = "social", digest = "2s", data = new { what = "follow" } });
        var pending = await node.Http.GetFromJsonAsync<JsonElement>("/api/notify/scheduled", Token);

        Assert.True(first.GetProperty("messages")[0].GetProperty("dueAt").ValueKind == JsonValueKind.String);
        var open = Assert.Single(pending.GetProperty("digests").EnumerateArray());
        Assert.Equal(3, open.GetProperty("items").GetInt32());
        Assert.Equal(["3 new: like comment follow"], await InboxAsync(node, "gina", 1));
        await Eventually.TrueAsync(
            async () => (await node.Http.GetFromJsonAsync<JsonElement>("/api/notify/scheduled", Token)).GetProperty("digests").GetArrayLength() == 0,
            Deadline,
            () => "the digest closed",
            Token);
        var badWindow = await node.Http.PostAsJsonAsync("/api/notify/send", new { users = new[] { "gina" }, template = "activity", digest = "a while" }, Token);
        Assert.Equal(HttpStatusCode.BadRequest, badWindow.StatusCode);
    }

    [Fact]
    public async Task BadTemplatesUsersAndSends_GetProblemDetails_AndAcceptNothing()
    {
        await using var node = await TestNode.StartAsync(cancellationToken: Token);
        await PutAsync(node, "/api/notify/users/carol", new { channels = new Dictionary<string, string> { ["inbox"] = "carol" } });

        var badTemplate = await node.Http.PutAsJsonAsync("/api/notify/templates/broken", new { bodies = new Dictionary<string, string> { ["default"] = "Hello {{ user.name " } }, Token);
        var badChannel = await node.Http.PutAsJsonAsync("/api/notify/users/dave", new { channels = new Dictionary<string, string> { ["pigeon"] = "coop 7" } }, Token);
        var badZone = await node.Http.PutAsJsonAsync("/api/notify/users/erin", new { timeZone = "Mars/Olympus" }, Token);
        var unknownTemplate = await node.Http.PostAsJsonAsync("/api/notify/send", new { users = new[] { "carol" }, template = "nope" }, Token);
        await PutAsync(node, "/api/notify/templates/hello", new { bodies = new Dictionary<string, string> { ["default"] = "hi {{ user.id }}" } });
        var unknownUser = await node.Http.PostAsJsonAsync("/api/notify/send", new { users = new[] { "carol", "zed" }, template = "hello" }, Token);
        var badPriority = await node.Http.PostAsJsonAsync("/api/notify/send", new { users = new[] { "carol" }, template = "hello", priority = "urgent!!" }, Token);

        Assert.Equal(HttpStatusCode.BadRequest, badTemplate.StatusCode);
        Assert.Contains("does not parse", await badTemplate.Content.ReadAsStringAsync(Token), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.BadRequest, badChannel.StatusCode);
        Assert.Contains("unknown channel 'pigeon'", await badChannel.Content.ReadAsStringAsync(Token), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.BadRequest, badZone.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, unknownTemplate.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, unknownUser.StatusCode);
        Assert.Contains("unknown users: zed", await unknownUser.Content.ReadAsStringAsync(Token), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.BadRequest, badPriority.StatusCode);

        Assert.Equal(0, node.AcceptedCount());
    }

    [Fact]
    public async Task QuietHoursHoldNormalSends_HighPriorityGoesNow_AndScheduledSendsSurviveARestart()
    {
        using var data = new TempDirectory("blueprint-notify-quiet");
        var now = DateTimeOffset.UtcNow;
        var quiet = new { start = now.AddHours(-1).ToString("HH:mm", CultureInfo.InvariantCulture), end = now.AddHours(2).ToString("HH:mm", CultureInfo.InvariantCulture) };
        string scheduledId;
        string laterId;
        await using (var node = await TestNode.StartAsync(data.Path, cancellationToken: Token))
        {
            await PutAsync(node, "/api/notify/templates/ping", new { bodies = new Dictionary<string, string> { ["default"] = "{{ data.text }}" } });
            await PutAsync(node, "/api/notify/users/frank", new { channels = new Dictionary<string, string> { ["inbox"] = "frank" }, quietHours = quiet });

            var held = await SendAsync(node, new { users = new[] { "frank" }, template = "ping", data = new { text = "can wait" } });
            await SendAsync(node, new { users = new[] { "frank" }, template = "ping", priority = "high", data = new { text = "wake up" } });
            await SendAsync(node, new { users = new[] { "frank" }, template = "ping", priority = "high", sendAt = DateTimeOffset.UtcNow.AddSeconds(2), data = new { text = "in two seconds" } });
            var later = await SendAsync(node, new { users = new[] { "frank" }, template = "ping", priority = "high", sendAt = DateTimeOffset.UtcNow.AddHours(5), data = new { text = "in five hours" } });
            laterId = later.GetProperty("messages")[0].GetProperty("messageId").GetString()!;

            scheduledId = held.GetProperty("messages")[0].GetProperty("messageId").GetString()!;
            var dueAt = held.GetProperty("messages")[0].GetProperty("dueAt").GetDateTimeOffset();
            Assert.True(dueAt > now.AddHours(1), $"held until {dueAt:O}, the end of the quiet hours");
            Assert.Equal(["in two seconds", "wake up"], (await InboxAsync(node, "frank", 2)).Order(StringComparer.Ordinal));
        }

        await using var restarted = await TestNode.StartAsync(data.Path, cancellationToken: Token);
        var scheduled = await restarted.Http.GetFromJsonAsync<JsonElement>("/api/notify/scheduled", Token);
        Assert.Equal(
            [scheduledId, laterId],
            scheduled.GetProperty("scheduled").EnumerateArray().Select(waiting => waiting.GetProperty("messageId").GetString()));
    }
}
