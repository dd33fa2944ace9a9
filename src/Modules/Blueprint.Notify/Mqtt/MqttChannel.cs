using System.Text;
using Blueprint.Notify.Channels;
using MQTTnet;
using MQTTnet.Protocol;

namespace Blueprint.Notify.Mqtt;

/// <summary>
/// Delivers notifications to subscriptions of protocol <c>mqtt</c>, whose endpoint is an MQTT topic name: one publish
/// through the embedded broker, QoS 1, not retained, the body as the payload (SNS's JSON envelope, or the message alone
/// for raw delivery) and MQTT 5 user properties <c>message-id</c> and <c>topic-arn</c>. Delivered means the broker has
/// queued it for every matching subscription (none is fine: MQTT has no receipt from subscribers).
/// </summary>
internal sealed class MqttChannel(MqttBroker broker) : IDeliveryChannel
{
    /// <summary>The subscription protocol.</summary>
    public const string Protocol = "mqtt";

    /// <summary>The longest topic name, in UTF-8 bytes (MQTT's length prefix is 16 bits).</summary>
    public const int TopicBytesMax = 65_535;

    /// <inheritdoc />
    public IReadOnlyList<string> Protocols { get; } = [Protocol];

    /// <inheritdoc />
    public string? CheckEndpoint(string protocol, string endpoint)
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        if (!string.Equals(protocol, Protocol, StringComparison.Ordinal))
        {
            return $"the MQTT channel does not serve protocol {protocol}";
        }

        if (endpoint.Length == 0)
        {
            return "an MQTT endpoint is a topic name and must not be empty";
        }

        if (endpoint.AsSpan().IndexOfAny('+', '#') >= 0)
        {
            return "an MQTT topic name must not contain the wildcards + or #";
        }

        if (endpoint[0] == '$')
        {
            return "MQTT topic names starting with $ are reserved to the broker";
        }

        if (endpoint.Contains('\0', StringComparison.Ordinal))
        {
            return "an MQTT topic name must not contain the null character";
        }

        var bytes = Encoding.UTF8.GetByteCount(endpoint);
        return bytes > TopicBytesMax ? $"an MQTT topic name is at most {TopicBytesMax} bytes in UTF-8; this one is {bytes}" : null;
    }

    /// <inheritdoc />
    public async ValueTask<DeliveryResult> DeliverAsync(DeliveryRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var subscription = request.Subscription;
        var message = new MqttApplicationMessageBuilder()
            .WithTopic(subscription.Endpoint)
            .WithPayload(SnsEnvelope.Body(request))
            .WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce)
            .WithRetainFlag(false)
            .WithPayloadFormatIndicator(MqttPayloadFormatIndicator.CharacterData)
            .WithContentType(subscription.RawMessageDelivery ? "text/plain; charset=utf-8" : "application/json")
            .WithUserProperty("message-id", Encoding.UTF8.GetBytes(request.Notification.MessageId).AsMemory())
            .WithUserProperty("topic-arn", Encoding.UTF8.GetBytes(request.Notification.TopicArn).AsMemory())
            .Build();
        return await broker.PublishAsync(message, cancellationToken).ConfigureAwait(false)
            ? DeliveryResult.Delivered($"published to MQTT topic {subscription.Endpoint}")
            : DeliveryResult.Failed("the MQTT broker is not running");
    }
}
