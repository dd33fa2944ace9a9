using System.Net;
using System.Text;
using Amazon.SimpleNotificationService;
using Amazon.SimpleNotificationService.Model;
using Blueprint.Log;
using Microsoft.Extensions.DependencyInjection;

namespace Blueprint.Notify.Tests.Sns;

/// <summary>AWSSDK.SimpleNotificationService against the SNS port: topics, subscriptions, filter policies, publishing.</summary>
public sealed class SdkTests
{
    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Topics_AreCreatedIdempotently_Listed_AndDeletedWithTheirSubscriptions()
    {
        await using var node = await TestNode.StartAsync(cancellationToken: Token);
        using var sns = node.Sns();

        var first = await sns.CreateTopicAsync("orders", Token);
        var again = await sns.CreateTopicAsync("orders", Token);
        await sns.CreateTopicAsync("alerts", Token);
        Assert.Equal("arn:aws:sns:us-east-1:000000000000:orders", first.TopicArn);
        Assert.Equal(first.TopicArn, again.TopicArn);

        var listed = await sns.ListTopicsAsync(Token);
        Assert.Equal(["arn:aws:sns:us-east-1:000000000000:alerts", first.TopicArn], listed.Topics.Select(topic => topic.TopicArn));

        var subscribed = await sns.SubscribeAsync(new SubscribeRequest { TopicArn = first.TopicArn, Protocol = "log", Endpoint = "orders-copy" }, Token);
        Assert.StartsWith(first.TopicArn + ":", subscribed.SubscriptionArn, StringComparison.Ordinal);
        Assert.Single((await sns.ListSubscriptionsByTopicAsync(first.TopicArn, Token)).Subscriptions);

        await sns.DeleteTopicAsync(first.TopicArn, Token);
        Assert.Equal(["arn:aws:sns:us-east-1:000000000000:alerts"], (await sns.ListTopicsAsync(Token)).Topics.Select(topic => topic.TopicArn));
        Assert.Empty((await sns.ListSubscriptionsAsync(Token)).Subscriptions ?? []);
        var gone = await Assert.ThrowsAsync<NotFoundException>(() => sns.PublishAsync(first.TopicArn, "hello", Token));
        Assert.Equal(HttpStatusCode.NotFound, gone.StatusCode);
    }

    [Fact]
    public async Task TopicsAndSubscriptions_SurviveARestart_DeletionsIncluded()
    {
        using var data = new TempDirectory("blueprint-notify-state");
        string kept;
        await using (var node = await TestNode.StartAsync(data.Path, cancellationToken: Token))
        {
            using var sns = node.Sns();
            kept = (await sns.CreateTopicAsync("kept", Token)).TopicArn;
            var dropped = (await sns.CreateTopicAsync("dropped", Token)).TopicArn;
            await sns.SubscribeAsync(new SubscribeRequest { TopicArn = kept, Protocol = "log", Endpoint = "kept-copy" }, Token);
            var unsubscribed = await sns.SubscribeAsync(new SubscribeRequest { TopicArn = kept, Protocol = "log", Endpoint = "gone-copy" }, Token);
            await sns.UnsubscribeAsync(unsubscribed.SubscriptionArn, Token);
            await sns.DeleteTopicAsync(dropped, Token);
        }

        await using var restarted = await TestNode.StartAsync(data.Path, cancellationToken: Token);
        using var again = restarted.Sns();
        Assert.Equal([kept], (await again.ListTopicsAsync(Token)).Topics.Select(topic => topic.TopicArn));
        Assert.Equal(["kept-copy"], (await again.ListSubscriptionsAsync(Token)).Subscriptions.Select(subscription => subscription.Endpoint));
    }

