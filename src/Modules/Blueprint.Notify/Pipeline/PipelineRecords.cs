using System.Text.Json;
using Blueprint.Notify.Channels;

namespace Blueprint.Notify.Pipeline;

/// <summary>A published message as accepted into <c>notify.accepted</c>.</summary>
/// <param name="MessageId">Its id.</param>
/// <param name="TopicArn">Its topic.</param>
/// <param name="Subject">The subject, or null.</param>
/// <param name="Message">The message; with <see cref="MessageStructure"/> <c>json</c>, a JSON object of bodies by protocol.</param>
/// <param name="MessageStructure"><c>json</c> for a body per protocol, else null.</param>
/// <param name="Attributes">Message attributes.</param>
/// <param name="Timestamp">When it was accepted.</param>
public sealed record AcceptedMessage(
    string MessageId, string TopicArn, string? Subject, string Message, string? MessageStructure, Dictionary<string, AttributeValue> Attributes, DateTimeOffset Timestamp)
{
    /// <summary>The body a subscription of <paramref name="protocol"/> receives: its own entry of a json structure, else <c>default</c>.</summary>
    public string BodyFor(string protocol)
    {
        if (MessageStructure != "json")
        {
            return Message;
        }

        using var document = JsonDocument.Parse(Message);
        var root = document.RootElement;
        return root.TryGetProperty(protocol, out var own) && own.ValueKind == JsonValueKind.String ? own.GetString()!
            : root.GetProperty("default").GetString()!;
    }
}

/// <summary>One delivery to one subscription, as it moves through <c>notify.deliveries</c>, the retry topics and the dead letters.</summary>
/// <param name="DeliveryId">Its id: the message id and the subscription id.</param>
/// <param name="SubscriptionId">The subscription.</param>
/// <param name="Message">What to deliver.</param>
/// <param name="Attempt">The attempt this record is for (1 is the first).</param>
/// <param name="DueAt">When it may be attempted.</param>
/// <param name="Type">SNS's message type (<c>Notification</c> or <c>SubscriptionConfirmation</c>).</param>
/// <param name="LastReason">Why the previous attempt failed, or null.</param>
public sealed record DeliveryRecord(
    string DeliveryId, string SubscriptionId, AcceptedMessage Message, int Attempt, DateTimeOffset DueAt, string Type = Notification.NotificationType, string? LastReason = null);

/// <summary>A delivery that will not be retried any more, with why; kept until re-driven.</summary>
/// <param name="Delivery">The delivery (its last attempt).</param>
/// <param name="SubscriptionArn">Its subscription.</param>
/// <param name="Reason">Why it is here.</param>
/// <param name="At">When it got here.</param>
public sealed record DeadLetter(DeliveryRecord Delivery, string SubscriptionArn, string Reason, DateTimeOffset At);

/// <summary>One attempt, as the status API shows it.</summary>
/// <param name="MessageId">The message.</param>
/// <param name="SubscriptionArn">The subscription.</param>
/// <param name="Protocol">Its protocol.</param>
/// <param name="Attempt">Which attempt.</param>
/// <param name="Outcome"><c>Delivered</c>, <c>Failed</c>, <c>Rejected</c>, <c>DeadLettered</c>, <c>Dropped</c>, or <c>RateLimited</c> (not attempted: deferred by a rate limit).</param>
/// <param name="Detail">What happened.</param>
/// <param name="At">When.</param>
public sealed record AttemptRecord(string MessageId, string SubscriptionArn, string Protocol, int Attempt, string Outcome, string Detail, DateTimeOffset At);

/// <summary>The pipeline's log topics.</summary>
public static class PipelineTopics
{
    /// <summary>Published messages, durably accepted.</summary>
    public const string Accepted = "notify.accepted";

    /// <summary>Deliveries to make, one per subscription and message.</summary>
    public const string Deliveries = "notify.deliveries";

    /// <summary>Dead letters by delivery id (compacted: a re-drive removes one).</summary>
    public const string DeadLetters = "notify.dlq";

    /// <summary>Every attempt, for delivery status.</summary>
    public const string Attempts = "notify.attempts";

    /// <summary>Messages of the live inboxes, keyed by inbox.</summary>
    public const string Inbox = "notify.inbox";

    /// <summary>The retry topic of level <paramref name="level"/> (1 for the first retry): its records all wait the same time, so they are due in order.</summary>
    public static string Retry(int level) => $"notify.retry.{level.ToString(System.Globalization.CultureInfo.InvariantCulture)}";
}
