using System.Collections.Concurrent;
using System.Text.Json;
using Blueprint.Log.Kafka;
using Blueprint.Log.Storage;
using Microsoft.Extensions.Logging;

namespace Blueprint.Log.Broker;

/// <summary>The outcome of creating a topic.</summary>
/// <param name="Error">None, or why it was refused.</param>
/// <param name="Message">A sentence for the client when refused.</param>
/// <param name="Topic">The topic (the existing one for <see cref="ErrorCode.TopicAlreadyExists"/>).</param>
public sealed record TopicCreation(ErrorCode Error, string? Message, Topic? Topic);

/// <summary>
/// The topics of this broker: created, listed and deleted here, their list kept in <c>topics.json</c> (written to a
/// temporary file, fsynced and renamed, so a crash leaves the old list or the new one), each partition a
/// <see cref="PartitionLog"/> in <c>&lt;topic&gt;-&lt;partition&gt;</c> as Kafka lays out its log directory.
/// </summary>
public sealed partial class TopicRegistry : IAsyncDisposable
{
    /// <summary>The longest topic name Kafka allows.</summary>
    public const int MaxNameLength = 249;

    private const string ListFile = "topics.json";
    private static readonly JsonSerializerOptions Json = new() { WriteIndented = true };

    private readonly string directory;
    private readonly LogOptions options;
    private readonly TimeProvider time;
    private readonly ILogger logger;
    private readonly ConcurrentDictionary<string, Topic> topics = new(StringComparer.Ordinal);
    private readonly SemaphoreSlim changes = new(1, 1);

    private TopicRegistry(string directory, LogOptions options, TimeProvider time, ILogger logger)
    {
        this.directory = directory;
        this.options = options;
        this.time = time;
        this.logger = logger;
    }

    /// <summary>Every topic.</summary>
    public IReadOnlyCollection<Topic> All => [.. topics.Values.OrderBy(topic => topic.Name, StringComparer.Ordinal)];

    /// <summary>Opens the topics kept in <paramref name="directory"/> (recovering each partition's log).</summary>
    public static async Task<TopicRegistry> OpenAsync(string directory, LogOptions options, TimeProvider time, ILogger logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        Directory.CreateDirectory(directory);
        var registry = new TopicRegistry(directory, options, time, logger);
        var path = Path.Combine(directory, ListFile);
        if (File.Exists(path))
        {
            var stored = JsonSerializer.Deserialize<List<StoredTopic>>(await File.ReadAllBytesAsync(path).ConfigureAwait(false), Json) ?? [];
            foreach (var entry in stored)
            {
                registry.topics[entry.Name] = registry.OpenTopic(entry);
            }
        }

        return registry;
    }

    /// <summary>The topic of that name, if it exists.</summary>
    public bool TryGet(string name, out Topic topic) => topics.TryGetValue(name, out topic!);

    /// <summary>Why a name cannot be a topic's (Kafka's rule), or null when it can.</summary>
    public static string? ValidateName(string? name)
    {
        if (string.IsNullOrEmpty(name))
        {
            return "topic name is empty";
        }

        if (name.Length > MaxNameLength)
        {
            return $"topic name is longer than {MaxNameLength} characters";
        }

        if (name is "." or "..")
        {
            return "topic name cannot be '.' or '..'";
        }

        return LegalName().IsMatch(name) ? null : $"topic name '{name}' has characters other than ASCII letters, digits, '.', '_' and '-'";
    }

    /// <summary>The topic, created with the broker's defaults when missing and auto-creation is on; null otherwise.</summary>
    public async Task<Topic?> GetOrAutoCreateAsync(string name, CancellationToken cancellationToken)
    {
        if (topics.TryGetValue(name, out var topic))
        {
            return topic;
        }

        if (!options.AutoCreateTopics || ValidateName(name) is not null)
        {
            return null;
        }

        var created = await CreateAsync(name, options.DefaultPartitions, 1, new Dictionary<string, string>(), validateOnly: false, cancellationToken).ConfigureAwait(false);
        return created.Topic;
    }

