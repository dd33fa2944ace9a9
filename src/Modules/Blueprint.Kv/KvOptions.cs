using System.ComponentModel.DataAnnotations;

namespace Blueprint.Kv;

/// <summary>Options of the kv module (configuration section <c>Kv</c>).</summary>
public sealed class KvOptions : IValidatableObject
{
    /// <summary>The configuration section.</summary>
    public const string Section = "Kv";

    /// <summary>The RESP port of the embedded server. <value>1–65535; default 6379; flag <c>--resp-port</c>.</value></summary>
    [Range(1, 65535, ErrorMessage = "must be a port from 1 to 65535")]
    public int Port { get; set; } = 6379;

    /// <summary>
    /// A StackExchange.Redis connection string to an external Redis or Garnet, for example
    /// <c>127.0.0.1:6379</c>. When set, the embedded server does not start and every module talks
    /// to that server instead. <value>Default empty: embedded.</value>
    /// </summary>
    public string? ConnectionString { get; set; }

    /// <summary>Main-log memory of the embedded server, the bound on what it holds in memory. <value>A size such as <c>256m</c> or <c>1g</c>; default <c>256m</c>.</value></summary>
    [RegularExpression(SizePattern, ErrorMessage = SizeMessage)]
    public string MemorySize { get; set; } = "256m";

    /// <summary>Starting size of the embedded server's hash index. <value>A size; default <c>16m</c>.</value></summary>
    [RegularExpression(SizePattern, ErrorMessage = SizeMessage)]
    public string IndexSize { get; set; } = "16m";

    /// <summary>
    /// How often the append-only file is committed to disk, in milliseconds; 0 commits after every
    /// operation. <value>0–10000; default 0.</value>
    /// </summary>
    [Range(0, 10_000, ErrorMessage = "must be from 0 (every operation) to 10000 milliseconds")]
    public int AofCommitFrequencyMs { get; set; }

    /// <summary>
    /// How often the embedded server takes a checkpoint (BGSAVE), which also truncates the
    /// append-only file: the bound on its growth and on the replay at the next start. A checkpoint is
    /// always taken at a graceful stop. <value>0 (only at stop) or 10–86400 seconds; default 300.</value>
    /// </summary>
    [Range(0, 86_400, ErrorMessage = "must be 0 (only at stop) or from 10 to 86400 seconds")]
    public int CheckpointIntervalSeconds { get; set; } = 300;

    /// <summary>Whether the embedded server keeps an append-only file and checkpoints under the data directory. <value>Default true.</value></summary>
    public bool Persistence { get; set; } = true;

    /// <summary>How long connecting to, or one command against, the server may take. <value>100–60000 ms; default 5000.</value></summary>
    [Range(100, 60_000, ErrorMessage = "must be from 100 to 60000 milliseconds")]
    public int TimeoutMs { get; set; } = 5_000;

    /// <summary>
    /// Whether the embedded server runs in Redis Cluster mode (16384 slots, MOVED/ASK, replicas). The node forms the
    /// cluster itself from <see cref="ClusterMembers"/>: no manual CLUSTER MEET or ADDSLOTS. <value>Default false; flag <c>--kv-cluster</c>.</value>
    /// </summary>
    public bool Cluster { get; set; }

    /// <summary>
    /// The primaries a cluster starts with, in order, as <c>host:port,host:port,...</c>: member i owns the i-th of as many
    /// equal slot ranges. A node whose own address is not in the list joins as an empty primary and gets slots when
    /// <c>blueprint kv rebalance</c> moves them. <value>Default empty: this node alone; flag <c>--kv-cluster-members</c>.</value>
    /// </summary>
    public string? ClusterMembers { get; set; }

    /// <summary>
    /// The port of a second embedded server on this node that replicates the next member's primary (member i replicates
    /// member i+1, the last the first), so a cluster of N nodes has N primaries and N replicas, each on another node than
    /// its primary. 0: no replica. <value>0–65535; default 0; flag <c>--kv-replica-port</c>.</value>
    /// </summary>
    [Range(0, 65535, ErrorMessage = "must be 0 (no replica) or a port from 1 to 65535")]
    public int ReplicaPort { get; set; }

    /// <summary>
    /// How long a primary must be unreachable, seen by its replica and by a majority of the primaries, before the replica
    /// takes its slots over. <value>500–60000 ms; default 3000.</value>
    /// </summary>
    [Range(500, 60_000, ErrorMessage = "must be from 500 to 60000 milliseconds")]
    public int ClusterNodeTimeoutMs { get; set; } = 3_000;

    /// <summary>How often the cluster agent looks at the cluster (formation, replicas, failover). <value>50–10000 ms; default 250.</value></summary>
    [Range(50, 10_000, ErrorMessage = "must be from 50 to 10000 milliseconds")]
    public int ClusterCheckIntervalMs { get; set; } = 250;

    /// <inheritdoc />
    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (CheckpointIntervalSeconds is > 0 and < 10)
        {
            yield return new ValidationResult("must be 0 (only at stop) or from 10 to 86400 seconds", [nameof(CheckpointIntervalSeconds)]);
        }

        if (!string.IsNullOrWhiteSpace(ClusterMembers) && !Kv.Cluster.ClusterEndpoint.TryParseList(ClusterMembers, out _, out var error))
        {
            yield return new ValidationResult(error, [nameof(ClusterMembers)]);
        }

        if ((ReplicaPort != 0 || !string.IsNullOrWhiteSpace(ClusterMembers)) && !Cluster)
        {
            yield return new ValidationResult("needs the cluster mode (--kv-cluster true)", [ReplicaPort != 0 ? nameof(ReplicaPort) : nameof(ClusterMembers)]);
        }

        if (ReplicaPort != 0 && !Persistence)
        {
            // Garnet's replicas follow their primary's append-only file.
            yield return new ValidationResult("a replica needs persistence (its primary's append-only file is what it follows)", [nameof(ReplicaPort)]);
        }

        if (ReplicaPort != 0 && ReplicaPort == Port)
        {
            yield return new ValidationResult("must differ from the RESP port", [nameof(ReplicaPort)]);
        }
    }

    /// <summary>Whether an external server is configured.</summary>
    public bool IsExternal => !string.IsNullOrWhiteSpace(ConnectionString);

    private const string SizePattern = "^[0-9]+[kKmMgG]?$";
    private const string SizeMessage = "must be a size such as 64m, 256m or 1g";
}
