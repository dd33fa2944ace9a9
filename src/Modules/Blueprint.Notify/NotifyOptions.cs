using System.ComponentModel.DataAnnotations;
using System.Globalization;
using Blueprint.Notify.Limits;

namespace Blueprint.Notify;

/// <summary>Options of the notify module (configuration section <c>Notify</c>).</summary>
public sealed class NotifyOptions : IValidatableObject
{
    /// <summary>The configuration section.</summary>
    public const string Section = "Notify";

    /// <summary>The SNS-compatible API's port (AWS Query protocol over HTTP/1.1). <value>Default 9911.</value></summary>
    [Range(1, 65_535, ErrorMessage = "must be a port from 1 to 65535")]
    public int SnsPort { get; set; } = 9911;

    /// <summary>The embedded MQTT broker's port. <value>Default 1883, MQTT's.</value></summary>
    [Range(1, 65_535, ErrorMessage = "must be a port from 1 to 65535")]
    public int MqttPort { get; set; } = 1883;

    /// <summary>
    /// MQTT users as <c>name:password</c>, comma separated. Empty (the default) lets any client connect without a
    /// password; set, every client must present one of them.
    /// </summary>
    public string MqttUsers { get; set; } = "";

    /// <summary>The embedded SMTP sink's port (a development mailbox, as MailHog); 0 turns it off. <value>Default 2525.</value></summary>
    [Range(0, 65_535, ErrorMessage = "must be 0 (off) or a port from 1 to 65535")]
    public int SmtpPort { get; set; } = 2525;

    /// <summary>
    /// The SMTP relay email deliveries go to, as <c>host:port</c>. Empty (the default) sends them to the embedded
    /// sink, so mail can be read in its mailbox.
    /// </summary>
    public string SmtpRelay { get; set; } = "";

    /// <summary>The From address of email deliveries. <value>Default <c>notify@blueprint.local</c>.</value></summary>
    [EmailAddress(ErrorMessage = "must be an email address")]
    public string SmtpFrom { get; set; } = "notify@blueprint.local";

    /// <summary>The most messages the sink's mailbox keeps; the oldest go first. <value>1–100000; default 1000.</value></summary>
    [Range(1, 100_000, ErrorMessage = "must be from 1 to 100000")]
    public int MailboxLimit { get; set; } = 1000;

    /// <summary>The AWS region in ARNs. <value>Default <c>us-east-1</c>.</value></summary>
    [RegularExpression("^[a-z]{2}(-[a-z]+)+-[0-9]$", ErrorMessage = "must be a region name such as us-east-1")]
    public string Region { get; set; } = "us-east-1";

    /// <summary>The account id in ARNs. <value>Twelve digits; default 000000000000.</value></summary>
    [RegularExpression("^[0-9]{12}$", ErrorMessage = "must be twelve digits")]
    public string AccountId { get; set; } = "000000000000";

    /// <summary>The largest message body accepted by Publish, in bytes. <value>1–262144; default 262144 (SNS's).</value></summary>
    [Range(1, 262_144, ErrorMessage = "must be from 1 to 262144 bytes")]
    public int MaxMessageBytes { get; set; } = 262_144;

    /// <summary>
    /// The waits before each retry of a failed delivery, comma separated (<c>500ms</c>, <c>5s</c>, <c>2m</c>, <c>1h</c>).
    /// A delivery is attempted once plus once per entry, then goes to the dead letters. Each wait is shortened by a
    /// random jitter of up to <see cref="RetryJitterPercent"/>. <value>Default 1s,5s,30s,2m,10m,1h (7 attempts over about 73 minutes).</value>
    /// </summary>
    public string RetryDelays { get; set; } = "1s,5s,30s,2m,10m,1h";

    /// <summary>The largest jitter, as a percentage of each retry wait, taken off it. <value>0–50; default 20.</value></summary>
    [Range(0, 50, ErrorMessage = "must be from 0 to 50")]
    public int RetryJitterPercent { get; set; } = 20;

