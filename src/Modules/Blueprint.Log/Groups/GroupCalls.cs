namespace Blueprint.Log.Groups;

/// <summary>A JoinGroup request, as the coordinator needs it (independent of the wire version it came in).</summary>
/// <param name="GroupId">The group to join.</param>
/// <param name="MemberId">The member id the coordinator gave earlier, or "" for a member that has none yet.</param>
/// <param name="GroupInstanceId">The static member's group.instance.id; null for a dynamic member.</param>
/// <param name="ClientId">The client id of the connection, the prefix of a generated member id.</param>
/// <param name="ClientHost">The client's address, for DescribeGroups.</param>
/// <param name="SessionTimeout">How long the member may go without a heartbeat before it is removed.</param>
/// <param name="RebalanceTimeout">How long the member may take to rejoin once a rebalance starts (JoinGroup v0: the session timeout).</param>
/// <param name="ProtocolType">The kind of group, "consumer" for consumers; every member must use the same.</param>
/// <param name="Protocols">The protocols (assignors) the member supports, most preferred first, each with its metadata.</param>
/// <param name="RequireKnownMemberId">
/// JoinGroup v4+: a dynamic member without a member id first gets <c>MemberIdRequired</c> with a generated id and
/// joins again with it.
/// </param>
public sealed record JoinGroupCall(
    string GroupId,
    string MemberId,
    string? GroupInstanceId,
    string ClientId,
    string ClientHost,
    TimeSpan SessionTimeout,
    TimeSpan RebalanceTimeout,
    string ProtocolType,
    IReadOnlyList<(string Name, byte[] Metadata)> Protocols,
    bool RequireKnownMemberId);

/// <summary>A SyncGroup request: every member asks for its assignment, the leader also brings everyone's.</summary>
/// <param name="GroupId">The group.</param>
/// <param name="GenerationId">The generation the member joined.</param>
/// <param name="MemberId">The member's id.</param>
/// <param name="GroupInstanceId">The static member's group.instance.id; null for a dynamic member.</param>
/// <param name="ProtocolType">SyncGroup v5+: the protocol type the member expects; null when not sent.</param>
/// <param name="ProtocolName">SyncGroup v5+: the protocol the member expects; null when not sent.</param>
/// <param name="Assignments">The leader's assignment per member id; empty from followers.</param>
public sealed record SyncGroupCall(
    string GroupId,
    int GenerationId,
    string MemberId,
    string? GroupInstanceId,
    string? ProtocolType,
    string? ProtocolName,
    IReadOnlyList<(string MemberId, byte[] Assignment)> Assignments);

/// <summary>One partition's offset in an OffsetCommit request.</summary>
/// <param name="Topic">The topic.</param>
/// <param name="Partition">The partition.</param>
/// <param name="Offset">The offset of the next record the group will read.</param>
/// <param name="LeaderEpoch">The leader epoch of the last consumed record; -1 when unknown.</param>
/// <param name="Metadata">Free text the client stores with the offset; null stores "".</param>
public readonly record struct OffsetCommitEntry(string Topic, int Partition, long Offset, int LeaderEpoch, string? Metadata);

/// <summary>An OffsetCommit request.</summary>
/// <param name="GroupId">The group whose offsets these are.</param>
/// <param name="GenerationId">The member's generation; -1 for a simple commit by a client that uses no group membership.</param>
/// <param name="MemberId">The member's id; "" for a simple commit.</param>
/// <param name="GroupInstanceId">The static member's group.instance.id; null otherwise.</param>
/// <param name="Offsets">The offsets to store.</param>
public sealed record OffsetCommitCall(
    string GroupId,
    int GenerationId,
    string MemberId,
    string? GroupInstanceId,
    IReadOnlyList<OffsetCommitEntry> Offsets);
