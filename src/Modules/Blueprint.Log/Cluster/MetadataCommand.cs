using System.Text.Json;
using System.Text.Json.Serialization;
using Blueprint.Log.Kafka;

namespace Blueprint.Log.Cluster;

/// <summary>
/// A change to the cluster metadata, proposed through the metadata quorum's Raft log and applied in the same order on
/// every broker (KRaft's metadata records, in JSON). Every value an apply needs is in the command or the state, never
/// the applying node's clock or options, so all brokers end with the same image.
/// </summary>
[JsonPolymorphic(TypeDiscriminatorPropertyName = "type")]
[JsonDerivedType(typeof(RegisterBroker), "register-broker")]
[JsonDerivedType(typeof(FenceBroker), "fence-broker")]
[JsonDerivedType(typeof(CreateTopic), "create-topic")]
[JsonDerivedType(typeof(DeleteTopic), "delete-topic")]
[JsonDerivedType(typeof(AlterPartition), "alter-partition")]
[JsonDerivedType(typeof(CommitOffsets), "commit-offsets")]
public abstract record MetadataCommand
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    /// <summary>The command's bytes in the log.</summary>
    public byte[] Encode() => JsonSerializer.SerializeToUtf8Bytes(this, Json);

    /// <summary>Reads a command written by <see cref="Encode"/>.</summary>
    public static MetadataCommand Decode(ReadOnlySpan<byte> bytes) =>
        JsonSerializer.Deserialize<MetadataCommand>(bytes, Json) ?? throw new JsonException("a metadata command is null");
}

/// <summary>A broker joins (or comes back): registered and unfenced; offline partitions whose ISR holds it get it as leader.</summary>
/// <param name="Id">The broker id.</param>
/// <param name="Host">The advertised host.</param>
/// <param name="Port">The Kafka port.</param>
public sealed record RegisterBroker(int Id, string Host, int Port) : MetadataCommand;

/// <summary>The controller saw no heartbeat from the broker within the session timeout: fence it, elect new leaders from the ISR.</summary>
/// <param name="Id">The broker id.</param>
public sealed record FenceBroker(int Id) : MetadataCommand;

/// <summary>Creates a topic, its replicas assigned over the live brokers.</summary>
/// <param name="Name">The name.</param>
/// <param name="Id">The topic id, chosen by the proposer.</param>
/// <param name="Partitions">The partition count.</param>
/// <param name="ReplicationFactor">Replicas per partition; -1 for the default: min(3, live brokers).</param>
/// <param name="Configs">The topic configs.</param>
public sealed record CreateTopic(string Name, Guid Id, int Partitions, int ReplicationFactor, Dictionary<string, string> Configs) : MetadataCommand;

/// <summary>Deletes a topic.</summary>
/// <param name="Name">The name.</param>
public sealed record DeleteTopic(string Name) : MetadataCommand;

/// <summary>A partition's leader changes its ISR (KIP-497's AlterPartition): accepted only from the current leader in its epoch.</summary>
/// <param name="Topic">The topic.</param>
/// <param name="Partition">The partition.</param>
/// <param name="Leader">The proposing leader.</param>
/// <param name="LeaderEpoch">The epoch it leads in.</param>
/// <param name="Isr">The new ISR.</param>
public sealed record AlterPartition(string Topic, int Partition, int Leader, int LeaderEpoch, int[] Isr) : MetadataCommand;

/// <summary>The group coordinator accepted a commit: every broker keeps it, so the next coordinator answers OffsetFetch with it.</summary>
/// <param name="Group">The group id.</param>
/// <param name="Offsets">The committed offsets (of this group).</param>
public sealed record CommitOffsets(string Group, List<GroupOffset> Offsets) : MetadataCommand;

/// <summary>The answer to a metadata command: Kafka's error code and a sentence.</summary>
/// <param name="Error">None, or why it was refused.</param>
/// <param name="Message">The reason, for the client.</param>
public sealed record MetadataResult(ErrorCode Error, string? Message)
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    /// <summary>Success.</summary>
    public static MetadataResult Ok { get; } = new(ErrorCode.None, null);

    /// <summary>The result's bytes, handed back to the proposer.</summary>
    public byte[] Encode() => JsonSerializer.SerializeToUtf8Bytes(this, Json);

    /// <summary>Reads a result written by <see cref="Encode"/>.</summary>
    public static MetadataResult Decode(ReadOnlySpan<byte> bytes) =>
        bytes.IsEmpty ? Ok : JsonSerializer.Deserialize<MetadataResult>(bytes, Json) ?? Ok;
}
