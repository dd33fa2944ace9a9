using System.Collections.Immutable;

namespace Blueprint.Log.Cluster;

/// <summary>A broker as the cluster metadata knows it.</summary>
/// <param name="Id">The broker id (<c>Log:BrokerId</c>).</param>
/// <param name="Host">The host clients and followers connect to.</param>
/// <param name="Port">Its Kafka port.</param>
/// <param name="Fenced">Whether the controller fenced it (no heartbeat within the session timeout): it leads nothing and is out of every ISR.</param>
public sealed record BrokerRegistration(int Id, string Host, int Port, bool Fenced);

/// <summary>Who holds one partition: its replicas, its leader and the replicas in sync with it.</summary>
/// <param name="Replicas">The brokers assigned a replica, the preferred leader first.</param>
/// <param name="Leader">The leader's broker id, or -1 while no in-sync replica is alive (the partition is offline).</param>
/// <param name="LeaderEpoch">Grows by one at every leader change; a leader's change of the ISR must name the current epoch.</param>
/// <param name="Isr">The in-sync replicas, the leader among them: every record below the high watermark is on all of them.</param>
public sealed record PartitionAssignment(ImmutableArray<int> Replicas, int Leader, int LeaderEpoch, ImmutableArray<int> Isr);

/// <summary>A topic of the cluster.</summary>
/// <param name="Name">The name.</param>
/// <param name="Id">The topic id (Kafka's topic UUID).</param>
/// <param name="Configs">The configs it was created with.</param>
/// <param name="Partitions">Its partitions, by number.</param>
public sealed record TopicAssignment(string Name, Guid Id, ImmutableSortedDictionary<string, string> Configs, ImmutableArray<PartitionAssignment> Partitions);

/// <summary>A consumer group's committed offset of one partition, replicated so that a new coordinator has it.</summary>
/// <param name="Group">The group id.</param>
/// <param name="Topic">The topic.</param>
/// <param name="Partition">The partition.</param>
/// <param name="Offset">The next offset the group reads.</param>
/// <param name="LeaderEpoch">The leader epoch the client gave, or -1.</param>
/// <param name="Metadata">The client's metadata string.</param>
public sealed record GroupOffset(string Group, string Topic, int Partition, long Offset, int LeaderEpoch, string Metadata);

/// <summary>
/// The cluster's metadata at one point of the metadata log: brokers, topics and who leads what. Immutable, so the
/// request handlers read the latest image without locks while the Raft loop applies the next command.
/// </summary>
/// <param name="AppliedIndex">The metadata log index it reflects.</param>
/// <param name="Brokers">The registered brokers by id.</param>
/// <param name="Topics">The topics by name.</param>
/// <param name="Offsets">Committed group offsets by (group, topic, partition).</param>
public sealed record MetadataImage(
    long AppliedIndex,
    ImmutableSortedDictionary<int, BrokerRegistration> Brokers,
    ImmutableSortedDictionary<string, TopicAssignment> Topics,
    ImmutableDictionary<(string Group, string Topic, int Partition), GroupOffset> Offsets)
{
    /// <summary>The image before any command.</summary>
    public static MetadataImage Empty { get; } = new(
        0,
        ImmutableSortedDictionary<int, BrokerRegistration>.Empty,
        ImmutableSortedDictionary.Create<string, TopicAssignment>(StringComparer.Ordinal),
        ImmutableDictionary<(string Group, string Topic, int Partition), GroupOffset>.Empty);

    /// <summary>The brokers that are registered and not fenced, by id.</summary>
    public IEnumerable<BrokerRegistration> LiveBrokers => Brokers.Values.Where(broker => !broker.Fenced);
}
