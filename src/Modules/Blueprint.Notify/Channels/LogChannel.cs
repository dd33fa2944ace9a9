using System.Collections.Concurrent;
using System.Text;
using System.Text.RegularExpressions;
using Blueprint.Log;

namespace Blueprint.Notify.Channels;

/// <summary>
/// Delivery into a log topic (SNS→SQS fan-out, with the log as the queue): protocol <c>sqs</c> with a queue ARN
/// (<c>arn:aws:sqs:region:account:name</c>, the name being the topic) or <c>log</c> with a topic name. The record is
/// keyed by the message id and carries it in a <c>message-id</c> header; Kafka clients read it like any other.
/// </summary>
public sealed partial class LogChannel(IEventLog log) : IDeliveryChannel
{
    private readonly ConcurrentDictionary<string, bool> _ensured = new(StringComparer.Ordinal);

    /// <inheritdoc />
    public IReadOnlyList<string> Protocols { get; } = ["sqs", "log"];

    /// <inheritdoc />
    public string? CheckEndpoint(string protocol, string endpoint) =>
        TopicOf(protocol, endpoint) is null
            ? protocol == "sqs" ? "Invalid parameter: SQS endpoint ARN" : "Invalid parameter: Endpoint must be a log topic name (letters, digits, '.', '_', '-'; at most 249)"
            : null;

    /// <inheritdoc />
    public async ValueTask<DeliveryResult> DeliverAsync(DeliveryRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (request.Notification.Type != Notification.NotificationType)
        {
            return DeliveryResult.Delivered("log subscriptions need no confirmation");
        }

        var topic = TopicOf(request.Subscription.Protocol, request.Subscription.Endpoint)!;
        try
        {
            if (!_ensured.ContainsKey(topic))
            {
                await log.EnsureTopicAsync(topic, 1, cancellationToken: cancellationToken).ConfigureAwait(false);
                _ensured[topic] = true;
            }

            var position = await log.AppendAsync(
                topic,
                [new LogMessage(Encoding.UTF8.GetBytes(request.Notification.MessageId), SnsEnvelope.Body(request), [new("message-id", Encoding.UTF8.GetBytes(request.Notification.MessageId))])],
                cancellationToken: cancellationToken).ConfigureAwait(false);
            return DeliveryResult.Delivered($"appended to {topic} partition {position.Partition} offset {position.BaseOffset}");
        }
        catch (InvalidOperationException e)
        {
            return DeliveryResult.Failed(e.Message);
        }
        catch (ArgumentException e)
        {
            return DeliveryResult.Rejected(e.Message);
        }
    }

    private static string? TopicOf(string protocol, string endpoint)
    {
        var name = protocol == "sqs"
            ? endpoint.StartsWith("arn:aws:sqs:", StringComparison.Ordinal) && endpoint.Split(':') is { Length: 6 } parts ? parts[5] : null
            : endpoint;
        return name is not null && TopicName().IsMatch(name) ? name : null;
    }

    [GeneratedRegex("^[A-Za-z0-9._-]{1,249}$")]
    private static partial Regex TopicName();
}
