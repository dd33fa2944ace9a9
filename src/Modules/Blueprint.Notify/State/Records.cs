namespace Blueprint.Notify.State;

/// <summary>A topic.</summary>
/// <param name="Name">Its name (SNS's rules: 1–256 letters, digits, '-' and '_').</param>
/// <param name="Arn">Its ARN.</param>
/// <param name="Attributes">Settable attributes (DisplayName, Policy…), kept as given.</param>
/// <param name="Tags">Its tags.</param>
/// <param name="Created">When it was created.</param>
public sealed record TopicRecord(string Name, string Arn, Dictionary<string, string> Attributes, Dictionary<string, string> Tags, DateTimeOffset Created);

/// <summary>A subscription of an endpoint to a topic.</summary>
/// <param name="Id">The id, the last part of its ARN.</param>
/// <param name="Arn">Its ARN.</param>
/// <param name="TopicArn">Its topic.</param>
/// <param name="Protocol">Its protocol.</param>
/// <param name="Endpoint">Its endpoint.</param>
/// <param name="Attributes">FilterPolicy, FilterPolicyScope, RawMessageDelivery and the others SNS keeps.</param>
/// <param name="Token">The confirmation token while it waits for confirmation; null once confirmed.</param>
/// <param name="SigningSecret">The secret webhooks are signed with (<c>whsec_</c> and base64 of 32 random bytes).</param>
/// <param name="DisabledReason">Why deliveries are disabled, or null while enabled.</param>
/// <param name="Created">When it was made.</param>
public sealed record SubscriptionRecord(
    string Id,
    string Arn,
    string TopicArn,
    string Protocol,
    string Endpoint,
    Dictionary<string, string> Attributes,
    string? Token,
    string SigningSecret,
    string? DisabledReason,
    DateTimeOffset Created)
{
    /// <summary>Whether it is confirmed (only confirmed subscriptions receive notifications).</summary>
    public bool Confirmed => Token is null;

    /// <summary>Whether deliveries get the message alone rather than SNS's envelope.</summary>
    public bool RawMessageDelivery => Attributes.TryGetValue("RawMessageDelivery", out var raw) && string.Equals(raw, "true", StringComparison.OrdinalIgnoreCase);
}

/// <summary>The first answer to a publish with an <c>Idempotency-Key</c>.</summary>
/// <param name="Key">The key.</param>
/// <param name="MessageId">The message id that answer gave.</param>
/// <param name="At">When it was first answered; kept 24 hours.</param>
public sealed record IdempotencyRecord(string Key, string MessageId, DateTimeOffset At);
