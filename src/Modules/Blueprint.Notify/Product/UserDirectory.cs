using System.Text.Json;
using System.Text.RegularExpressions;
using Blueprint.Notify.Pipeline;
using Blueprint.Notify.State;

namespace Blueprint.Notify.Product;

/// <summary>
/// Users and their channels. Each user has a topic of their own (<c>user-{id}</c>) with one subscription per channel
/// address, so a send to a user is a publish to that topic and gets the pipeline's retries, dead letters and status.
/// Preferences become each subscription's filter policy on the <c>category</c> attribute; user channels need no
/// confirmation (registering the user is the consent).
/// </summary>
public sealed partial class UserDirectory(NotifyState state, NotifyPipeline pipeline)
{
    /// <summary>The user channels and the subscription protocol each maps to (a webhook's from its URL's scheme).</summary>
    public static readonly IReadOnlyList<string> ChannelNames = ["email", "inbox", "webhook", "mqtt"];

    private const string TopicPrefix = "user-";

    /// <summary>The topic name of a user.</summary>
    public static string TopicOf(string userId) => TopicPrefix + userId;

    /// <summary>The user whose topic <paramref name="topicName"/> is by its name, or null when it is not a user topic's name.</summary>
    public static string? UserOfTopic(string topicName) =>
        topicName?.StartsWith(TopicPrefix, StringComparison.Ordinal) == true ? topicName[TopicPrefix.Length..] : null;

    /// <summary>Whether an id is a valid user id.</summary>
    public static bool IsUserId(string id) => UserId().IsMatch(id);

    /// <summary>Checks a user; the reason it is refused, or null.</summary>
    public string? Check(UserRecord user)
    {
        ArgumentNullException.ThrowIfNull(user);
        if (!IsUserId(user.Id))
        {
            return "a user id is 1 to 120 letters, digits, '_' or '-'";
        }

        foreach (var (channel, address) in user.Channels)
        {
            if (!ChannelNames.Contains(channel))
            {
                return $"unknown channel '{channel}' (channels: {string.Join(", ", ChannelNames)})";
            }

            var protocol = ProtocolOf(channel, address);
            if (pipeline.ChannelOf(protocol) is not { } delivery)
            {
                return $"the {channel} channel is not available on this node";
            }

            if (delivery.CheckEndpoint(protocol, address) is { } refused)
            {
                return $"{channel}: {refused}";
            }
        }

        foreach (var (category, channels) in user.Preferences)
        {
            if (channels.FirstOrDefault(channel => !ChannelNames.Contains(channel)) is { } unknown)
            {
                return $"preferences for '{category}' name an unknown channel '{unknown}'";
            }
        }

        return QuietHoursRule.Check(user.QuietHours, user.TimeZone);
    }

    /// <summary>Stores a user and brings their topic's subscriptions in step with their channels and preferences.</summary>
    public async Task PutAsync(UserRecord user, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(user);
        await state.PutUserAsync(user, cancellationToken).ConfigureAwait(false);
        var topic = await state.CreateTopicAsync(TopicOf(user.Id), [], new() { ["blueprint:user"] = user.Id }, cancellationToken).ConfigureAwait(false);
        var wanted = user.Channels.ToDictionary(pair => (ProtocolOf(pair.Key, pair.Value), pair.Value), pair => pair.Key);
        foreach (var subscription in state.SubscriptionsOf(topic.Arn).ToList())
        {
            if (!wanted.ContainsKey((subscription.Protocol, subscription.Endpoint)))
            {
                await state.UnsubscribeAsync(subscription.Id, cancellationToken).ConfigureAwait(false);
            }
        }

        foreach (var ((protocol, endpoint), channel) in wanted)
        {
            var attributes = new Dictionary<string, string>(StringComparer.Ordinal) { ["RawMessageDelivery"] = channel is "inbox" or "mqtt" ? "true" : "false" };
            var off = user.Preferences.Where(pair => pair.Value.Contains(channel)).Select(pair => pair.Key).Order(StringComparer.Ordinal).ToList();
            if (off.Count > 0)
            {
                attributes["FilterPolicy"] = JsonSerializer.Serialize(new Dictionary<string, object> { ["category"] = new[] { new Dictionary<string, object> { ["anything-but"] = off } } });
            }

            var subscription = await state.SubscribeAsync(topic, protocol, endpoint, attributes, needsConfirmation: false, cancellationToken).ConfigureAwait(false);
            await state.UpdateSubscriptionAsync(subscription.Id, current => current with { Attributes = attributes }, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Deletes a user, their topic and its subscriptions; false when there was none.</summary>
    public async Task<bool> DeleteAsync(string id, CancellationToken cancellationToken)
    {
        if (state.FindUser(id) is null)
        {
            return false;
        }

        if (state.FindTopic(state.TopicArn(TopicOf(id))) is { } topic)
        {
            await state.DeleteTopicAsync(topic, cancellationToken).ConfigureAwait(false);
        }

        await state.DeleteUserAsync(id, cancellationToken).ConfigureAwait(false);
        return true;
    }

    /// <summary>The subscription protocol of a user channel.</summary>
    public static string ProtocolOf(string channel, string address) =>
        channel == "webhook" ? (address.StartsWith("https:", StringComparison.OrdinalIgnoreCase) ? "https" : "http") : channel;

    [GeneratedRegex("^[A-Za-z0-9_-]{1,120}$")]
    private static partial Regex UserId();
}
