using System.Net;
using System.Net.Http.Json;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using Amazon.SimpleNotificationService.Model;

namespace Blueprint.Notify.Tests.Pipeline;

/// <summary>The module's own publish API (202, Idempotency-Key, problem+json) and the live inboxes over SSE and WebSocket.</summary>
public sealed class InboxAndPublishTests
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(30);

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    private static async Task<string> PublishAsync(TestNode node, string topic, string message, string? idempotencyKey = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, $"/api/notify/topics/{topic}/messages") { Content = JsonContent.Create(new { message }) };
        if (idempotencyKey is not null)
        {
            request.Headers.Add("Idempotency-Key", idempotencyKey);
        }

        using var response = await node.Http.SendAsync(request, Token);
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<JsonElement>(Token)).GetProperty("messageId").GetString()!;
    }

    [Fact]
    public async Task AnIdempotencyKey_ReturnsTheFirstAnswer_AndPublishesOnce()
    {
        await using var node = await TestNode.StartAsync(cancellationToken: Token);
        using var sns = node.Sns();
        var topic = (await sns.CreateTopicAsync("once", Token)).TopicArn;
        await sns.SubscribeAsync(new SubscribeRequest { TopicArn = topic, Protocol = "log", Endpoint = "once-copy", Attributes = new() { ["RawMessageDelivery"] = "true" } }, Token);

        var first = await PublishAsync(node, "once", "charge card", "order-17");
        var again = await PublishAsync(node, "once", "charge card", "order-17");
        var other = await PublishAsync(node, "once", "charge card", "order-18");

        Assert.Equal(first, again);
        Assert.NotEqual(first, other);
        var log = node.Node.Services.GetService(typeof(Blueprint.Log.IEventLog)) as Blueprint.Log.IEventLog;
        var delivered = await Sns.SdkTests.ReadAllAsync(log!, "once-copy", 2);
        Assert.Equal(2, delivered.Count);
    }

    [Fact]
    public async Task BadPublishes_GetProblemDetails_WithTheReason()
    {
        await using var node = await TestNode.StartAsync(cancellationToken: Token);
        using var sns = node.Sns();
        await sns.CreateTopicAsync("strict", Token);

        var unknown = await node.Http.PostAsJsonAsync("/api/notify/topics/nowhere/messages", new { message = "x" }, Token);
        var empty = await node.Http.PostAsJsonAsync("/api/notify/topics/strict/messages", new { message = "" }, Token);
        var huge = await node.Http.PostAsJsonAsync("/api/notify/topics/strict/messages", new { message = new string('x', 300_000) }, Token);
        var broken = await node.Http.PostAsync(new Uri("/api/notify/topics/strict/messages", UriKind.Relative), new StringContent("{not json", Encoding.UTF8, "application/json"), Token);

        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
        Assert.Contains("there is no topic 'nowhere'", await unknown.Content.ReadAsStringAsync(Token), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.BadRequest, empty.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, huge.StatusCode);
        Assert.Contains("Message too long", await huge.Content.ReadAsStringAsync(Token), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.BadRequest, broken.StatusCode);
        Assert.Equal("application/problem+json", broken.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task AnSseClient_GetsItsInboxLive_AndReplaysFromTheLastEventId()
    {
        await using var node = await TestNode.StartAsync(cancellationToken: Token);
        using var sns = node.Sns();
        var topic = (await sns.CreateTopicAsync("alice-news", Token)).TopicArn;
        await sns.SubscribeAsync(new SubscribeRequest { TopicArn = topic, Protocol = "inbox", Endpoint = "alice", Attributes = new() { ["RawMessageDelivery"] = "true" } }, Token);
        await sns.SubscribeAsync(new SubscribeRequest { TopicArn = (await sns.CreateTopicAsync("bob-news", Token)).TopicArn, Protocol = "inbox", Endpoint = "bob" }, Token);

        using var events = new HttpClient { BaseAddress = node.Http.BaseAddress, Timeout = Timeout.InfiniteTimeSpan };
        using var stream = await events.GetStreamAsync(new Uri("/api/notify/inbox/alice/events", UriKind.Relative), Token);
        using var reader = new StreamReader(stream);
        Assert.Equal(": inbox alice", await reader.ReadLineAsync(Token));

        await PublishAsync(node, "bob-news", "for bob only");
        await PublishAsync(node, "alice-news", "one");
        var first = await ReadEventAsync(reader);
        await PublishAsync(node, "alice-news", "two");
        var second = await ReadEventAsync(reader);
        Assert.Equal("one", first.Data);
        Assert.Equal("two", second.Data);

        // Reconnecting with the first event's id replays what came after it, and only to alice.
        using var replay = new HttpRequestMessage(HttpMethod.Get, "/api/notify/inbox/alice/events");
        replay.Headers.Add("Last-Event-ID", first.Id);
        using var replayed = await events.SendAsync(replay, HttpCompletionOption.ResponseHeadersRead, Token);
        using var replayReader = new StreamReader(await replayed.Content.ReadAsStreamAsync(Token));
        Assert.Equal(": inbox alice", await replayReader.ReadLineAsync(Token));
        var again = await ReadEventAsync(replayReader);
        Assert.Equal((second.Id, "two"), (again.Id, again.Data));

        var badId = await node.Http.GetAsync(new Uri("/api/notify/inbox/alice/events?after=soon", UriKind.Relative), Token);
        Assert.Equal(HttpStatusCode.BadRequest, badId.StatusCode);
    }

    [Fact]
    public async Task AWebSocketClient_GetsItsInbox_FromAnId()
    {
        await using var node = await TestNode.StartAsync(cancellationToken: Token);
        using var sns = node.Sns();
        var topic = (await sns.CreateTopicAsync("carol-news", Token)).TopicArn;
        await sns.SubscribeAsync(new SubscribeRequest { TopicArn = topic, Protocol = "inbox", Endpoint = "carol" }, Token);
        var messageId = await PublishAsync(node, "carol-news", "before connecting");

        using var socket = new ClientWebSocket();
        var url = new UriBuilder(node.Http.BaseAddress!) { Scheme = "ws", Path = "/api/notify/inbox/carol/ws", Query = "after=-1" }.Uri;
        await socket.ConnectAsync(url, Token);
        var buffer = new byte[64 * 1024];
        var received = await socket.ReceiveAsync(buffer, Token).WaitAsync(Deadline, Token);
        using var frame = JsonDocument.Parse(buffer.AsMemory(0, received.Count));
        using var envelope = JsonDocument.Parse(frame.RootElement.GetProperty("message").GetString()!);

        Assert.Equal("0", frame.RootElement.GetProperty("id").GetString());
        Assert.Equal("before connecting", envelope.RootElement.GetProperty("Message").GetString());
        Assert.Equal(messageId, envelope.RootElement.GetProperty("MessageId").GetString());
        await socket.CloseAsync(WebSocketCloseStatus.NormalClosure, "done", Token);
    }

    private static async Task<(string Id, string Data)> ReadEventAsync(StreamReader reader)
    {
        string? id = null;
        var data = new StringBuilder();
        while (await reader.ReadLineAsync(Token).AsTask().WaitAsync(Deadline, Token) is { } line)
        {
            if (line.StartsWith("id: ", StringComparison.Ordinal))
            {
                id = line[4..];
            }
            else if (line.StartsWith("data: ", StringComparison.Ordinal))
            {
                data.Append(line[6..]);
            }
            else if (line.Length == 0 && id is not null)
            {
                return (id, data.ToString());
            }
        }

        throw new InvalidOperationException("the event stream ended");
    }
}
