using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Amazon.SimpleNotificationService.Model;

namespace Blueprint.Notify.Tests.Pipeline;

/// <summary>Webhook deliveries end to end: confirmation, Standard Webhooks signatures, the retry schedule, dead letters and re-drive.</summary>
public sealed class WebhookDeliveryTests
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(30);

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    private static Dictionary<string, string?> Schedule(string delays) => new()
    {
        ["Notify:RetryDelays"] = delays,
        ["Notify:RetryJitterPercent"] = "0",
    };

    [Fact]
    public async Task AConfirmedWebhook_GetsTheEnvelope_SignedAsStandardWebhooksSay()
    {
        await using var receiver = await WebhookReceiver.StartAsync(Token);
        await using var node = await TestNode.StartAsync(cancellationToken: Token);
        using var sns = node.Sns();
        var topic = (await sns.CreateTopicAsync("signed", Token)).TopicArn;
        var arn = await Notify.SubscribeWebhookAsync(sns, topic, receiver, "/hook", null, Token);
        var secret = (await sns.GetSubscriptionAttributesAsync(arn, Token)).Attributes["SigningSecret"];

        var messageId = (await sns.PublishAsync(new PublishRequest { TopicArn = topic, Message = "hello webhook", Subject = "greeting" }, Token)).MessageId;

        var delivered = await Eventually.ValueAsync(
            () => Task.FromResult(receiver.Of("/hook").FirstOrDefault(request => request.Header("x-amz-sns-message-type") == "Notification")),
            found => found is not null,
            Deadline,
            _ => "the notification at the webhook",
            Token);
        using var body = JsonDocument.Parse(delivered!.Body);
        Assert.Equal("hello webhook", body.RootElement.GetProperty("Message").GetString());
        Assert.Equal("greeting", body.RootElement.GetProperty("Subject").GetString());
        Assert.Equal(messageId, body.RootElement.GetProperty("MessageId").GetString());
        Assert.Equal(messageId, delivered.Header("webhook-id"));
        Assert.Equal(arn, delivered.Header("x-amz-sns-subscription-arn"));

        // Verified as a receiver would, from the secret and the raw body.
        var key = Convert.FromBase64String(secret["whsec_".Length..]);
        var expected = "v1," + Convert.ToBase64String(HMACSHA256.HashData(key, Encoding.UTF8.GetBytes($"{delivered.Header("webhook-id")}.{delivered.Header("webhook-timestamp")}.{delivered.Body}")));
        Assert.Equal(expected, delivered.Header("webhook-signature"));
        var tampered = "v1," + Convert.ToBase64String(HMACSHA256.HashData(key, Encoding.UTF8.GetBytes($"{delivered.Header("webhook-id")}.{delivered.Header("webhook-timestamp")}.{delivered.Body} ")));
        Assert.NotEqual(tampered, delivered.Header("webhook-signature"));
    }

    [Fact]
    public async Task FollowingTheSubscribeUrl_ConfirmsTheSubscription()
    {
        await using var receiver = await WebhookReceiver.StartAsync(Token);
        await using var node = await TestNode.StartAsync(cancellationToken: Token);
        using var sns = node.Sns();
        var topic = (await sns.CreateTopicAsync("by-url", Token)).TopicArn;
        await sns.SubscribeAsync(new SubscribeRequest { TopicArn = topic, Protocol = "http", Endpoint = receiver.Url("/url") }, Token);
        var confirmation = await Eventually.ValueAsync(
            () => Task.FromResult(receiver.Of("/url").FirstOrDefault()),
            found => found is not null,
            Deadline,
            _ => "the SubscriptionConfirmation",
            Token);
        using var body = JsonDocument.Parse(confirmation!.Body);

        using var http = new HttpClient();
        var answer = await http.GetAsync(new Uri(body.RootElement.GetProperty("SubscribeURL").GetString()!), Token);
        var xml = await answer.Content.ReadAsStringAsync(Token);

        Assert.True(answer.IsSuccessStatusCode, xml);
        Assert.Contains("<ConfirmSubscriptionResponse", xml, StringComparison.Ordinal);
        var subscription = Assert.Single((await sns.ListSubscriptionsByTopicAsync(topic, Token)).Subscriptions);
        Assert.StartsWith(topic + ":", subscription.SubscriptionArn, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AnUnconfirmedWebhook_GetsNothingButItsConfirmation()
    {
        await using var receiver = await WebhookReceiver.StartAsync(Token);
        await using var node = await TestNode.StartAsync(cancellationToken: Token);
        using var sns = node.Sns();
        var topic = (await sns.CreateTopicAsync("pending", Token)).TopicArn;
        await sns.SubscribeAsync(new SubscribeRequest { TopicArn = topic, Protocol = "http", Endpoint = receiver.Url("/later") }, Token);
        await sns.SubscribeAsync(new SubscribeRequest { TopicArn = topic, Protocol = "log", Endpoint = "pending-copy" }, Token);
        var listed = (await sns.ListSubscriptionsByTopicAsync(topic, Token)).Subscriptions;
        Assert.Contains(listed, subscription => subscription.SubscriptionArn == "PendingConfirmation" && subscription.Protocol == "http");

        var messageId = (await sns.PublishAsync(topic, "not for the pending one", Token)).MessageId;
        var ledger = node.Node.Services.GetService(typeof(Blueprint.Notify.Pipeline.DeliveryLedger)) as Blueprint.Notify.Pipeline.DeliveryLedger;
        await Eventually.TrueAsync(() => ledger!.AttemptsOf(messageId).Count > 0, Deadline, () => "the log subscription's delivery", Token);

        Assert.Single(ledger!.AttemptsOf(messageId));
        Assert.All(receiver.Of("/later"), request => Assert.Equal("SubscriptionConfirmation", request.Header("x-amz-sns-message-type")));
    }

    [Fact]
    public async Task AReceiverFailingTwice_GetsExactlyTheRetrySchedule_ThenTheDelivery()
    {
        await using var receiver = await WebhookReceiver.StartAsync(Token);
        await using var node = await TestNode.StartAsync(settings: Schedule("300ms,600ms,1200ms"), cancellationToken: Token);
        using var sns = node.Sns();
        var topic = (await sns.CreateTopicAsync("flaky", Token)).TopicArn;
        await Notify.SubscribeWebhookAsync(sns, topic, receiver, "/flaky", null, Token);
        receiver.Answer = (path, count) => path == "/flaky" && count <= 3 ? (503, false) : (200, false);

        // The confirmation was the first request of /flaky; the notification's attempts are the next ones.
        var messageId = (await sns.PublishAsync(topic, "eventually", Token)).MessageId;
        var attempts = await Eventually.ValueAsync(
            () => Task.FromResult(receiver.Of("/flaky").Where(request => request.Header("webhook-id") == messageId).ToList()),
            found => found.Count >= 3,
            Deadline,
            found => $"three attempts, got {found.Count}",
            Token);
        var status = await Eventually.ValueAsync(
            () => node.Http.GetFromJsonAsync<JsonElement>($"/api/notify/messages/{messageId}", Token),
            found => found.GetProperty("attempts").GetArrayLength() >= 3,
            Deadline,
            found => found.ToString(),
            Token);

        Assert.Equal(["1", "2", "3"], attempts.Select(request => request.Header("webhook-attempt")));
        Assert.True(attempts[1].At - attempts[0].At >= TimeSpan.FromMilliseconds(300), $"the first retry came {(attempts[1].At - attempts[0].At).TotalMilliseconds} ms after the attempt");
        Assert.True(attempts[2].At - attempts[1].At >= TimeSpan.FromMilliseconds(600), $"the second retry came {(attempts[2].At - attempts[1].At).TotalMilliseconds} ms after the first");
        Assert.Equal(
            ["Failed", "Failed", "Delivered"],
            status.GetProperty("attempts").EnumerateArray().Select(attempt => attempt.GetProperty("outcome").GetString()));
        Assert.Equal("HTTP 503 Service Unavailable", status.GetProperty("attempts")[0].GetProperty("detail").GetString());
        Assert.Empty((await node.Http.GetFromJsonAsync<JsonElement>("/api/notify/dead-letters", Token)).GetProperty("deadLetters").EnumerateArray());
    }

    [Fact]
    public async Task ASlowDelivery_HoldsBackNoOtherDeliveryOfItsSubscription_AndIsRecordedWhenItEnds()
    {
        await using var receiver = await WebhookReceiver.StartAsync(Token);
        var settings = Schedule("1s");
        settings["Notify:Concurrency"] = "2";
        settings["Notify:WebhookTimeoutSeconds"] = "120";
        await using var node = await TestNode.StartAsync(settings: settings, cancellationToken: Token);
        using var sns = node.Sns();
        var topic = (await sns.CreateTopicAsync("window", Token)).TopicArn;
        await Notify.SubscribeWebhookAsync(sns, topic, receiver, "/window", null, Token);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        receiver.Hold = request => request.Body.Contains("slow one", StringComparison.Ordinal) ? release.Task : Task.CompletedTask;

        // With 2 slots, the slow delivery holds one; the other slot must carry all six that follow it, one after another.
        var slowId = (await sns.PublishAsync(topic, "slow one", Token)).MessageId;
        var others = new List<string>();
        for (var i = 0; i < 6; i++)
        {
            others.Add((await sns.PublishAsync(topic, $"quick {i}", Token)).MessageId);
        }

        await Eventually.TrueAsync(
            () => Task.FromResult(others.All(id => receiver.Of("/window").Any(request => request.Header("webhook-id") == id))),
            Deadline,
            () => $"the six quick deliveries arrived while the slow one was held; arrived: {receiver.Of("/window").Count}",
            Token);
        using (var held = await node.Http.GetAsync(new Uri($"/api/notify/messages/{slowId}", UriKind.Relative), Token))
        {
            Assert.Equal(System.Net.HttpStatusCode.NotFound, held.StatusCode); // no attempt of it is recorded yet
        }

        release.SetResult();
        var status = await Eventually.ValueAsync(
            async () =>
            {
                using var response = await node.Http.GetAsync(new Uri($"/api/notify/messages/{slowId}", UriKind.Relative), Token);
                return response.IsSuccessStatusCode ? await response.Content.ReadFromJsonAsync<JsonElement>(Token) : default;
            },
            found => found.ValueKind == JsonValueKind.Object && found.GetProperty("attempts").GetArrayLength() >= 1,
            Deadline,
            found => found.ToString(),
            Token);
        Assert.Equal("Delivered", Assert.Single(status.GetProperty("attempts").EnumerateArray()).GetProperty("outcome").GetString());
        Assert.Single(receiver.Of("/window"), request => request.Header("webhook-id") == slowId);
    }

    [Fact]
    public async Task AReceiverThatAlwaysFails_LandsInTheDeadLetters_WithItsReason_AndReDriveDeliversIt()
    {
        await using var receiver = await WebhookReceiver.StartAsync(Token);
        await using var node = await TestNode.StartAsync(settings: Schedule("100ms,100ms"), cancellationToken: Token);
        using var sns = node.Sns();
        var topic = (await sns.CreateTopicAsync("broken", Token)).TopicArn;
        await Notify.SubscribeWebhookAsync(sns, topic, receiver, "/broken", null, Token);
        var healthy = false;
        receiver.Answer = (path, _) => path == "/broken" && !Volatile.Read(ref healthy) ? (500, false) : (200, false);

        var messageId = (await sns.PublishAsync(topic, "doomed", Token)).MessageId;
        var letters = await Eventually.ValueAsync(
            () => node.Http.GetFromJsonAsync<JsonElement>("/api/notify/dead-letters", Token),
            found => found.GetProperty("deadLetters").GetArrayLength() > 0,
            Deadline,
            found => found.ToString(),
            Token);
        var letter = Assert.Single(letters.GetProperty("deadLetters").EnumerateArray());
        Assert.Equal("gave up after 3 attempts; the last: HTTP 500 Internal Server Error", letter.GetProperty("reason").GetString());
        Assert.Equal(messageId, letter.GetProperty("delivery").GetProperty("message").GetProperty("messageId").GetString());
        Assert.Equal(3, receiver.Of("/broken").Count(request => request.Header("webhook-id") == messageId));

        Volatile.Write(ref healthy, true);
        var redrive = await node.Http.PostAsync(new Uri("/api/notify/dead-letters/redrive", UriKind.Relative), null, Token);
        Assert.Equal(1, (await redrive.Content.ReadFromJsonAsync<JsonElement>(Token)).GetProperty("redriven").GetInt32());

        await Eventually.TrueAsync(() => receiver.Of("/broken").Count(request => request.Header("webhook-id") == messageId) == 4, Deadline, () => "the re-driven delivery", Token);
        Assert.Empty((await node.Http.GetFromJsonAsync<JsonElement>("/api/notify/dead-letters", Token)).GetProperty("deadLetters").EnumerateArray());
        var status = await Eventually.ValueAsync(
            () => node.Http.GetFromJsonAsync<JsonElement>($"/api/notify/messages/{messageId}", Token),
            found => found.GetProperty("attempts").EnumerateArray().Any(attempt => attempt.GetProperty("outcome").GetString() == "Delivered"),
            Deadline,
            found => found.ToString(),
            Token);
        Assert.Equal(
            ["Failed", "Failed", "Failed", "DeadLettered", "Delivered"],
            status.GetProperty("attempts").EnumerateArray().Select(attempt => attempt.GetProperty("outcome").GetString()));
    }

    [Fact]
    public async Task AReceiverCanStopRetries_AndGoneDisablesTheSubscription()
    {
        await using var receiver = await WebhookReceiver.StartAsync(Token);
        await using var node = await TestNode.StartAsync(settings: Schedule("100ms,100ms"), cancellationToken: Token);
        using var sns = node.Sns();
        var topic = (await sns.CreateTopicAsync("stops", Token)).TopicArn;
        await Notify.SubscribeWebhookAsync(sns, topic, receiver, "/no-retry", null, Token);
        var goneArn = await Notify.SubscribeWebhookAsync(sns, topic, receiver, "/gone", null, Token);
        receiver.Answer = (path, _) => path switch
        {
            "/no-retry" => (422, true),
            "/gone" => (410, false),
            _ => (200, false),
        };

        var first = (await sns.PublishAsync(topic, "first", Token)).MessageId;
        var letters = await Eventually.ValueAsync(
            () => node.Http.GetFromJsonAsync<JsonElement>("/api/notify/dead-letters", Token),
            found => found.GetProperty("deadLetters").GetArrayLength() >= 2,
            Deadline,
            found => found.ToString(),
            Token);
        var reasons = letters.GetProperty("deadLetters").EnumerateArray().Select(letter => letter.GetProperty("reason").GetString()).Order(StringComparer.Ordinal).ToList();
        Assert.Equal(["HTTP 410 Gone: the receiver asked to end the subscription", "HTTP 422 with Webhook-No-Retry: the receiver asked for no retries"], reasons);
        Assert.Equal(1, receiver.Of("/no-retry").Count(request => request.Header("webhook-id") == first));

        var attributes = (await sns.GetSubscriptionAttributesAsync(goneArn, Token)).Attributes;
        Assert.Equal("false", attributes["Enabled"]);

        // A later message is not sent to the disabled subscription: it goes straight to the dead letters.
        var second = (await sns.PublishAsync(topic, "second", Token)).MessageId;
        await Eventually.TrueAsync(
            async () => (await node.Http.GetFromJsonAsync<JsonElement>("/api/notify/dead-letters", Token)).GetProperty("deadLetters").GetArrayLength() >= 4,
            Deadline,
            () => "both deliveries of the second message dead-lettered",
            Token);
        Assert.DoesNotContain(receiver.Of("/gone"), request => request.Header("webhook-id") == second);
    }
}
