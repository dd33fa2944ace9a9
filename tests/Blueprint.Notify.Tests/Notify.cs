using System.Globalization;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Amazon.Runtime;
using Amazon.SimpleNotificationService;
using Amazon.SimpleNotificationService.Model;
using Blueprint.Log;
using Blueprint.Notify.Pipeline;
using Microsoft.Extensions.DependencyInjection;

namespace Blueprint.Notify.Tests;

/// <summary>What the notify tests share: SNS clients for a node, confirming webhook subscriptions, the product API, reading inboxes.</summary>
internal static class Notify
{
    /// <summary>The SNS port of a node.</summary>
    public static int SnsPort(this TestNode node) => node.PortOf("Notify:SnsPort");

    /// <summary>The SNS endpoint URL of a node.</summary>
    public static string SnsUrl(this TestNode node) => $"http://127.0.0.1:{node.SnsPort().ToString(CultureInfo.InvariantCulture)}";

    /// <summary>An AWS SDK client for a node's SNS API.</summary>
    public static AmazonSimpleNotificationServiceClient Sns(this TestNode node) => new(
        new BasicAWSCredentials("test", "test"),
        new AmazonSimpleNotificationServiceConfig { ServiceURL = node.SnsUrl(), AuthenticationRegion = "us-east-1", MaxErrorRetry = 0 });

    /// <summary>
    /// Subscribes a webhook and confirms it as a receiver would: waits for the SubscriptionConfirmation the receiver got
    /// and calls ConfirmSubscription with its token. Returns the subscription ARN.
    /// </summary>
    public static async Task<string> SubscribeWebhookAsync(
        AmazonSimpleNotificationServiceClient sns, string topicArn, WebhookReceiver receiver, string path, Dictionary<string, string>? attributes, CancellationToken cancellationToken)
    {
        var subscribed = await sns.SubscribeAsync(new SubscribeRequest { TopicArn = topicArn, Protocol = "http", Endpoint = receiver.Url(path), Attributes = attributes ?? [] }, cancellationToken);
        Assert.Equal("pending confirmation", subscribed.SubscriptionArn);
        var confirmation = (await Eventually.ValueAsync(
            () => Task.FromResult(receiver.Of(path).FirstOrDefault(request => request.Header("x-amz-sns-message-type") == "SubscriptionConfirmation")),
            found => found is not null,
            TimeSpan.FromSeconds(20),
            _ => $"a SubscriptionConfirmation at {path}",
            cancellationToken))!;
        using var body = JsonDocument.Parse(confirmation.Body);
        Assert.Equal("SubscriptionConfirmation", body.RootElement.GetProperty("Type").GetString());
        Assert.Contains("Action=ConfirmSubscription", body.RootElement.GetProperty("SubscribeURL").GetString(), StringComparison.Ordinal);
        var confirmed = await sns.ConfirmSubscriptionAsync(topicArn, body.RootElement.GetProperty("Token").GetString(), cancellationToken);
        return confirmed.SubscriptionArn;
    }

    /// <summary>PUTs a JSON body (a user, a template) and asserts it succeeded.</summary>
    public static async Task PutAsync(this TestNode node, string path, object body, CancellationToken cancellationToken)
    {
        using var response = await node.Http.PutAsJsonAsync(path, body, cancellationToken);
        Assert.True(response.IsSuccessStatusCode, $"PUT {path}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync(cancellationToken)}");
    }

    /// <summary>How many messages were accepted into <c>notify.accepted</c>, all partitions together.</summary>
    public static long AcceptedCount(this TestNode node)
    {
        var log = node.Node.Services.GetRequiredService<IEventLog>();
        return Enumerable.Range(0, log.PartitionCount(PipelineTopics.Accepted)).Sum(partition => log.Offsets(PipelineTopics.Accepted, partition).End);
    }

    /// <summary>Every message appended to an inbox so far, read once from <c>notify.inbox</c>.</summary>
    public static async Task<List<string>> InboxAsync(this TestNode node, string inbox, CancellationToken cancellationToken)
    {
        var log = node.Node.Services.GetRequiredService<IEventLog>();
        var found = new List<string>();
        for (var partition = 0; partition < log.PartitionCount(PipelineTopics.Inbox); partition++)
        {
            var entries = await log.ReadAsync(PipelineTopics.Inbox, partition, 0, 1000, TimeSpan.Zero, cancellationToken);
            found.AddRange(entries.Where(entry => Encoding.UTF8.GetString(entry.Key ?? []) == inbox).Select(entry => Encoding.UTF8.GetString(entry.Value ?? [])));
        }

        return found;
    }
}
