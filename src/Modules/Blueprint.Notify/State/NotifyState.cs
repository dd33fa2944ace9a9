using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Blueprint.Log;
using Microsoft.Extensions.Options;

namespace Blueprint.Notify.State;

/// <summary>
/// Topics, subscriptions and idempotency keys: held in memory, made durable in a compacted log topic
/// (<c>__notify_state</c>, one partition) before any change is answered, and rebuilt from it at start. Changes are
/// serialized by one lock, so the log's order is the order they took effect.
/// </summary>
public sealed class NotifyState(IEventLog log, IOptions<NotifyOptions> options, TimeProvider time) : IDisposable
{
    /// <summary>The compacted log topic holding the state.</summary>
    public const string Topic = "__notify_state";

    /// <summary>The most sends one digest collects; a full digest is sent at once.</summary>
    public const int MaxDigestItems = 1000;

    /// <summary>How long an idempotency key's first answer is kept.</summary>
    public static readonly TimeSpan IdempotencyWindow = TimeSpan.FromHours(24);

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);
    private readonly SemaphoreSlim _writes = new(1, 1);
    private readonly ConcurrentDictionary<string, TopicRecord> _topics = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, SubscriptionRecord> _subscriptions = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, IdempotencyRecord> _idempotency = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, UserRecord> _users = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, TemplateRecord> _templates = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, ScheduledRecord> _scheduled = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, DigestRecord> _digests = new(StringComparer.Ordinal);

    /// <inheritdoc />
    public void Dispose() => _writes.Dispose();

    /// <summary>The options.</summary>
    public NotifyOptions Options => options.Value;

    /// <summary>The ARN of a topic name.</summary>
    public string TopicArn(string name) => $"arn:aws:sns:{Options.Region}:{Options.AccountId}:{name}";

    /// <summary>Loads the state from its log topic (creating the topic when missing).</summary>
    public async Task LoadAsync(CancellationToken cancellationToken)
    {
        await log.EnsureTopicAsync(Topic, 1, new Dictionary<string, string> { ["cleanup.policy"] = "compact" }, cancellationToken).ConfigureAwait(false);
        var (start, end) = log.Offsets(Topic, 0);
        for (var offset = start; offset < end;)
        {
            var entries = await log.ReadAsync(Topic, 0, offset, 1000, TimeSpan.Zero, cancellationToken).ConfigureAwait(false);
            if (entries.Count == 0)
            {
                break;
            }

            foreach (var entry in entries)
            {
                Apply(Encoding.UTF8.GetString(entry.Key ?? []), entry.Value);
                offset = entry.Offset + 1;
            }
        }

        var expired = time.GetUtcNow() - IdempotencyWindow;
        foreach (var (key, record) in _idempotency)
        {
            if (record.At < expired)
            {
                _idempotency.TryRemove(key, out _);
            }
        }
    }

    /// <summary>Every topic, by name.</summary>
    public IEnumerable<TopicRecord> Topics => _topics.Values.OrderBy(topic => topic.Name, StringComparer.Ordinal);

    /// <summary>Every subscription, in creation order.</summary>
    public IEnumerable<SubscriptionRecord> Subscriptions => _subscriptions.Values.OrderBy(subscription => subscription.Created).ThenBy(subscription => subscription.Id, StringComparer.Ordinal);

    /// <summary>The topic of an ARN, or null.</summary>
    public TopicRecord? FindTopic(string arn) => _topics.Values.FirstOrDefault(topic => topic.Arn == arn);

    /// <summary>The subscription of an ARN, or null.</summary>
    public SubscriptionRecord? FindSubscription(string arn) => _subscriptions.TryGetValue(IdOf(arn), out var found) && found.Arn == arn ? found : null;

    /// <summary>The subscription with an id, or null.</summary>
    public SubscriptionRecord? SubscriptionById(string id) => _subscriptions.GetValueOrDefault(id);

    /// <summary>The subscriptions of a topic.</summary>
    public IEnumerable<SubscriptionRecord> SubscriptionsOf(string topicArn) => Subscriptions.Where(subscription => subscription.TopicArn == topicArn);

    /// <summary>The first answer given to an idempotency key within the window, or null.</summary>
    public IdempotencyRecord? FindIdempotent(string key) =>
        _idempotency.TryGetValue(key, out var found) && found.At > time.GetUtcNow() - IdempotencyWindow ? found : null;

    /// <summary>Creates a topic, or returns the existing one of that name (as SNS does).</summary>
    public async Task<TopicRecord> CreateTopicAsync(string name, Dictionary<string, string> attributes, Dictionary<string, string> tags, CancellationToken cancellationToken)
    {
        await _writes.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (_topics.TryGetValue(name, out var existing))
            {
                return existing;
            }

            var topic = new TopicRecord(name, TopicArn(name), attributes, tags, time.GetUtcNow());
            await WriteAsync("t/" + name, topic, cancellationToken).ConfigureAwait(false);
            return topic;
        }
        finally
        {
            _writes.Release();
        }
    }

    /// <summary>Sets a topic's attribute.</summary>
    public async Task SetTopicAttributeAsync(TopicRecord topic, string name, string value, CancellationToken cancellationToken)
    {
        await _writes.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var attributes = new Dictionary<string, string>(topic.Attributes, StringComparer.Ordinal) { [name] = value };
            await WriteAsync("t/" + topic.Name, topic with { Attributes = attributes }, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _writes.Release();
        }
    }

    /// <summary>Deletes a topic and its subscriptions; nothing when there is none.</summary>
    public async Task DeleteTopicAsync(TopicRecord topic, CancellationToken cancellationToken)
    {
        await _writes.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            foreach (var subscription in SubscriptionsOf(topic.Arn).ToList())
            {
                await WriteAsync<SubscriptionRecord>("s/" + subscription.Id, null, cancellationToken).ConfigureAwait(false);
            }

            await WriteAsync<TopicRecord>("t/" + topic.Name, null, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _writes.Release();
        }
    }

    /// <summary>
    /// Subscribes an endpoint, or returns the existing subscription of the same topic, protocol and endpoint (as SNS
    /// does). <paramref name="needsConfirmation"/> leaves it pending with a token until confirmed.
    /// </summary>
    public async Task<SubscriptionRecord> SubscribeAsync(
        TopicRecord topic, string protocol, string endpoint, Dictionary<string, string> attributes, bool needsConfirmation, CancellationToken cancellationToken)
    {
        await _writes.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (SubscriptionsOf(topic.Arn).FirstOrDefault(found => found.Protocol == protocol && found.Endpoint == endpoint) is { } existing)
            {
                return existing;
            }

            var id = Guid.NewGuid().ToString("D");
            var subscription = new SubscriptionRecord(
                id,
                $"{topic.Arn}:{id}",
                topic.Arn,
                protocol,
                endpoint,
                attributes,
                needsConfirmation ? Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(32)) : null,
                "whsec_" + Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)),
                null,
                time.GetUtcNow());
            await WriteAsync("s/" + id, subscription, cancellationToken).ConfigureAwait(false);
            return subscription;
        }
        finally
        {
            _writes.Release();
        }
    }

    /// <summary>Replaces a subscription (attributes, confirmation, disabling), unless it was deleted meanwhile.</summary>
    public async Task<SubscriptionRecord?> UpdateSubscriptionAsync(string id, Func<SubscriptionRecord, SubscriptionRecord> change, CancellationToken cancellationToken)
    {
        await _writes.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (!_subscriptions.TryGetValue(id, out var current))
            {
                return null;
            }

            var changed = change(current);
            if (!ReferenceEquals(changed, current))
            {
                await WriteAsync("s/" + id, changed, cancellationToken).ConfigureAwait(false);
            }

            return changed;
        }
        finally
        {
            _writes.Release();
        }
    }

    /// <summary>Deletes a subscription; false when there was none.</summary>
    public async Task<bool> UnsubscribeAsync(string id, CancellationToken cancellationToken)
    {
        await _writes.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (!_subscriptions.ContainsKey(id))
            {
                return false;
            }

            await WriteAsync<SubscriptionRecord>("s/" + id, null, cancellationToken).ConfigureAwait(false);
            return true;
        }
        finally
        {
            _writes.Release();
        }
    }

    /// <summary>Records the first answer to an idempotency key.</summary>
    public Task RememberAsync(IdempotencyRecord record, CancellationToken cancellationToken) => PutAsync("i/", record?.Key, record, cancellationToken);

    /// <summary>A user, or null.</summary>
    public UserRecord? FindUser(string id) => _users.GetValueOrDefault(id);

    /// <summary>A template, or null.</summary>
    public TemplateRecord? FindTemplate(string name) => _templates.GetValueOrDefault(name);

    /// <summary>Every message waiting to be published.</summary>
    public IReadOnlyList<ScheduledRecord> Scheduled => [.. _scheduled.Values.OrderBy(record => record.DueAt)];

    /// <summary>Stores a user (the caller keeps the user's subscriptions in step).</summary>
    public Task PutUserAsync(UserRecord user, CancellationToken cancellationToken) => PutAsync("u/", user?.Id, user, cancellationToken);

    /// <summary>Deletes a user.</summary>
    public Task DeleteUserAsync(string id, CancellationToken cancellationToken) => PutAsync<UserRecord>("u/", id, null, cancellationToken);

    /// <summary>Stores a template.</summary>
    public Task PutTemplateAsync(TemplateRecord template, CancellationToken cancellationToken) => PutAsync("m/", template?.Name, template, cancellationToken);

    /// <summary>Deletes a template.</summary>
    public Task DeleteTemplateAsync(string name, CancellationToken cancellationToken) => PutAsync<TemplateRecord>("m/", name, null, cancellationToken);

    /// <summary>Stores messages to publish later.</summary>
    public async Task ScheduleAsync(IReadOnlyList<ScheduledRecord> records, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(records);
        foreach (var record in records)
        {
            await PutAsync("d/", record.Id, record, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Every digest being collected, soonest first.</summary>
    public IReadOnlyList<DigestRecord> Digests => [.. _digests.Values.OrderBy(record => record.DueAt)];

    /// <summary>Adds one send's data to the digest of its user and category, opening the digest (due after <paramref name="window"/>) when none is open.</summary>
    public async Task<DigestRecord> AddToDigestAsync(string user, string category, string template, string priority, string item, TimeSpan window, CancellationToken cancellationToken)
    {
        var key = $"{user}/{category}";
        await _writes.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var digest = _digests.TryGetValue(key, out var open)
                ? open with { Items = [.. open.Items, item] }
                : new DigestRecord(key, user, category, template, priority, time.GetUtcNow() + window, [item]);
            if (digest.Items.Count >= MaxDigestItems)
            {
                // A full digest closes now rather than grow without bound.
                digest = digest with { DueAt = time.GetUtcNow() };
            }

            await WriteAsync("g/" + key, digest, cancellationToken).ConfigureAwait(false);
            return digest;
        }
        finally
        {
            _writes.Release();
        }
    }

    /// <summary>Closes a digest once it is published.</summary>
    public Task CloseDigestAsync(string key, CancellationToken cancellationToken) => PutAsync<DigestRecord>("g/", key, null, cancellationToken);

    /// <summary>Forgets a scheduled message once it is published.</summary>
    public Task UnscheduleAsync(string id, CancellationToken cancellationToken) => PutAsync<ScheduledRecord>("d/", id, null, cancellationToken);

    private async Task PutAsync<T>(string prefix, string? id, T? value, CancellationToken cancellationToken)
        where T : class
    {
        ArgumentNullException.ThrowIfNull(id);
        await _writes.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await WriteAsync(prefix + id, value, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _writes.Release();
        }
    }

    /// <summary>The id part of a subscription ARN.</summary>
    public static string IdOf(string subscriptionArn) => subscriptionArn[(subscriptionArn.LastIndexOf(':') + 1)..];

    private async Task WriteAsync<T>(string key, T? value, CancellationToken cancellationToken)
        where T : class
    {
        var bytes = value is null ? null : JsonSerializer.SerializeToUtf8Bytes(value, Json);
        await log.AppendAsync(Topic, [new LogMessage(Encoding.UTF8.GetBytes(key), bytes)], 0, cancellationToken).ConfigureAwait(false);
        Apply(key, bytes);
    }

    private static void Set<T>(ConcurrentDictionary<string, T> map, string key, byte[]? value)
    {
        // A tombstone reads back from the log as no value or an empty one; a JSON record is never empty.
        if (value is null or { Length: 0 })
        {
            map.TryRemove(key, out _);
        }
        else
        {
            map[key] = JsonSerializer.Deserialize<T>(value, Json)!;
        }
    }

    private void Apply(string key, byte[]? value)
    {
        var name = key[2..];
        switch (key[0])
        {
            case 't':
                Set(_topics, name, value);
                break;
            case 's':
                Set(_subscriptions, name, value);
                break;
            case 'i':
                Set(_idempotency, name, value);
                break;
            case 'u':
                Set(_users, name, value);
                break;
            case 'm':
                Set(_templates, name, value);
                break;
            case 'd':
                Set(_scheduled, name, value);
                break;
            case 'g':
                Set(_digests, name, value);
                break;
            default:
                break;
        }
    }
}
