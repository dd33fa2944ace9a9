using System.Globalization;
using System.Text.Json;
using Blueprint.Notify.Channels;
using Blueprint.Notify.Email;
using Microsoft.Extensions.DependencyInjection;

namespace Blueprint.Notify.Tests.Email;

public sealed class EmailChannelTests
{
    private const string TopicArn = "arn:aws:sns:us-east-1:000000000000:orders";

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Email_IsDeliveredToTheSink_WithAMessageIdDerivedFromTheNotification()
    {
        await using var node = await EmailTestKit.StartNodeAsync();
        var channel = ChannelOf(node);
        var messageId = Guid.NewGuid().ToString();

        var result = await channel.DeliverAsync(Request(messageId, "email", "reader@example.com", "Order 42 shipped"), Token);

        Assert.Equal(DeliveryOutcome.Delivered, result.Outcome);
        var listed = Assert.Single(await node.MailboxAsync(to: "reader@example.com"));
        Assert.Equal("Notification from orders", listed.Subject);
        Assert.Equal("notify@blueprint.local", listed.From);
        Assert.Contains(listed.Id, result.Detail, StringComparison.Ordinal);
        var mail = await node.MessageAsync(listed.Id);
        Assert.Equal("Order 42 shipped", mail.Text);
        Assert.Equal($"<{messageId}@blueprint.local>", mail.Header("Message-Id"));
        Assert.Equal(messageId, mail.Header(EmailChannel.MessageIdHeader));
    }

    [Fact]
    public async Task Retries_CarryTheSameMessageId_AndTheSubjectWhenGiven()
    {
        await using var node = await EmailTestKit.StartNodeAsync();
        var channel = ChannelOf(node);
        var messageId = Guid.NewGuid().ToString();

        for (var attempt = 1; attempt <= 2; attempt++)
        {
            var request = Request(messageId, "email", "reader@example.com", "again", subject: "Your order") with { Attempt = attempt };
            Assert.Equal(DeliveryOutcome.Delivered, (await channel.DeliverAsync(request, Token)).Outcome);
        }

        var listed = await node.MailboxAsync();
        Assert.Equal(["Your order", "Your order"], listed.Select(mail => mail.Subject));
        var ids = await Task.WhenAll(listed.Select(async mail => (await node.MessageAsync(mail.Id)).Header("Message-Id")));
        Assert.Equal([$"<{messageId}@blueprint.local>", $"<{messageId}@blueprint.local>"], ids);
    }

    [Fact]
    public async Task EmailJson_SendsTheSnsEnvelope()
    {
        await using var node = await EmailTestKit.StartNodeAsync();
        var messageId = Guid.NewGuid().ToString();

        var result = await ChannelOf(node).DeliverAsync(Request(messageId, "email-json", "machine@example.com", "{\"order\":42}"), Token);

        Assert.Equal(DeliveryOutcome.Delivered, result.Outcome);
        var mail = await node.MessageAsync(Assert.Single(await node.MailboxAsync()).Id);
        using var envelope = JsonDocument.Parse(mail.Text!);
        Assert.Equal("Notification", envelope.RootElement.GetProperty("Type").GetString());
        Assert.Equal(messageId, envelope.RootElement.GetProperty("MessageId").GetString());
        Assert.Equal(TopicArn, envelope.RootElement.GetProperty("TopicArn").GetString());
        Assert.Equal("{\"order\":42}", envelope.RootElement.GetProperty("Message").GetString());
    }

    [Fact]
    public async Task Relay_DeliversToTheOtherServer_NotToTheLocalSink()
    {
        await using var receiver = await EmailTestKit.StartNodeAsync();
        await using var sender = await EmailTestKit.StartNodeAsync(new()
        {
            ["Notify:SmtpRelay"] = $"127.0.0.1:{receiver.SmtpPort().ToString(CultureInfo.InvariantCulture)}",
        });

        var result = await ChannelOf(sender).DeliverAsync(Request(Guid.NewGuid().ToString(), "email", "far@example.com", "via the relay"), Token);

        Assert.Equal(DeliveryOutcome.Delivered, result.Outcome);
        Assert.Contains($":{receiver.SmtpPort().ToString(CultureInfo.InvariantCulture)}", result.Detail, StringComparison.Ordinal);
        var arrived = Assert.Single(await receiver.MailboxAsync());
        Assert.Equal(["far@example.com"], arrived.To);
        Assert.Empty(await sender.MailboxAsync());
    }

