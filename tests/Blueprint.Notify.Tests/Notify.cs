using System.Globalization;
using System.Text.Json;
using Amazon.Runtime;
using Amazon.SimpleNotificationService;
using Amazon.SimpleNotificationService.Model;

namespace Blueprint.Notify.Tests;

/// <summary>What the notify tests share: SNS clients for a node, confirming webhook subscriptions.</summary>
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
}