    [Fact]
    public async Task AFilterPolicy_RoutesOnlyMatchingMessages_ToItsSubscription()
    {
        await using var node = await TestNode.StartAsync(cancellationToken: Token);
        using var sns = node.Sns();
        var topic = (await sns.CreateTopicAsync("events", Token)).TopicArn;
        await sns.SubscribeAsync(new SubscribeRequest
        {
            TopicArn = topic,
            Protocol = "log",
            Endpoint = "big-orders",
            Attributes = new() { ["FilterPolicy"] = """{"kind": ["order"], "amount": [{"numeric": [">=", 100]}]}""", ["RawMessageDelivery"] = "true" },
        }, Token);
        await sns.SubscribeAsync(new SubscribeRequest { TopicArn = topic, Protocol = "log", Endpoint = "everything", Attributes = new() { ["RawMessageDelivery"] = "true" } }, Token);

        async Task<string> PublishAsync(string message, string kind, string amount) => (await sns.PublishAsync(new PublishRequest
        {
            TopicArn = topic,
            Message = message,
            MessageAttributes = new()
            {
                ["kind"] = new MessageAttributeValue { DataType = "String", StringValue = kind },
                ["amount"] = new MessageAttributeValue { DataType = "Number", StringValue = amount },
            },
        }, Token)).MessageId;

        string[] ids =
        [
            await PublishAsync("small order", "order", "5"),
            await PublishAsync("big order", "order", "250"),
            await PublishAsync("big refund", "refund", "500"),
            await PublishAsync("another big order", "order", "100"),
        ];

        // Four deliveries to "everything" and two to "big-orders": six attempts in all, then nothing more to come.
        var ledger = node.Node.Services.GetRequiredService<Blueprint.Notify.Pipeline.DeliveryLedger>();
        await Eventually.TrueAsync(() => ids.Sum(id => ledger.AttemptsOf(id).Count) >= 6, TimeSpan.FromSeconds(20), () => "six delivery attempts", Token);
        var log = node.Node.Services.GetRequiredService<IEventLog>();
        Assert.Equal(["another big order", "big order", "big refund", "small order"], (await ReadAllAsync(log, "everything", 4)).Order(StringComparer.Ordinal));
        Assert.Equal(["another big order", "big order"], (await ReadAllAsync(log, "big-orders", 2)).Order(StringComparer.Ordinal));
        Assert.Single(ledger.AttemptsOf(ids[0]));
        Assert.All(ids.Select(ledger.AttemptsOf).SelectMany(attempts => attempts), attempt => Assert.Equal("Delivered", attempt.Outcome));
    }

    [Fact]
    public async Task PublishBatch_AcceptsGoodEntries_AndReportsEachBadOne()
    {
        await using var node = await TestNode.StartAsync(cancellationToken: Token);
        using var sns = node.Sns();
        var topic = (await sns.CreateTopicAsync("batch", Token)).TopicArn;
        await sns.SubscribeAsync(new SubscribeRequest { TopicArn = topic, Protocol = "log", Endpoint = "batch-copy", Attributes = new() { ["RawMessageDelivery"] = "true" } }, Token);

        var result = await sns.PublishBatchAsync(new PublishBatchRequest
        {
            TopicArn = topic,
            PublishBatchRequestEntries =
            [
                new() { Id = "a", Message = "first" },
                new() { Id = "b", Message = "second", Subject = "line\nbreak" },
                new() { Id = "c", Message = "third" },
            ],
        }, Token);

        Assert.Equal(["a", "c"], result.Successful.Select(entry => entry.Id));
        var failed = Assert.Single(result.Failed);
        Assert.Equal("b", failed.Id);
        Assert.Equal("InvalidParameter", failed.Code);
        Assert.Contains("Subject", failed.Message, StringComparison.Ordinal);
        var delivered = await ReadAllAsync(node.Node.Services.GetRequiredService<IEventLog>(), "batch-copy", 2);
        Assert.Equal(["first", "third"], delivered.Order(StringComparer.Ordinal));

        var tooMany = await Assert.ThrowsAsync<TooManyEntriesInBatchRequestException>(() => sns.PublishBatchAsync(new PublishBatchRequest
        {
            TopicArn = topic,
            PublishBatchRequestEntries = [.. Enumerable.Range(0, 11).Select(i => new PublishBatchRequestEntry { Id = $"e{i}", Message = "m" })],
        }, Token));
        Assert.Equal(HttpStatusCode.BadRequest, tooMany.StatusCode);
        await Assert.ThrowsAsync<BatchEntryIdsNotDistinctException>(() => sns.PublishBatchAsync(new PublishBatchRequest
        {
            TopicArn = topic,
            PublishBatchRequestEntries = [new() { Id = "x", Message = "1" }, new() { Id = "x", Message = "2" }],
        }, Token));
    }

