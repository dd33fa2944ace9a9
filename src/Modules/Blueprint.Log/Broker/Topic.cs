using Blueprint.Log.Storage;

namespace Blueprint.Log.Broker;

/// <summary>A topic: its name, id, configs and partitions.</summary>
public sealed class Topic
{
    internal Topic(string name, Guid id, IReadOnlyDictionary<string, string> configs, PartitionLogConfig storage)
    {
        Name = name;
        Id = id;
        Configs = configs;
        Storage = storage;
    }

    /// <summary>The name.</summary>
    public string Name { get; }

    /// <summary>The topic id (Kafka's topic UUID).</summary>
    public Guid Id { get; }

    /// <summary>The configs the topic was created with (not the defaults it inherits).</summary>
    public IReadOnlyDictionary<string, string> Configs { get; }

    /// <summary>The storage settings of its partitions.</summary>
    public PartitionLogConfig Storage { get; }

    /// <summary>The fewest in-sync replicas an <c>acks=all</c> produce needs (min.insync.replicas; default 1).</summary>
    public int MinInSyncReplicas => Configs.TryGetValue("min.insync.replicas", out var value)
        && int.TryParse(value, System.Globalization.NumberStyles.Integer, System.Globalization.CultureInfo.InvariantCulture, out var count) ? count : 1;

    /// <summary>Whether the topic is an internal one of the broker (its name starts with <c>__</c>).</summary>
    public bool IsInternal => Name.StartsWith("__", StringComparison.Ordinal);

    /// <summary>The partitions, by number.</summary>
    public IReadOnlyList<Partition> Partitions { get; internal set; } = [];
}
