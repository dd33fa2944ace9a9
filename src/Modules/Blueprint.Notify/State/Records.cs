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

/// <summary>A user of the product API: where each channel reaches them, their data for templates, preferences and quiet hours.</summary>
/// <param name="Id">The id (1–128 letters, digits, '_', '-', '.', '@').</param>
/// <param name="Channels">Addresses by channel: <c>email</c>, <c>inbox</c>, <c>http</c>/<c>https</c> (a webhook URL), <c>mqtt</c> (a topic).</param>
/// <param name="Data">Values templates read as <c>user.*</c>.</param>
/// <param name="Preferences">Per category, the channels the user turned off (<c>{"billing": ["email"]}</c>).</param>
/// <param name="QuietHours">Quiet hours, or null: normal and low priority sends wait until they end.</param>
/// <param name="TimeZone">The IANA time zone of the quiet hours (default UTC).</param>
public sealed record UserRecord(
    string Id,
    Dictionary<string, string> Channels,
    Dictionary<string, string> Data,
    Dictionary<string, List<string>> Preferences,
    QuietHours? QuietHours,
    string TimeZone);

/// <summary>Quiet hours as local times of day, <c>HH:mm</c>; the span may cross midnight (22:00–07:00).</summary>
/// <param name="Start">When they begin.</param>
/// <param name="End">When they end.</param>
public sealed record QuietHours(string Start, string End);

/// <summary>A template: Liquid (Fluid) texts for the subject and for each channel's body.</summary>
/// <param name="Name">Its name.</param>
/// <param name="Subject">The subject (email subject line), or null.</param>
/// <param name="Bodies">The body per channel; <c>default</c> serves channels without their own.</param>
public sealed record TemplateRecord(string Name, string? Subject, Dictionary<string, string> Bodies);

/// <summary>A message accepted for later: published when due (a scheduled send, or one held by quiet hours).</summary>
/// <param name="Id">Its id (the message id it will be published with).</param>
/// <param name="DueAt">When it is published.</param>
/// <param name="Message">The message, as JSON of the pipeline's accepted record.</param>
public sealed record ScheduledRecord(string Id, DateTimeOffset DueAt, string Message);

/// <summary>A digest being collected: the sends of one category to one user within a window, sent as one message when it closes.</summary>
/// <param name="Key">The user and the category.</param>
/// <param name="User">The user.</param>
/// <param name="Category">The category.</param>
/// <param name="Template">The template the digest is rendered with (its <c>data.items</c> are the sends' data, <c>data.count</c> their number).</param>
/// <param name="Priority">The priority of the digest (the first send's).</param>
/// <param name="DueAt">When the window closes (set by the first send).</param>
/// <param name="Items">Each send's data, as JSON.</param>
public sealed record DigestRecord(string Key, string User, string Category, string Template, string Priority, DateTimeOffset DueAt, List<string> Items);