    /// <summary>Creates a topic (or, with <paramref name="validateOnly"/>, only checks that it could be).</summary>
    public async Task<TopicCreation> CreateAsync(
        string name, int partitions, short replicationFactor, IReadOnlyDictionary<string, string> configs, bool validateOnly, CancellationToken cancellationToken)
    {
        if (Refusal(name, ref partitions, replicationFactor, configs, maxReplicationFactor: 1) is { } refused)
        {
            return refused;
        }

        await changes.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (topics.TryGetValue(name, out var existing))
            {
                return new TopicCreation(ErrorCode.TopicAlreadyExists, $"topic '{name}' already exists", existing);
            }

            if (topics.Count >= options.MaxTopics)
            {
                return new TopicCreation(ErrorCode.InvalidRequest, $"this broker holds its maximum of {options.MaxTopics} topics (Log:MaxTopics)", null);
            }

            var entry = new StoredTopic(name, Guid.NewGuid(), partitions, new Dictionary<string, string>(configs, StringComparer.Ordinal));
            if (validateOnly)
            {
                return new TopicCreation(ErrorCode.None, null, null);
            }

            var topic = OpenTopic(entry);
            topics[name] = topic;
            await SaveAsync(cancellationToken).ConfigureAwait(false);
            LogCreated(logger, name, partitions);
            return new TopicCreation(ErrorCode.None, null, topic);
        }
        finally
        {
            changes.Release();
        }
    }

    /// <summary>
    /// Why a topic cannot be created as asked (name, partition count — -1 becomes the default —, replication factor up to
    /// <paramref name="maxReplicationFactor"/> or -1, configs), or null when it can.
    /// </summary>
    public TopicCreation? Refusal(string name, ref int partitions, short replicationFactor, IReadOnlyDictionary<string, string> configs, int maxReplicationFactor)
    {
        ArgumentNullException.ThrowIfNull(configs);
        if (ValidateName(name) is { } badName)
        {
            return new TopicCreation(ErrorCode.InvalidTopicException, badName, null);
        }

        if (partitions == -1)
        {
            partitions = options.DefaultPartitions;
        }

        if (partitions < 1 || partitions > options.MaxPartitionsPerTopic)
        {
            return new TopicCreation(ErrorCode.InvalidPartitions, $"partitions must be from 1 to {options.MaxPartitionsPerTopic}", null);
        }

        if (replicationFactor != -1 && (replicationFactor < 1 || replicationFactor > maxReplicationFactor))
        {
            return new TopicCreation(
                ErrorCode.InvalidReplicationFactor,
                maxReplicationFactor == 1 ? "replication factor must be 1: this broker runs alone" : $"replication factor must be from 1 to {maxReplicationFactor}",
                null);
        }

        if (TopicConfig.Validate(configs) is { } badConfig)
        {
            return new TopicCreation(ErrorCode.InvalidConfig, badConfig, null);
        }

        return topics.Count >= options.MaxTopics && !topics.ContainsKey(name)
            ? new TopicCreation(ErrorCode.InvalidRequest, $"this broker holds its maximum of {options.MaxTopics} topics (Log:MaxTopics)", null)
            : null;
    }

    /// <summary>
    /// Makes the local copy of a topic the cluster metadata holds: opens it when missing (with the metadata's id), or
    /// replaces a local topic of the same name but another id (deleted and created again while this broker was away).
    /// </summary>
    public async Task<Topic> EnsureAsync(string name, Guid id, int partitions, IReadOnlyDictionary<string, string> configs, CancellationToken cancellationToken)
    {
        if (topics.TryGetValue(name, out var existing) && existing.Id == id)
        {
            return existing;
        }

        if (existing is not null)
        {
            await DeleteAsync(name, cancellationToken).ConfigureAwait(false);
        }

        await changes.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (topics.TryGetValue(name, out var raced))
            {
                return raced;
            }

            var topic = OpenTopic(new StoredTopic(name, id, partitions, new Dictionary<string, string>(configs, StringComparer.Ordinal)));
            topics[name] = topic;
            await SaveAsync(cancellationToken).ConfigureAwait(false);
            LogCreated(logger, name, partitions);
            return topic;
        }
        finally
        {
            changes.Release();
        }
    }

    /// <summary>Deletes a topic and its data; false when there is none of that name.</summary>
    public async Task<bool> DeleteAsync(string name, CancellationToken cancellationToken)
    {
        await changes.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (!topics.TryRemove(name, out var topic))
            {
                return false;
            }

            await SaveAsync(cancellationToken).ConfigureAwait(false);
            foreach (var partition in topic.Partitions)
            {
                partition.Signal();
                await partition.Log.DisposeAsync().ConfigureAwait(false);
                Directory.Delete(PartitionDirectory(name, partition.Index), recursive: true);
            }

            LogDeleted(logger, name);
            return true;
        }
        finally
        {
            changes.Release();
        }
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        await changes.WaitAsync().ConfigureAwait(false);
        try
        {
            foreach (var topic in topics.Values)
            {
                foreach (var partition in topic.Partitions)
                {
                    partition.Signal();
                    await partition.Log.DisposeAsync().ConfigureAwait(false);
                }
            }

            topics.Clear();
        }
        finally
        {
            changes.Release();
        }
    }

    private Topic OpenTopic(StoredTopic entry)
    {
        var storage = TopicConfig.Apply(options.PartitionDefaults(), entry.Configs);
        var topic = new Topic(entry.Name, entry.Id, entry.Configs, storage);
        topic.Partitions = [.. Enumerable.Range(0, entry.Partitions).Select(index =>
            new Partition(topic, index, PartitionLog.Open(PartitionDirectory(entry.Name, index), storage, time), options.BrokerId, options.IsClustered))];
        return topic;
    }

    private string PartitionDirectory(string topic, int partition) => Path.Combine(directory, $"{topic}-{partition}");

    private async Task SaveAsync(CancellationToken cancellationToken)
    {
        var list = topics.Values
            .OrderBy(topic => topic.Name, StringComparer.Ordinal)
            .Select(topic => new StoredTopic(topic.Name, topic.Id, topic.Partitions.Count, new Dictionary<string, string>(topic.Configs, StringComparer.Ordinal)))
            .ToList();
        var path = Path.Combine(directory, ListFile);
        var temporary = path + ".tmp";
        await using (var file = new FileStream(temporary, FileMode.Create, FileAccess.Write, FileShare.None))
        {
            await JsonSerializer.SerializeAsync(file, list, Json, cancellationToken).ConfigureAwait(false);
            file.Flush(flushToDisk: true);
        }

        File.Move(temporary, path, overwrite: true);
    }

    [System.Text.RegularExpressions.GeneratedRegex("^[a-zA-Z0-9._-]+$")]
    private static partial System.Text.RegularExpressions.Regex LegalName();

    [LoggerMessage(Level = LogLevel.Information, Message = "created topic {Topic} with {Partitions} partitions")]
    private static partial void LogCreated(ILogger logger, string topic, int partitions);

    [LoggerMessage(Level = LogLevel.Information, Message = "deleted topic {Topic}")]
    private static partial void LogDeleted(ILogger logger, string topic);

    private sealed record StoredTopic(string Name, Guid Id, int Partitions, Dictionary<string, string> Configs);
}