    [Fact]
    public async Task BadRequests_GetSnsErrors_AndChangeNothing()
    {
        await using var node = await TestNode.StartAsync(cancellationToken: Token);
        using var sns = node.Sns();
        var topic = (await sns.CreateTopicAsync("strict", Token)).TopicArn;

        var tooLong = await Assert.ThrowsAsync<InvalidParameterException>(() => sns.PublishAsync(topic, new string('x', 262_145), Token));
        Assert.Contains("Message too long", tooLong.Message, StringComparison.Ordinal);
        await Assert.ThrowsAsync<InvalidParameterException>(() => sns.CreateTopicAsync("no spaces allowed", Token));
        await Assert.ThrowsAsync<InvalidParameterException>(() => sns.SubscribeAsync(new SubscribeRequest { TopicArn = topic, Protocol = "sms", Endpoint = "+15555550100" }, Token));
        await Assert.ThrowsAsync<InvalidParameterException>(() => sns.SubscribeAsync(new SubscribeRequest { TopicArn = topic, Protocol = "http", Endpoint = "ftp://example.com/hook" }, Token));
        var badPolicy = await Assert.ThrowsAsync<InvalidParameterException>(() => sns.SubscribeAsync(new SubscribeRequest
        {
            TopicArn = topic,
            Protocol = "log",
            Endpoint = "x",
            Attributes = new() { ["FilterPolicy"] = """{"kind": "order"}""" },
        }, Token));
        Assert.Contains("FilterPolicy", badPolicy.Message, StringComparison.Ordinal);
        await Assert.ThrowsAsync<InvalidParameterException>(() => sns.PublishAsync(new PublishRequest { TopicArn = topic, Message = """{"email": "x"}""", MessageStructure = "json" }, Token));
        await Assert.ThrowsAsync<NotFoundException>(() => sns.UnsubscribeAsync(topic + ":00000000-0000-0000-0000-000000000000", Token));

        Assert.Empty((await sns.ListSubscriptionsAsync(Token)).Subscriptions ?? []);
    }

    [Fact]
    public async Task MalformedQueryRequests_GetSnsXmlErrors()
    {
        await using var node = await TestNode.StartAsync(cancellationToken: Token);
        using var http = new HttpClient { BaseAddress = new Uri(node.SnsUrl()) };

        var noAction = await http.PostAsync(new Uri("/", UriKind.Relative), new FormUrlEncodedContent([new("Version", "2010-03-31")]), Token);
        var unknown = await http.PostAsync(new Uri("/", UriKind.Relative), new FormUrlEncodedContent([new("Action", "SellTopic")]), Token);
        var json = await http.PostAsync(new Uri("/", UriKind.Relative), new StringContent("{\"Action\":\"ListTopics\"}", Encoding.UTF8, "application/json"), Token);

        Assert.Equal(HttpStatusCode.BadRequest, noAction.StatusCode);
        Assert.Contains("<Code>MissingAction</Code>", await noAction.Content.ReadAsStringAsync(Token), StringComparison.Ordinal);
        var unknownBody = await unknown.Content.ReadAsStringAsync(Token);
        Assert.Equal(HttpStatusCode.BadRequest, unknown.StatusCode);
        Assert.Contains("<ErrorResponse xmlns=\"http://sns.amazonaws.com/doc/2010-03-31/\"><Error><Type>Sender</Type><Code>InvalidAction</Code>", unknownBody, StringComparison.Ordinal);
        Assert.Contains("<RequestId>", unknownBody, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.BadRequest, json.StatusCode);
        Assert.Contains("<Code>MalformedQueryString</Code>", await json.Content.ReadAsStringAsync(Token), StringComparison.Ordinal);
    }

    /// <summary>The values of a log topic once it holds <paramref name="count"/> records (it is created by the first delivery).</summary>
    internal static async Task<List<string>> ReadAllAsync(IEventLog log, string topic, int count)
    {
        return await Eventually.ValueAsync(
            async () =>
            {
                if (log.PartitionCount(topic) == 0)
                {
                    return [];
                }

                var entries = await log.ReadAsync(topic, 0, 0, 1000, TimeSpan.Zero, Token);
                return entries.Select(entry => Encoding.UTF8.GetString(entry.Value ?? [])).ToList();
            },
            values => values.Count >= count,
            TimeSpan.FromSeconds(20),
            values => $"{count} records in {topic}, found {values.Count}: {string.Join(" | ", values)}",
            Token);
    }
}
