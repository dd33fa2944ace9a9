using System.Collections.Immutable;
using System.Text.Json;
using Blueprint.Core.Hashing;
using Blueprint.Hosting;
using Blueprint.Log.Broker;
using Blueprint.Log.Kafka;
using Blueprint.Raft.Hosting;

namespace Blueprint.Log.Cluster;

/// <summary>
/// The cluster metadata as a replicated state machine (what KRaft's controllers keep in their Raft log): brokers, topics,
/// partition replicas, leaders, leader epochs and ISRs. It runs on the Raft host's loop; each applied command publishes a
/// new immutable <see cref="MetadataImage"/> and wakes whoever waits in <see cref="ChangedAsync"/>.
/// </summary>
/// <remarks>
/// Leader election is KRaft's: when a broker is fenced, each partition it led gets the first other live member of its ISR
/// as leader (never a replica outside the ISR: no unclean election), and the epoch grows; with no such member the
/// partition is offline (leader -1) until a member of its last ISR registers again.
/// </remarks>
public sealed class MetadataStateMachine : IRaftStateMachine
{
    /// <summary>The most replicas a partition may have.</summary>
    public const int MaxReplicationFactor = 3;

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);
    private readonly ChangeSignal changed = new();
    private MetadataImage image = MetadataImage.Empty;

    /// <summary>The latest applied image.</summary>
    public MetadataImage Image => Volatile.Read(ref image);

    /// <summary>Completes at the next applied change (or restore) after the call.</summary>
    public Task ChangedAsync() => changed.Next;

    /// <inheritdoc />
    public byte[] Apply(long index, ReadOnlyMemory<byte> command)
    {
        MetadataResult result;
        MetadataImage next;
        var current = Image;
        try
        {
            (next, result) = Apply(current, MetadataCommand.Decode(command.Span));
        }
        catch (JsonException e)
        {
            (next, result) = (current, new MetadataResult(ErrorCode.InvalidRequest, $"unreadable metadata command: {e.Message}"));
        }

        Publish(next with { AppliedIndex = index });
        return result.Encode();
    }

    /// <inheritdoc />
    public byte[] TakeSnapshot()
    {
        var current = Image;
        return JsonSerializer.SerializeToUtf8Bytes(new Snapshot([.. current.Brokers.Values], [.. current.Topics.Values.Select(StoredTopic.From)], [.. current.Offsets.Values]), Json);
    }

    /// <inheritdoc />
    public void Restore(ReadOnlyMemory<byte> snapshot)
    {
        if (snapshot.IsEmpty)
        {
            Publish(MetadataImage.Empty);
            return;
        }

        var stored = JsonSerializer.Deserialize<Snapshot>(snapshot.Span, Json) ?? throw new InvalidDataException("the metadata snapshot is null");
        Publish(MetadataImage.Empty with
        {
            Brokers = stored.Brokers.ToImmutableSortedDictionary(broker => broker.Id, broker => broker),
            Topics = stored.Topics.Select(topic => topic.ToAssignment()).ToImmutableSortedDictionary(topic => topic.Name, topic => topic, StringComparer.Ordinal),
            Offsets = (stored.Offsets ?? []).ToImmutableDictionary(offset => (offset.Group, offset.Topic, offset.Partition), offset => offset),
        });
    }

    /// <summary>Applies one command to an image: the new image and the answer. Pure, so tests drive it directly.</summary>
    public static (MetadataImage Image, MetadataResult Result) Apply(MetadataImage image, MetadataCommand command)
    {
        ArgumentNullException.ThrowIfNull(image);
        return command switch
        {
            RegisterBroker register => Register(image, register),
            FenceBroker fence => Fence(image, fence.Id),
            CreateTopic create => Create(image, create),
            DeleteTopic delete => image.Topics.ContainsKey(delete.Name)
                ? (image with { Topics = image.Topics.Remove(delete.Name), Offsets = image.Offsets.RemoveRange(image.Offsets.Keys.Where(key => key.Topic == delete.Name)) }, MetadataResult.Ok)
                : (image, new MetadataResult(ErrorCode.UnknownTopicOrPartition, $"there is no topic '{delete.Name}'")),
            AlterPartition alter => Alter(image, alter),
            CommitOffsets commit => (image with { Offsets = image.Offsets.SetItems(commit.Offsets.Where(offset => offset.Group == commit.Group).Select(offset => KeyValuePair.Create((offset.Group, offset.Topic, offset.Partition), offset))) }, MetadataResult.Ok),
            _ => (image, new MetadataResult(ErrorCode.InvalidRequest, $"unknown metadata command {command?.GetType().Name}")),
        };
    }

    private static (MetadataImage, MetadataResult) Register(MetadataImage image, RegisterBroker register)
    {
        var brokers = image.Brokers.SetItem(register.Id, new BrokerRegistration(register.Id, register.Host, register.Port, Fenced: false));
        var topics = MapPartitions(image.Topics, partition =>
            partition.Leader == -1 && partition.Isr.Contains(register.Id)
                ? partition with { Leader = register.Id, LeaderEpoch = partition.LeaderEpoch + 1 }
                : partition);
        return (image with { Brokers = brokers, Topics = topics }, MetadataResult.Ok);
    }

    private static (MetadataImage, MetadataResult) Fence(MetadataImage image, int id)
    {
        if (!image.Brokers.TryGetValue(id, out var broker) || broker.Fenced)
        {
            return (image, MetadataResult.Ok);
        }

        var brokers = image.Brokers.SetItem(id, broker with { Fenced = true });
        var topics = MapPartitions(image.Topics, partition =>
        {
            if (!partition.Isr.Contains(id))
            {
                return partition;
            }

            // The last member of an ISR stays in it: it holds every acknowledged record, and only it may lead again.
            var isr = partition.Isr.Length > 1 ? partition.Isr.Remove(id) : partition.Isr;
            if (partition.Leader != id)
            {
                return partition with { Isr = isr };
            }

            var leader = isr.Where(candidate => candidate != id && brokers.TryGetValue(candidate, out var b) && !b.Fenced).DefaultIfEmpty(-1).First();
            return partition with { Leader = leader, LeaderEpoch = partition.LeaderEpoch + 1, Isr = isr };
        });
        return (image with { Brokers = brokers, Topics = topics }, MetadataResult.Ok);
    }

    private static (MetadataImage, MetadataResult) Create(MetadataImage image, CreateTopic create)
    {
        if (image.Topics.ContainsKey(create.Name))
        {
            return (image, new MetadataResult(ErrorCode.TopicAlreadyExists, $"topic '{create.Name}' already exists"));
        }

        var live = image.LiveBrokers.Select(broker => broker.Id).ToArray();
        var factor = create.ReplicationFactor == -1 ? Math.Min(MaxReplicationFactor, live.Length) : create.ReplicationFactor;
        if (factor < 1 || factor > MaxReplicationFactor)
        {
            return (image, new MetadataResult(ErrorCode.InvalidReplicationFactor, $"replication factor must be from 1 to {MaxReplicationFactor}"));
        }

        if (factor > live.Length)
        {
            return (image, new MetadataResult(ErrorCode.InvalidReplicationFactor, $"replication factor {factor} is more than the {live.Length} live brokers"));
        }

        // Round-robin from a start that depends on the name only, so leaders spread over the brokers topic by topic.
        var start = (int)(StableHash.Hash64(create.Name) % (ulong)live.Length);
        var partitions = Enumerable.Range(0, create.Partitions).Select(p =>
        {
            var replicas = Enumerable.Range(0, factor).Select(k => live[(start + p + k) % live.Length]).ToImmutableArray();
            return new PartitionAssignment(replicas, replicas[0], 0, replicas);
        }).ToImmutableArray();
        var topic = new TopicAssignment(create.Name, create.Id, create.Configs.ToImmutableSortedDictionary(StringComparer.Ordinal), partitions);
        return (image with { Topics = image.Topics.SetItem(create.Name, topic) }, MetadataResult.Ok);
    }

    private static (MetadataImage, MetadataResult) Alter(MetadataImage image, AlterPartition alter)
    {
        if (!image.Topics.TryGetValue(alter.Topic, out var topic) || alter.Partition < 0 || alter.Partition >= topic.Partitions.Length)
        {
            return (image, new MetadataResult(ErrorCode.UnknownTopicOrPartition, $"there is no partition {alter.Topic}-{alter.Partition}"));
        }

        var partition = topic.Partitions[alter.Partition];
        if (partition.Leader != alter.Leader || partition.LeaderEpoch != alter.LeaderEpoch)
        {
            return (image, new MetadataResult(ErrorCode.FencedLeaderEpoch, $"{alter.Topic}-{alter.Partition} is led by {partition.Leader} in epoch {partition.LeaderEpoch}, not by {alter.Leader} in {alter.LeaderEpoch}"));
        }

        var isr = alter.Isr.Distinct().Order().ToImmutableArray();
        if (!isr.Contains(alter.Leader) || isr.Any(replica => !partition.Replicas.Contains(replica)))
        {
            return (image, new MetadataResult(ErrorCode.InvalidRequest, "an ISR holds its leader and only the partition's replicas"));
        }

        if (isr.Any(replica => !partition.Isr.Contains(replica) && (!image.Brokers.TryGetValue(replica, out var broker) || broker.Fenced)))
        {
            return (image, new MetadataResult(ErrorCode.InvalidRequest, "a fenced broker cannot join an ISR"));
        }

        var partitions = topic.Partitions.SetItem(alter.Partition, partition with { Isr = isr });
        return (image with { Topics = image.Topics.SetItem(alter.Topic, topic with { Partitions = partitions }) }, MetadataResult.Ok);
    }

    private static ImmutableSortedDictionary<string, TopicAssignment> MapPartitions(ImmutableSortedDictionary<string, TopicAssignment> topics, Func<PartitionAssignment, PartitionAssignment> change)
    {
        var builder = topics.ToBuilder();
        foreach (var (name, topic) in topics)
        {
            var partitions = topic.Partitions.Select(change).ToImmutableArray();
            if (!partitions.SequenceEqual(topic.Partitions))
            {
                builder[name] = topic with { Partitions = partitions };
            }
        }

        return builder.ToImmutable();
    }

    private void Publish(MetadataImage next)
    {
        Volatile.Write(ref image, next);
        changed.Pulse();
    }

    private sealed record Snapshot(List<BrokerRegistration> Brokers, List<StoredTopic> Topics, List<GroupOffset>? Offsets);

    private sealed record StoredPartition(int[] Replicas, int Leader, int LeaderEpoch, int[] Isr);

    private sealed record StoredTopic(string Name, Guid Id, Dictionary<string, string> Configs, List<StoredPartition> Partitions)
    {
        public static StoredTopic From(TopicAssignment topic) => new(
            topic.Name,
            topic.Id,
            new Dictionary<string, string>(topic.Configs, StringComparer.Ordinal),
            [.. topic.Partitions.Select(p => new StoredPartition([.. p.Replicas], p.Leader, p.LeaderEpoch, [.. p.Isr]))]);

        public TopicAssignment ToAssignment() => new(
            Name,
            Id,
            Configs.ToImmutableSortedDictionary(StringComparer.Ordinal),
            [.. Partitions.Select(p => new PartitionAssignment([.. p.Replicas], p.Leader, p.LeaderEpoch, [.. p.Isr]))]);
    }
}
