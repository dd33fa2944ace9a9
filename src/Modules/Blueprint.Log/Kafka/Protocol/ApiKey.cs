namespace Blueprint.Log.Kafka.Protocol;

/// <summary>
/// Kafka's API keys, numbered as in the protocol. The broker implements the ones listed in
/// <see cref="ApiVersionTable"/>; the others are named so that logs and errors can say what a client asked for.
/// </summary>
public enum ApiKey : short
{
    /// <summary>Append record batches to partitions.</summary>
    Produce = 0,

    /// <summary>Read record batches from partitions.</summary>
    Fetch = 1,

    /// <summary>Look up offsets by timestamp (earliest, latest, or a time).</summary>
    ListOffsets = 2,

    /// <summary>Brokers, topics, partitions and their leaders.</summary>
    Metadata = 3,

    /// <summary>Commit a consumer group's offsets.</summary>
    OffsetCommit = 8,

    /// <summary>Read a consumer group's committed offsets.</summary>
    OffsetFetch = 9,

    /// <summary>Find the coordinator of a group or transaction.</summary>
    FindCoordinator = 10,

    /// <summary>Join a consumer group.</summary>
    JoinGroup = 11,

    /// <summary>Keep a group membership alive.</summary>
    Heartbeat = 12,

    /// <summary>Leave a consumer group.</summary>
    LeaveGroup = 13,

    /// <summary>Distribute (leader) or receive (member) a group's assignment.</summary>
    SyncGroup = 14,

    /// <summary>Describe consumer groups and their members.</summary>
    DescribeGroups = 15,

    /// <summary>List the consumer groups.</summary>
    ListGroups = 16,

    /// <summary>SASL mechanism handshake (not implemented).</summary>
    SaslHandshake = 17,

    /// <summary>The API versions this broker supports.</summary>
    ApiVersions = 18,

    /// <summary>Create topics.</summary>
    CreateTopics = 19,

    /// <summary>Delete topics.</summary>
    DeleteTopics = 20,

    /// <summary>Delete records below an offset (not implemented).</summary>
    DeleteRecords = 21,

    /// <summary>Get a producer id for idempotent or transactional producing.</summary>
    InitProducerId = 22,

    /// <summary>The end offset of a leader epoch, used by consumers to detect truncation (KIP-320).</summary>
    OffsetForLeaderEpoch = 23,

    /// <summary>Add partitions to a transaction (not implemented).</summary>
    AddPartitionsToTxn = 24,

    /// <summary>Add a group's offsets to a transaction (not implemented).</summary>
    AddOffsetsToTxn = 25,

    /// <summary>Commit or abort a transaction (not implemented).</summary>
    EndTxn = 26,

    /// <summary>Commit offsets inside a transaction (not implemented).</summary>
    TxnOffsetCommit = 28,

    /// <summary>Describe ACLs (not implemented).</summary>
    DescribeAcls = 29,

    /// <summary>Describe broker or topic configuration (not implemented).</summary>
    DescribeConfigs = 32,

    /// <summary>Alter configuration (not implemented).</summary>
    AlterConfigs = 33,

    /// <summary>Describe log directories (not implemented).</summary>
    DescribeLogDirs = 35,

    /// <summary>SASL authentication exchange (not implemented).</summary>
    SaslAuthenticate = 36,

    /// <summary>Add partitions to topics (not implemented).</summary>
    CreatePartitions = 37,

    /// <summary>Delete consumer groups (not implemented).</summary>
    DeleteGroups = 42,

    /// <summary>Elect partition leaders (not implemented).</summary>
    ElectLeaders = 43,

    /// <summary>Alter configuration incrementally (not implemented).</summary>
    IncrementalAlterConfigs = 44,

    /// <summary>Delete a group's committed offsets (not implemented).</summary>
    OffsetDelete = 47,

    /// <summary>Describe the cluster (not implemented).</summary>
    DescribeCluster = 60,

    /// <summary>Describe the active producers of partitions (not implemented).</summary>
    DescribeProducers = 61,

    /// <summary>The next-generation consumer group heartbeat (KIP-848; not implemented).</summary>
    ConsumerGroupHeartbeat = 68,

    /// <summary>Client telemetry subscriptions (KIP-714; not implemented).</summary>
    GetTelemetrySubscriptions = 71,

    /// <summary>Client telemetry push (KIP-714; not implemented).</summary>
    PushTelemetry = 72,
}
