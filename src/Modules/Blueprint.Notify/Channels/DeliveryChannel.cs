namespace Blueprint.Notify.Channels;

/// <summary>
/// One way of delivering a notification (webhooks, email, MQTT, inboxes, the log): the pipeline picks the channel by the
/// subscription's protocol, calls it once per attempt and handles retries, dead letters and status itself.
/// A channel only says what one attempt did.
/// </summary>
public interface IDeliveryChannel
{
    /// <summary>The subscription protocols it serves, as SNS names them (<c>http</c>, <c>https</c>, <c>email</c>…).</summary>
    IReadOnlyList<string> Protocols { get; }

    /// <summary>Why an endpoint cannot be subscribed with <paramref name="protocol"/>, or null when it can.</summary>
    string? CheckEndpoint(string protocol, string endpoint);

    /// <summary>Makes one delivery attempt. Throws only when <paramref name="cancellationToken"/> is cancelled.</summary>
    ValueTask<DeliveryResult> DeliverAsync(DeliveryRequest request, CancellationToken cancellationToken);
}

/// <summary>A published notification, as every subscription of its topic receives it.</summary>
/// <param name="MessageId">Its id, stable across retries and redelivery: receivers de-duplicate by it.</param>
/// <param name="TopicArn">The topic it was published to.</param>
/// <param name="Subject">The subject (email subject line), or null.</param>
/// <param name="Message">The body for this subscription (for <c>MessageStructure=json</c>, the protocol's own entry).</param>
/// <param name="Attributes">The message attributes (filter policies match them).</param>
/// <param name="Timestamp">When it was accepted.</param>
/// <param name="Type">SNS's message type: <c>Notification</c>, or <c>SubscriptionConfirmation</c> for the message that asks a new subscriber to confirm.</param>
/// <param name="Token">The confirmation token of a <c>SubscriptionConfirmation</c>.</param>
/// <param name="SubscribeUrl">The URL that confirms, in a <c>SubscriptionConfirmation</c>.</param>
public sealed record Notification(
    string MessageId,
    string TopicArn,
    string? Subject,
    string Message,
    IReadOnlyDictionary<string, AttributeValue> Attributes,
    DateTimeOffset Timestamp,
    string Type = Notification.NotificationType,
    string? Token = null,
    string? SubscribeUrl = null)
{
    /// <summary>The type of a published message.</summary>
    public const string NotificationType = "Notification";

    /// <summary>The type of the message asking a new subscriber to confirm.</summary>
    public const string ConfirmationType = "SubscriptionConfirmation";
}

/// <summary>A message attribute: SNS's DataType (<c>String</c>, <c>Number</c>, <c>Binary</c>, <c>String.Array</c>) and value.</summary>
public sealed record AttributeValue(string DataType, string? StringValue, byte[]? BinaryValue = null);

/// <summary>What a channel needs of the subscription it delivers to.</summary>
/// <param name="Arn">The subscription's ARN.</param>
/// <param name="TopicArn">Its topic.</param>
/// <param name="Protocol">Its protocol.</param>
/// <param name="Endpoint">Its endpoint (URL, address, MQTT topic, inbox or log topic).</param>
/// <param name="RawMessageDelivery">Whether the body is the message alone rather than SNS's JSON envelope.</param>
/// <param name="SigningSecret">The webhook signing secret (<c>whsec_…</c>), or null for channels that do not sign.</param>
public sealed record SubscriptionTarget(string Arn, string TopicArn, string Protocol, string Endpoint, bool RawMessageDelivery, string? SigningSecret);

/// <summary>One delivery attempt.</summary>
/// <param name="Notification">What to deliver.</param>
/// <param name="Subscription">To whom.</param>
/// <param name="Attempt">1 for the first attempt, 2 for the first retry, and so on.</param>
public sealed record DeliveryRequest(Notification Notification, SubscriptionTarget Subscription, int Attempt);

/// <summary>What one attempt did.</summary>
public enum DeliveryOutcome
{
    /// <summary>The receiver took it (2xx, SMTP 250, broker accepted).</summary>
    Delivered,

    /// <summary>It failed and may succeed later: retried on the schedule.</summary>
    Failed,

    /// <summary>It failed and retrying cannot help, or the receiver asked for no retries: straight to the dead letters.</summary>
    Rejected,
}

/// <summary>The result of one attempt, with what happened in words (the status API and the dead letters show it).</summary>
public readonly record struct DeliveryResult(DeliveryOutcome Outcome, string Detail)
{
    /// <summary>Whether the receiver asked for the subscription to stop (a webhook's 410 Gone): it is disabled.</summary>
    public bool DisableSubscription { get; init; }

    /// <summary>Delivered.</summary>
    public static DeliveryResult Delivered(string detail) => new(DeliveryOutcome.Delivered, detail);

    /// <summary>Failed, to be retried.</summary>
    public static DeliveryResult Failed(string reason) => new(DeliveryOutcome.Failed, reason);

    /// <summary>Failed for good.</summary>
    public static DeliveryResult Rejected(string reason) => new(DeliveryOutcome.Rejected, reason);
}
