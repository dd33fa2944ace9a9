namespace Blueprint.Log.Kafka;

/// <summary>Kafka's error codes, as numbered by the protocol (only those this broker returns or clients act on).</summary>
public enum ErrorCode : short
{
    /// <summary>The server experienced an unexpected error when processing the request.</summary>
    UnknownServerError = -1,

    /// <summary>No error.</summary>
    None = 0,

    /// <summary>The requested offset is not within the range of offsets maintained by the server.</summary>
    OffsetOutOfRange = 1,

    /// <summary>A record failed its CRC check or is otherwise corrupt.</summary>
    CorruptMessage = 2,

    /// <summary>This server does not host this topic-partition.</summary>
    UnknownTopicOrPartition = 3,

    /// <summary>The requested fetch size is invalid.</summary>
    InvalidFetchSize = 4,

    /// <summary>There is no leader for this topic-partition.</summary>
    LeaderNotAvailable = 5,

    /// <summary>This server is not the leader for that topic-partition.</summary>
    NotLeaderOrFollower = 6,

    /// <summary>The request timed out.</summary>
    RequestTimedOut = 7,

    /// <summary>The broker is not available.</summary>
    BrokerNotAvailable = 8,

    /// <summary>The replica is not available for the requested topic-partition.</summary>
    ReplicaNotAvailable = 9,

    /// <summary>The request included a message larger than the max message size the server will accept.</summary>
    MessageTooLarge = 10,

    /// <summary>The metadata field of the offset request was too large.</summary>
    OffsetMetadataTooLarge = 12,

    /// <summary>The server disconnected before a response was received.</summary>
    NetworkException = 13,

    /// <summary>The coordinator is loading and hence can't process requests.</summary>
    CoordinatorLoadInProgress = 14,

    /// <summary>The coordinator is not available.</summary>
    CoordinatorNotAvailable = 15,

    /// <summary>This is not the correct coordinator.</summary>
    NotCoordinator = 16,

    /// <summary>The request attempted to perform an operation on an invalid topic.</summary>
    InvalidTopicException = 17,

    /// <summary>The request included message batch larger than the configured segment size on the server.</summary>
    RecordListTooLarge = 18,

    /// <summary>Messages are rejected since there are fewer in-sync replicas than required.</summary>
    NotEnoughReplicas = 19,

    /// <summary>Messages are written to the log, but to fewer in-sync replicas than required.</summary>
    NotEnoughReplicasAfterAppend = 20,

    /// <summary>Produce request specified an invalid value for required acks.</summary>
    InvalidRequiredAcks = 21,

    /// <summary>Specified group generation id is not valid.</summary>
    IllegalGeneration = 22,

    /// <summary>The group member's supported protocols are incompatible with those of existing members.</summary>
    InconsistentGroupProtocol = 23,

    /// <summary>The configured groupId is invalid.</summary>
    InvalidGroupId = 24,

    /// <summary>The coordinator is not aware of this member.</summary>
    UnknownMemberId = 25,

    /// <summary>The session timeout is not within the range allowed by the broker.</summary>
    InvalidSessionTimeout = 26,

    /// <summary>The group is rebalancing, so a rejoin is needed.</summary>
    RebalanceInProgress = 27,

    /// <summary>The committing offset data size is not valid.</summary>
    InvalidCommitOffsetSize = 28,

    /// <summary>The message format version on the broker does not support the request.</summary>
    UnsupportedForMessageFormat = 43,

    /// <summary>The timestamp of the message is out of acceptable range.</summary>
    InvalidTimestamp = 32,

    /// <summary>The version of API is not supported.</summary>
    UnsupportedVersion = 35,

    /// <summary>Topic with this name already exists.</summary>
    TopicAlreadyExists = 36,

    /// <summary>Number of partitions is below 1.</summary>
    InvalidPartitions = 37,

    /// <summary>Replication factor is below 1 or larger than the number of available brokers.</summary>
    InvalidReplicationFactor = 38,

    /// <summary>Replica assignment is invalid.</summary>
    InvalidReplicaAssignment = 39,

    /// <summary>Configuration is invalid.</summary>
    InvalidConfig = 40,

    /// <summary>This is not the correct controller for this cluster.</summary>
    NotController = 41,

    /// <summary>This most likely occurs because of a request being malformed by the client library.</summary>
    InvalidRequest = 42,

    /// <summary>The broker received an out of order sequence number.</summary>
    OutOfOrderSequenceNumber = 45,

    /// <summary>The broker received a duplicate sequence number.</summary>
    DuplicateSequenceNumber = 46,

    /// <summary>Producer attempted to produce with an old epoch.</summary>
    InvalidProducerEpoch = 47,

    /// <summary>The producer attempted to use a producer id which is not currently assigned to its transactional id.</summary>
    InvalidProducerIdMapping = 49,

    /// <summary>Disk error when trying to access log file on the disk.</summary>
    KafkaStorageError = 56,

    /// <summary>The group is not empty.</summary>
    NonEmptyGroup = 68,

    /// <summary>The group id does not exist.</summary>
    GroupIdNotFound = 69,

    /// <summary>The leader epoch in the request is older than the epoch on the broker.</summary>
    FencedLeaderEpoch = 74,

    /// <summary>The leader epoch in the request is newer than the epoch on the broker.</summary>
    UnknownLeaderEpoch = 75,

    /// <summary>The requesting client does not support the compression type of given partition.</summary>
    UnsupportedCompressionType = 76,

    /// <summary>There is no listener on the leader broker that matches the listener on which metadata request was processed.</summary>
    ListenerNotFound = 72,

    /// <summary>The group member needs to have a valid member id before actually entering a consumer group.</summary>
    MemberIdRequired = 79,

    /// <summary>The coordinator is not available (preferred leader not available).</summary>
    PreferredLeaderNotAvailable = 80,

    /// <summary>The consumer group has reached its max size.</summary>
    GroupMaxSizeReached = 81,

    /// <summary>The broker rejected this static consumer since another consumer with the same group.instance.id has registered with a different member.id.</summary>
    FencedInstanceId = 82,

    /// <summary>This record has failed the validation on broker and hence will be rejected.</summary>
    InvalidRecord = 87,

    /// <summary>The producer attempted to produce to a partition of a producer id the broker no longer knows.</summary>
    UnknownProducerId = 59,

    /// <summary>Requested offset of a time-based lookup is not available.</summary>
    OffsetNotAvailable = 78,

    /// <summary>Throttling quota has been exceeded.</summary>
    ThrottlingQuotaExceeded = 89,
}