    /// <summary>How long a webhook receiver has to answer with 2xx. <value>1–120 seconds; default 15.</value></summary>
    [Range(1, 120, ErrorMessage = "must be from 1 to 120 seconds")]
    public int WebhookTimeoutSeconds { get; set; } = 15;

    /// <summary>
    /// A subscription whose deliveries have failed without one success for this long is disabled: its deliveries go to
    /// the dead letters until it is enabled again. <value>1–8760 hours; default 72.</value>
    /// </summary>
    [Range(1, 8760, ErrorMessage = "must be from 1 to 8760 hours")]
    public int DisableAfterHours { get; set; } = 72;

    /// <summary>Failures to one destination (host), with no success among them within a minute, that open its circuit. <value>2–1000; default 5.</value></summary>
    [Range(2, 1000, ErrorMessage = "must be from 2 to 1000")]
    public int BreakerFailures { get; set; } = 5;

    /// <summary>How long an open circuit stays open before one trial delivery. <value>1–3600 seconds; default 30.</value></summary>
    [Range(1, 3600, ErrorMessage = "must be from 1 to 3600 seconds")]
    public int BreakerOpenSeconds { get; set; } = 30;

    /// <summary>Deliveries in flight at once per stage. <value>1–1024; default 64.</value></summary>
    [Range(1, 1024, ErrorMessage = "must be from 1 to 1024")]
    public int Concurrency { get; set; } = 64;

    /// <summary>Partitions of the pipeline's log topics when created. <value>1–64; default 4.</value></summary>
    [Range(1, 64, ErrorMessage = "must be from 1 to 64")]
    public int Partitions { get; set; } = 4;

    /// <summary>
    /// How many sends (<c>POST /api/notify/send</c>) each user may get, as <c>count/window</c> such as <c>100/1m</c>; a send over
    /// it is refused with 429. Decided by the ratelimit module. <value>Default empty: no limit.</value>
    /// </summary>
    public string UserLimit { get; set; } = "";

    /// <summary>
    /// How many deliveries each channel may make in all, as <c>channel=count/window</c> pairs, comma separated, such as
    /// <c>email=10/1m,webhook=600/1m</c> (channels: webhook, email, mqtt, inbox, log). A delivery over it waits on the retry
    /// topics and is not counted as an attempt. Decided by the ratelimit module. <value>Default empty: no limit.</value>
    /// </summary>
    public string ChannelLimits { get; set; } = "";

    /// <summary>
    /// How many deliveries each user may get on each channel, as <see cref="ChannelLimits"/> (<c>email=5/1h</c>); it applies to
    /// deliveries of the product API's user topics. <value>Default empty: no limit.</value>
    /// </summary>
    public string UserChannelLimits { get; set; } = "";

    /// <summary>The retry waits, parsed.</summary>
    public IReadOnlyList<TimeSpan> RetrySchedule => ParseDelays(RetryDelays) ?? [];

    /// <summary>The per-user send limit, parsed; null when there is none.</summary>
    public NotifyLimit? UserSendLimit => NotifyLimit.Parse(UserLimit);

    /// <summary>The per-channel delivery limits, parsed, by channel.</summary>
    public IReadOnlyDictionary<string, NotifyLimit> ChannelDeliveryLimits => NotifyLimit.ParseByChannel(ChannelLimits) ?? new Dictionary<string, NotifyLimit>();

    /// <summary>The per-user, per-channel delivery limits, parsed, by channel.</summary>
    public IReadOnlyDictionary<string, NotifyLimit> UserChannelDeliveryLimits => NotifyLimit.ParseByChannel(UserChannelLimits) ?? new Dictionary<string, NotifyLimit>();

