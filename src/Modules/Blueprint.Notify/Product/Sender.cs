using System.Text.Json;
using Blueprint.Notify.Channels;
using Blueprint.Notify.Limits;
using Blueprint.Notify.Pipeline;
using Blueprint.Notify.State;

namespace Blueprint.Notify.Product;

/// <summary>
/// Sends a template to users: renders the subject and each channel's body per user, then publishes one message per user
/// to the user's topic (a body per protocol, with <c>category</c> and <c>priority</c> attributes the preferences filter
/// on) — now, or when due: at <c>sendAt</c>, and for normal and low priority not before the user's quiet hours end. Each
/// user named counts one send against the per-user send limit, when there is one.
/// </summary>
public sealed class Sender(NotifyState state, Publisher publisher, Scheduler scheduler, NotifyRateLimiter limiter, TimeProvider time)
{
    /// <summary>The priorities: <c>high</c> ignores quiet hours; <c>normal</c> and <c>low</c> wait for them to end.</summary>
    public static readonly IReadOnlyList<string> Priorities = ["high", "normal", "low"];

    /// <summary>The most users one send may name.</summary>
    public const int MaxUsers = 1000;

    /// <summary>The largest data of one send into a digest, in characters of JSON.</summary>
    public const int MaxDigestItemChars = 16 * 1024;

    /// <summary>
    /// Publishes the digests whose window has closed: each user's template rendered with <c>data.items</c> (every send's
    /// data) and <c>data.count</c>, held by quiet hours as any send. A digest too long for one message is split in halves.
    /// </summary>
    public async Task FlushDigestsAsync(CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        foreach (var digest in state.Digests.TakeWhile(record => record.DueAt <= now).ToList())
        {
            if (state.FindUser(digest.User) is { } user && state.FindTemplate(digest.Template) is { } template)
            {
                await PublishDigestAsync(user, template, digest, digest.Items, now, cancellationToken).ConfigureAwait(false);
            }

            await state.CloseDigestAsync(digest.Key, cancellationToken).ConfigureAwait(false);
        }
    }

