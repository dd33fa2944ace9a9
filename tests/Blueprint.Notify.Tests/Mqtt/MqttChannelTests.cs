using System.Text.Json;
using Blueprint.Hosting;
using Blueprint.Notify.Channels;
using Blueprint.Notify.Mqtt;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Blueprint.Notify.Tests.Mqtt;

/// <summary>The MQTT delivery channel: endpoint checks, a delivery a foreign subscriber receives, and a broker that is down.</summary>
public sealed class MqttChannelTests
{
    private static readonly MqttChannel Channel = new(new MqttBroker(
        Options.Create(new NotifyOptions()), Options.Create(new NodeOptions()), new DataDirectory(Path.GetTempPath()), NullLoggerFactory.Instance));

    [Theory]
    [InlineData("alerts/orders")]
    [InlineData("a")]
    [InlineData("/leading/slash/")]
    [InlineData("ünïcode/topic")]
    public void CheckEndpoint_AcceptsTopicNames(string topic) => Assert.Null(Channel.CheckEndpoint("mqtt", topic));

    [Theory]
    [InlineData("", "empty")]
    [InlineData("alerts/+", "wildcards")]
    [InlineData("alerts/#", "wildcards")]
    [InlineData("$SYS/broker", "reserved")]
    [InlineData("a\0b", "null character")]
    public void CheckEndpoint_RefusesWhatIsNotATopicName(string topic, string reason) =>
        Assert.Contains(reason, Channel.CheckEndpoint("mqtt", topic), StringComparison.Ordinal);

    [Fact]
    public void CheckEndpoint_RefusesATopicNameOver65535Utf8Bytes()
    {
        Assert.Null(Channel.CheckEndpoint("mqtt", new string('a', 65_535)));
        Assert.Contains("at most 65535 bytes", Channel.CheckEndpoint("mqtt", new string('é', 32_768)), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Deliver_FailsWhileTheBrokerIsNotRunning()
    {
        var result = await Channel.DeliverAsync(Request("alerts/orders", raw: false), TestContext.Current.CancellationToken);

        Assert.Equal(DeliveryOutcome.Failed, result.Outcome);
        Assert.Contains("not running", result.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Deliver_PublishesTheEnvelope_WithTheMessageIdAsAUserProperty()
    {
        await using var node = await TestNode.StartAsync(cancellationToken: TestContext.Current.CancellationToken);
        var channel = node.Node.Services.GetServices<IDeliveryChannel>().Single(candidate => candidate.Protocols.Contains("mqtt"));
        await using var subscriber = await Mosquitto.SubscribeAsync(
            node.PortOf("Notify:MqttPort"), "-V", "mqttv5", "-q", "1", "-t", "alerts/#", "-F", "%t|%q|%r|%P|%p", "-C", "1");
        var request = Request("alerts/orders", raw: false);

        var result = await channel.DeliverAsync(request, TestContext.Current.CancellationToken);

        Assert.Equal(DeliveryOutcome.Delivered, result.Outcome);
        await subscriber.WaitForOutputLineAsync(line => line.StartsWith("alerts/orders|", StringComparison.Ordinal));
        var line = subscriber.StandardOutput.Split('\n').Single(line => line.StartsWith("alerts/orders|", StringComparison.Ordinal));
        var fields = line.Split('|', 5);
        Assert.Equal("1", fields[1]);
        Assert.Equal("0", fields[2]);
        Assert.Equal($"message-id:{request.Notification.MessageId} topic-arn:{request.Notification.TopicArn}", fields[3]);
        using var envelope = JsonDocument.Parse(fields[4]);
        Assert.Equal("Notification", envelope.RootElement.GetProperty("Type").GetString());
        Assert.Equal(request.Notification.MessageId, envelope.RootElement.GetProperty("MessageId").GetString());
        Assert.Equal("order 7 shipped", envelope.RootElement.GetProperty("Message").GetString());
    }

    [Fact]
    public async Task Deliver_Raw_PublishesTheMessageAlone()
    {
        await using var node = await TestNode.StartAsync(cancellationToken: TestContext.Current.CancellationToken);
        var channel = node.Node.Services.GetServices<IDeliveryChannel>().Single(candidate => candidate.Protocols.Contains("mqtt"));
        await using var subscriber = await Mosquitto.SubscribeAsync(node.PortOf("Notify:MqttPort"), "-q", "1", "-t", "alerts/raw", "-v", "-C", "1");

        var result = await channel.DeliverAsync(Request("alerts/raw", raw: true), TestContext.Current.CancellationToken);

        Assert.Equal(DeliveryOutcome.Delivered, result.Outcome);
        await subscriber.WaitForMessageAsync("alerts/raw", "order 7 shipped");
    }

    private static DeliveryRequest Request(string topic, bool raw)
    {
        const string topicArn = "arn:aws:sns:us-east-1:000000000000:orders";
        var notification = new Notification(
            Guid.NewGuid().ToString(), topicArn, "Order", "order 7 shipped", new Dictionary<string, AttributeValue>(), DateTimeOffset.UnixEpoch);
        var subscription = new SubscriptionTarget($"{topicArn}:{Guid.NewGuid()}", topicArn, "mqtt", topic, raw, SigningSecret: null);
        return new DeliveryRequest(notification, subscription, Attempt: 1);
    }
}