    /// <summary>The settings of the limits that are configured (non-empty), by property name.</summary>
    public IEnumerable<(string Name, string Value)> ConfiguredLimits()
    {
        foreach (var (name, value) in new[] { (nameof(UserLimit), UserLimit), (nameof(ChannelLimits), ChannelLimits), (nameof(UserChannelLimits), UserChannelLimits) })
        {
            if (!string.IsNullOrWhiteSpace(value))
            {
                yield return (name, value);
            }
        }
    }

    /// <inheritdoc />
    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (ParseDelays(RetryDelays) is null)
        {
            yield return new ValidationResult(
                "must be waits such as 1s,5s,30s (each a number with ms, s, m or h, from 10ms to 24h; at most 20)", [nameof(RetryDelays)]);
        }

        if (!string.IsNullOrEmpty(SmtpRelay) && ParseHostPort(SmtpRelay) is null)
        {
            yield return new ValidationResult("must be host:port", [nameof(SmtpRelay)]);
        }

        if (!string.IsNullOrWhiteSpace(UserLimit) && NotifyLimit.Parse(UserLimit) is null)
        {
            yield return new ValidationResult($"must be a limit such as 100/1m ({NotifyLimit.Shape})", [nameof(UserLimit)]);
        }

        foreach (var (name, value) in new[] { (nameof(ChannelLimits), ChannelLimits), (nameof(UserChannelLimits), UserChannelLimits) })
        {
            if (string.IsNullOrWhiteSpace(value))
            {
                continue;
            }

            if (NotifyLimit.ParseByChannel(value) is null)
            {
                yield return new ValidationResult(
                    $"must be channel=limit pairs such as email=10/1m,webhook=600/1m (channels: {string.Join(", ", NotifyLimit.Channels)}; each once; {NotifyLimit.Shape})", [name]);
            }
            else if (ParseDelays(RetryDelays) is [])
            {
                yield return new ValidationResult("needs at least one retry delay (Notify:RetryDelays): deliveries over a limit wait on the retry topics", [name]);
            }
        }

        foreach (var user in Users())
        {
            if (user.Name.Length == 0 || user.Password.Length == 0)
            {
                yield return new ValidationResult("must be name:password pairs, comma separated", [nameof(MqttUsers)]);
                break;
            }
        }
    }

    /// <summary>The MQTT users, parsed.</summary>
    public IEnumerable<(string Name, string Password)> Users() =>
        MqttUsers.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(pair => pair.Split(':', 2) is [var name, var password] ? (name, password) : (pair, ""));

    /// <summary>A <c>host:port</c> pair, or null when the text is not one.</summary>
    public static (string Host, int Port)? ParseHostPort(string text)
    {
        var colon = text.LastIndexOf(':');
        return colon > 0 && int.TryParse(text.AsSpan(colon + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var port) && port is > 0 and <= 65_535
            ? (text[..colon], port)
            : null;
    }

    /// <summary>Waits such as <c>500ms,5s,2m</c>, or null when the text is not that.</summary>
    public static IReadOnlyList<TimeSpan>? ParseDelays(string text)
    {
        var parts = text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (parts.Length > 20)
        {
            return null;
        }

        var delays = new List<TimeSpan>(parts.Length);
        foreach (var part in parts)
        {
            var (digits, unit) = part.EndsWith("ms", StringComparison.Ordinal) ? (part[..^2], 1.0)
                : part.EndsWith('s') ? (part[..^1], 1_000.0)
                : part.EndsWith('m') ? (part[..^1], 60_000.0)
                : part.EndsWith('h') ? (part[..^1], 3_600_000.0)
                : ("", 0.0);
            if (!int.TryParse(digits, NumberStyles.None, CultureInfo.InvariantCulture, out var count))
            {
                return null;
            }

            var delay = TimeSpan.FromMilliseconds(count * unit);
            if (delay < TimeSpan.FromMilliseconds(10) || delay > TimeSpan.FromHours(24))
            {
                return null;
            }

            delays.Add(delay);
        }

        return delays;
    }
}