    [Theory]
    [InlineData(true, 550, DeliveryOutcome.Rejected, 0)] // RCPT TO refused for good
    [InlineData(false, 554, DeliveryOutcome.Rejected, 1)] // the message refused for good
    [InlineData(false, 451, DeliveryOutcome.Failed, 1)] // the message deferred: retried later
    public async Task RelayReply_MapsToTheOutcome(bool atRecipient, int code, DeliveryOutcome expected, int messagesOffered)
    {
        await using var relay = atRecipient ? await StubRelay.RefusingRecipientsAsync() : await StubRelay.AnsweringDataAsync(code);

        var result = await DeliverThroughRelayAsync(relay.Endpoint);

        Assert.Equal(expected, result.Outcome);
        Assert.Contains(code.ToString(CultureInfo.InvariantCulture), result.Detail, StringComparison.Ordinal);
        Assert.Equal(messagesOffered, relay.Messages);
    }

    [Fact]
    public async Task RelayPortWithNothingListening_Failed()
    {
        var result = await DeliverThroughRelayAsync($"127.0.0.1:{FreePorts.Next().ToString(CultureInfo.InvariantCulture)}");

        Assert.Equal(DeliveryOutcome.Failed, result.Outcome);
        Assert.Contains("cannot reach the relay", result.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task CheckEndpoint_WantsAnAddress_AndARelay()
    {
        await using var node = await EmailTestKit.StartNodeAsync();
        var channel = ChannelOf(node);

        Assert.Equal(["email", "email-json"], channel.Protocols);
        Assert.Null(channel.CheckEndpoint("email", "you@example.com"));
        Assert.Null(channel.CheckEndpoint("email-json", "You <you@example.com>"));
        foreach (var bad in new[] { "", "you", "you@", "@example.com", "not an address", "a@example.com, b@example.com" })
        {
            Assert.Contains("not an email address", channel.CheckEndpoint("email", bad), StringComparison.Ordinal);
        }

        Assert.Contains("not one of", channel.CheckEndpoint("sms", "you@example.com"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task SinkOffAndNoRelay_CheckEndpointSaysEmailNeedsARelay()
    {
        await using var node = await EmailTestKit.StartNodeAsync(new() { [EmailTestKit.SmtpPortKey] = "0" });
        var channel = ChannelOf(node);

        Assert.Contains("needs an SMTP relay", channel.CheckEndpoint("email", "you@example.com"), StringComparison.Ordinal);
        var result = await channel.DeliverAsync(Request(Guid.NewGuid().ToString(), "email", "you@example.com", "x"), Token);
        Assert.Equal(DeliveryOutcome.Rejected, result.Outcome);
        Assert.Empty(await node.MailboxAsync());
    }

    /// <summary>One delivery by a node whose relay is <paramref name="relay"/>; its own sink must stay empty.</summary>
    private static async Task<DeliveryResult> DeliverThroughRelayAsync(string relay)
    {
        await using var node = await EmailTestKit.StartNodeAsync(new() { ["Notify:SmtpRelay"] = relay });
        var result = await ChannelOf(node).DeliverAsync(Request(Guid.NewGuid().ToString(), "email", "someone@example.com", "x"), Token);
        Assert.Empty(await node.MailboxAsync());
        return result;
    }

    private static EmailChannel ChannelOf(TestNode node) =>
        node.Node.Services.GetServices<IDeliveryChannel>().OfType<EmailChannel>().Single();

    private static DeliveryRequest Request(string messageId, string protocol, string endpoint, string message, string? subject = null) => new(
        new Notification(messageId, TopicArn, subject, message, new Dictionary<string, AttributeValue>(), DateTimeOffset.UtcNow),
        new SubscriptionTarget($"{TopicArn}:{Guid.NewGuid()}", TopicArn, protocol, endpoint, RawMessageDelivery: false, SigningSecret: null),
        Attempt: 1);
}
