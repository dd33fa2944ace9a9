using Blueprint.Log.Kafka;

namespace Blueprint.Log.Groups;

/// <summary>The answer to a JoinGroup.</summary>
/// <param name="Error">None, or why the member did not join (with <c>MemberIdRequired</c>, <see cref="MemberId"/> is the id to join with).</param>
/// <param name="GenerationId">The generation the member is now part of; -1 on error.</param>
/// <param name="ProtocolType">The group's protocol type; null on error.</param>
/// <param name="ProtocolName">The protocol the group chose; null on error.</param>
/// <param name="LeaderId">The member id of the leader, who computes the assignment; "" on error.</param>
/// <param name="MemberId">The member's id (generated for a new member).</param>
/// <param name="Members">Every member with its metadata for the chosen protocol; filled only in the leader's answer.</param>
public sealed record JoinGroupResult(
    ErrorCode Error,
    int GenerationId,
    string? ProtocolType,
    string? ProtocolName,
    string LeaderId,
    string MemberId,
    IReadOnlyList<(string MemberId, string? GroupInstanceId, byte[] Metadata)> Members)
{
    /// <summary>A failed join for <paramref name="memberId"/>.</summary>
    public static JoinGroupResult Failure(string memberId, ErrorCode error) => new(error, -1, null, null, "", memberId, []);
}

/// <summary>The answer to a SyncGroup.</summary>
/// <param name="Error">None, or why there is no assignment.</param>
/// <param name="ProtocolType">The group's protocol type; null on error.</param>
/// <param name="ProtocolName">The group's protocol; null on error.</param>
/// <param name="Assignment">The member's assignment, as the leader encoded it; empty on error.</param>
public sealed record SyncGroupResult(ErrorCode Error, string? ProtocolType, string? ProtocolName, byte[] Assignment)
{
    /// <summary>A failed sync.</summary>
    public static SyncGroupResult Failure(ErrorCode error) => new(error, null, null, []);
}

/// <summary>The answer to a LeaveGroup.</summary>
/// <param name="Error">An error for the whole request (then <see cref="Members"/> is empty), or None.</param>
/// <param name="Members">Each leaving member as it was named, with its own error.</param>
public sealed record LeaveGroupResult(ErrorCode Error, IReadOnlyList<(string MemberId, string? GroupInstanceId, ErrorCode Error)> Members);

/// <summary>The outcome of committing one partition's offset.</summary>
/// <param name="Topic">The topic.</param>
/// <param name="Partition">The partition.</param>
/// <param name="Error">None when stored (durably, with <see cref="GroupCoordinatorOptions.FsyncCommits"/>).</param>
public readonly record struct PartitionCommitResult(string Topic, int Partition, ErrorCode Error);

/// <summary>One partition's committed offset.</summary>
/// <param name="Topic">The topic.</param>
/// <param name="Partition">The partition.</param>
/// <param name="Offset">The committed offset; -1 when the group has none for the partition.</param>
/// <param name="LeaderEpoch">The committed leader epoch; -1 when unknown.</param>
/// <param name="Metadata">The committed metadata; "" when none.</param>
/// <param name="Error">A per-partition error; None normally, also for a partition without an offset.</param>
public readonly record struct FetchedOffset(string Topic, int Partition, long Offset, int LeaderEpoch, string Metadata, ErrorCode Error);

/// <summary>The answer to an OffsetFetch.</summary>
/// <param name="Error">An error for the whole group, or None.</param>
/// <param name="Offsets">The offsets asked for, in the order asked, or all of the group's, ordered by topic and partition.</param>
public sealed record OffsetFetchResult(ErrorCode Error, IReadOnlyList<FetchedOffset> Offsets);

/// <summary>One member as DescribeGroups shows it.</summary>
/// <param name="MemberId">The member id.</param>
/// <param name="GroupInstanceId">The static member's group.instance.id, or null.</param>
/// <param name="ClientId">The client id it joined with.</param>
/// <param name="ClientHost">The client's address.</param>
/// <param name="Metadata">Its metadata for the group's protocol; empty unless the group is Stable.</param>
/// <param name="Assignment">Its assignment; empty unless the group is Stable.</param>
public sealed record GroupMemberDescription(string MemberId, string? GroupInstanceId, string ClientId, string ClientHost, byte[] Metadata, byte[] Assignment);

/// <summary>One group as DescribeGroups shows it.</summary>
/// <param name="ErrorCode">None, or why the group cannot be described (an unknown group is None with state "Dead").</param>
/// <param name="GroupId">The group id.</param>
/// <param name="State">Empty, PreparingRebalance, CompletingRebalance, Stable or Dead.</param>
/// <param name="ProtocolType">The protocol type, or "".</param>
/// <param name="Protocol">The chosen protocol when Stable, else "".</param>
/// <param name="Members">The members.</param>
public sealed record GroupDescription(
    ErrorCode ErrorCode,
    string GroupId,
    string State,
    string ProtocolType,
    string Protocol,
    IReadOnlyList<GroupMemberDescription> Members);
