namespace Blueprint.Log.Groups;

/// <summary>
/// One member of a classic group (Kafka's MemberMetadata): what it joined with, its assignment, and the JoinGroup or
/// SyncGroup it has parked, if any. Guarded by the group's lock.
/// </summary>
internal sealed class GroupMember
{
    public GroupMember(string memberId, JoinGroupCall call)
    {
        MemberId = memberId;
        GroupInstanceId = call.GroupInstanceId;
        ClientId = call.ClientId;
        ClientHost = call.ClientHost;
        SessionTimeout = call.SessionTimeout;
        RebalanceTimeout = call.RebalanceTimeout;
        ProtocolType = call.ProtocolType;
        Protocols = call.Protocols;
    }

    /// <summary>The member id; changes only when a static member's instance rejoins under a new id.</summary>
    public string MemberId { get; set; }

    public string? GroupInstanceId { get; }

    public string ClientId { get; }

    public string ClientHost { get; }

    public TimeSpan SessionTimeout { get; set; }

    public TimeSpan RebalanceTimeout { get; set; }

    public string ProtocolType { get; }

    /// <summary>The supported protocols, most preferred first, each with the member's metadata for it.</summary>
    public IReadOnlyList<(string Name, byte[] Metadata)> Protocols { get; set; }

    /// <summary>The assignment of the current generation; empty until the leader's SyncGroup.</summary>
    public byte[] Assignment { get; set; } = [];

    /// <summary>The JoinGroup waiting for the rebalance to complete, if any.</summary>
    public TaskCompletionSource<JoinGroupResult>? JoinWaiter { get; set; }

    /// <summary>The SyncGroup waiting for the leader's assignment, if any.</summary>
    public TaskCompletionSource<SyncGroupResult>? SyncWaiter { get; set; }

    /// <summary>Joined in the current rebalance and has not yet received a generation.</summary>
    public bool IsNew { get; set; }

    /// <summary>The session deadline: heartbeats, joins and syncs push it back; when it passes the member is removed.</summary>
    public GroupTimer? SessionTimer { get; set; }

    public bool IsStatic => GroupInstanceId is not null;

    public bool IsAwaitingJoin => JoinWaiter is not null;

    public bool IsAwaitingSync => SyncWaiter is not null;

    /// <summary>Whether <paramref name="protocols"/> are the same names and metadata in the same order.</summary>
    public bool Matches(IReadOnlyList<(string Name, byte[] Metadata)> protocols)
    {
        if (protocols.Count != Protocols.Count)
        {
            return false;
        }

        for (int i = 0; i < protocols.Count; i++)
        {
            if (protocols[i].Name != Protocols[i].Name || !protocols[i].Metadata.AsSpan().SequenceEqual(Protocols[i].Metadata))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>The member's most preferred protocol among <paramref name="candidates"/>.</summary>
    public string Vote(IReadOnlySet<string> candidates)
    {
        foreach (var (name, _) in Protocols)
        {
            if (candidates.Contains(name))
            {
                return name;
            }
        }

        throw new InvalidOperationException($"Member {MemberId} supports none of the group's common protocols.");
    }

    /// <summary>The member's metadata for <paramref name="protocol"/>.</summary>
    public byte[] MetadataFor(string protocol)
    {
        foreach (var (name, metadata) in Protocols)
        {
            if (name == protocol)
            {
                return metadata;
            }
        }

        throw new InvalidOperationException($"Member {MemberId} does not support protocol {protocol}.");
    }
}