    private async Task PublishDigestAsync(UserRecord user, TemplateRecord template, DigestRecord digest, List<string> items, DateTimeOffset now, CancellationToken cancellationToken)
    {
        AcceptedMessage message;
        try
        {
            using var data = JsonDocument.Parse($"{{\"count\": {items.Count.ToString(System.Globalization.CultureInfo.InvariantCulture)}, \"items\": [{string.Join(',', items)}]}}");
            message = Compose(user, template, digest.Category, digest.Priority, data.RootElement);
        }
        catch (SendException) when (items.Count > 1)
        {
            await PublishDigestAsync(user, template, digest, items[..(items.Count / 2)], now, cancellationToken).ConfigureAwait(false);
            await PublishDigestAsync(user, template, digest, items[(items.Count / 2)..], now, cancellationToken).ConfigureAwait(false);
            return;
        }

        var due = digest.Priority == "high" ? now : QuietHoursRule.Release(now, user.QuietHours, user.TimeZone);
        if (due > now)
        {
            await scheduler.ScheduleAsync([(message, due)], cancellationToken).ConfigureAwait(false);
        }
        else
        {
            await publisher.AcceptAsync([message], cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>What became of one user's message.</summary>
    /// <param name="User">The user.</param>
    /// <param name="MessageId">The message id.</param>
    /// <param name="DueAt">When it is published, when later than now.</param>
    public sealed record Sent(string User, string MessageId, DateTimeOffset? DueAt);

    /// <summary>A send that cannot be made, with why.</summary>
    public sealed class SendException(int status, string message) : Exception(message)
    {
        /// <summary>The HTTP status to answer.</summary>
        public int Status { get; } = status;

        /// <summary>For a send over a limit, how long to wait before sending again.</summary>
        public TimeSpan? RetryAfter { get; init; }
    }

    /// <summary>
    /// Renders, checks and accepts (or schedules) one message per user; nothing is accepted when any user's message is refused,
    /// or when any user is over the send limit (429, with how long to wait).
    /// </summary>
    public async Task<IReadOnlyList<Sent>> SendAsync(
        IReadOnlyList<string> users, string templateName, string category, string priority, JsonElement data, DateTimeOffset? sendAt, TimeSpan? digest, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(users);
        if (users.Count is 0 or > MaxUsers)
        {
            throw new SendException(400, $"name 1 to {MaxUsers} users");
        }

        if (!Priorities.Contains(priority))
        {
            throw new SendException(400, $"priority must be one of {string.Join(", ", Priorities)}");
        }

        var unknown = users.Where(id => state.FindUser(id) is null).ToList();
        if (unknown.Count > 0)
        {
            throw new SendException(400, $"unknown users: {string.Join(", ", unknown)}");
        }

        var template = state.FindTemplate(templateName) ?? throw new SendException(404, $"there is no template '{templateName}'");
        var now = time.GetUtcNow();
        if (digest is { } window)
        {
            var item = data.ValueKind == JsonValueKind.Undefined ? "{}" : data.GetRawText();
            if (item.Length > MaxDigestItemChars)
            {
                throw new SendException(400, $"a digested send's data is at most {MaxDigestItemChars} characters of JSON");
            }

            await LimitAsync(users, cancellationToken).ConfigureAwait(false);
            var collected = new List<Sent>();
            foreach (var id in users.Distinct(StringComparer.Ordinal))
            {
                var open = await state.AddToDigestAsync(id, category, templateName, priority, item, window, cancellationToken).ConfigureAwait(false);
                collected.Add(new Sent(id, "", open.DueAt));
            }

            return collected;
        }

        var messages = new List<(string User, AcceptedMessage Message, DateTimeOffset Due)>();
        foreach (var id in users.Distinct(StringComparer.Ordinal))
        {
            var user = state.FindUser(id)!;
            var message = Compose(user, template, category, priority, data);
            var due = sendAt is { } at && at > now ? at : now;
            if (priority != "high")
            {
                due = QuietHoursRule.Release(due, user.QuietHours, user.TimeZone);
            }

            messages.Add((id, message, due));
        }

        await LimitAsync(users, cancellationToken).ConfigureAwait(false);
        var immediate = messages.Where(pair => pair.Due <= now).Select(pair => pair.Message).ToList();
        if (immediate.Count > 0)
        {
            await publisher.AcceptAsync(immediate, cancellationToken).ConfigureAwait(false);
        }

        var later = messages.Where(pair => pair.Due > now).ToList();
        await scheduler.ScheduleAsync([.. later.Select(pair => (pair.Message, pair.Due))], cancellationToken).ConfigureAwait(false);
        return [.. messages.Select(pair => new Sent(pair.User, pair.Message.MessageId, pair.Due > now ? pair.Due : null))];
    }

    // Counted once the send is otherwise valid: a refused send of another kind takes nothing from the limit.
    private async Task LimitAsync(IReadOnlyList<string> users, CancellationToken cancellationToken)
    {
        var verdict = await limiter.CheckSendAsync(users.Distinct(StringComparer.Ordinal), cancellationToken).ConfigureAwait(false);
        if (!verdict.Allowed)
        {
            throw new SendException(429, verdict.Reason) { RetryAfter = verdict.RetryAfter };
        }
    }

    /// <summary>
    /// The message of one user: the subject and each channel's body rendered for them, as a body per protocol, with the
    /// category, priority and user as attributes. Throws <see cref="SendException"/> when it is refused (too long).
    /// </summary>
    public AcceptedMessage Compose(UserRecord user, TemplateRecord template, string category, string priority, JsonElement data)
    {
        ArgumentNullException.ThrowIfNull(user);
        ArgumentNullException.ThrowIfNull(template);
        var bodies = new Dictionary<string, string>(StringComparer.Ordinal);
        string Body(string channel) => Templates.Render(template.Bodies.GetValueOrDefault(channel) ?? template.Bodies.GetValueOrDefault("default") ?? template.Bodies.Values.First(), user, data);
        bodies["default"] = Body("default");
        bodies["email"] = Body("email");
        bodies["inbox"] = Body("inbox");
        bodies["mqtt"] = Body("mqtt");
        bodies["http"] = bodies["https"] = Body("webhook");
        var subject = template.Subject is { } text ? Templates.Render(text, user, data).Trim() : null;
        var attributes = new Dictionary<string, AttributeValue>(StringComparer.Ordinal)
        {
            ["category"] = new("String", category),
            ["priority"] = new("String", priority),
            ["user"] = new("String", user.Id),
        };
        var message = publisher.Create(state.TopicArn(UserDirectory.TopicOf(user.Id)), JsonSerializer.Serialize(bodies), subject is { Length: > 0 } ? subject : null, "json", attributes);
        if (publisher.Check(message.Message, message.Subject, "json", attributes) is { } refused)
        {
            throw new SendException(400, $"the message for {user.Id} is refused: {refused}");
        }

        return message;
    }
}
