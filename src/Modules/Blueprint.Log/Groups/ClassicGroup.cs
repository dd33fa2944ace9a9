using System.Buffers.Binary;
using System.Text;

namespace Blueprint.Log.Groups;

/// <summary>The states of a classic group, as Kafka's GroupMetadata names them (the names are the wire's state strings).</summary>
internal enum GroupState
{
    /// <summary>No members; offsets may remain. A join starts a rebalance.</summary>
    Empty,

    /// <summary>Joins are parked until every known member has rejoined or the rebalance timeout passes.</summary>
    PreparingRebalance,

    /// <summary>A generation is chosen; waiting for the leader's SyncGroup with the assignment.</summary>
    CompletingRebalance,

    /// <summary>Assignment distributed; heartbeats answer None.</summary>
    Stable,

    /// <summary>Removed from the coordinator; a request that still holds the object retries or fails.</summary>
    Dead,
}

/// <summary>
/// The membership of one classic consumer group (Kafka's GroupMetadata): members, static instance ids, members that
/// were handed an id but have not joined with it, the generation, the chosen protocol and the leader. It holds data
/// and rules about that data; the rebalance protocol that drives it lives in <see cref="GroupCoordinator"/>. Every
/// member is guarded by <see cref="Gate"/>.
/// </summary>
internal sealed class ClassicGroup
{
    /// <summary>The protocol type of Kafka consumers, whose subscription metadata the coordinator can read.</summary>
    public const string ConsumerProtocolType = "consumer";

    private readonly OrderedDictionary<string, GroupMember> _members = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string> _staticMembers = new(StringComparer.Ordinal);
    private readonly Dictionary<string, GroupTimer> _pendingMembers = new(StringComparer.Ordinal);
    private readonly HashSet<string> _pendingSyncMembers = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int> _protocolVotes = new(StringComparer.Ordinal);

    public ClassicGroup(string groupId, DateTimeOffset now)
    {
        GroupId = groupId;
        StateChangedAt = now;
    }

    public string GroupId { get; }

    /// <summary>The group's lock: every read and write of the group and its members happens under it.</summary>
    public Lock Gate { get; } = new();

    public GroupState State { get; private set; } = GroupState.Empty;

    /// <summary>When the group entered its current state; for an Empty group, the start of its offsets' retention.</summary>
    public DateTimeOffset StateChangedAt { get; private set; }

    public int GenerationId { get; private set; }

    /// <summary>The protocol type of the first member; kept while the group is empty, null for a group that only stores offsets.</summary>
    public string? ProtocolType { get; set; }

    /// <summary>The protocol chosen for the current generation; null while Empty.</summary>
    public string? ProtocolName { get; private set; }

    public string? LeaderId { get; private set; }

    /// <summary>For a consumer group with a generation: the union of the members' subscribed topics; null when unknown.</summary>
    public IReadOnlySet<string>? SubscribedTopics { get; private set; }

    /// <summary>The rebalance's deadline: the (initial) join delay while PreparingRebalance.</summary>
    public GroupTimer? JoinTimer { get; set; }

    /// <summary>Whether the join deadline is the initial delay of an empty group's first rebalance, which no join cuts short.</summary>
    public bool InitialDelayActive { get; set; }

    /// <summary>How much of the rebalance timeout the initial delay may still use when new members keep arriving.</summary>
    public TimeSpan InitialDelayRemaining { get; set; }

    /// <summary>A new member joined during the current initial delay, which then starts over.</summary>
    public bool NewMemberAdded { get; set; }

    /// <summary>The deadline for members of a new generation to send SyncGroup.</summary>
    public GroupTimer? SyncTimer { get; set; }

    public int Count => _members.Count;

    public IEnumerable<GroupMember> Members => _members.Values;

    public int PendingCount => _pendingMembers.Count;

    public int AwaitingJoinCount
    {
        get
        {
            int count = 0;
            foreach (var member in _members.Values)
            {
                count += member.IsAwaitingJoin ? 1 : 0;
            }

            return count;
        }
    }

    /// <summary>The longest rebalance timeout of the members: how long a rebalance waits for rejoins.</summary>
    public TimeSpan RebalanceTimeout
    {
        get
        {
            var longest = TimeSpan.Zero;
            foreach (var member in _members.Values)
            {
                if (member.RebalanceTimeout > longest)
                {
                    longest = member.RebalanceTimeout;
                }
            }

            return longest;
        }
    }

    public bool Is(GroupState state) => State == state;

    public bool Has(string memberId) => _members.ContainsKey(memberId);

    public GroupMember Get(string memberId) => _members[memberId];

    public bool TryGet(string memberId, out GroupMember member) => _members.TryGetValue(memberId, out member!);

    public bool IsLeader(string memberId) => LeaderId == memberId;

    /// <summary>Whether the member id was handed out with <c>MemberIdRequired</c> and has not joined yet.</summary>
    public bool IsPending(string memberId) => _pendingMembers.ContainsKey(memberId) && !_members.ContainsKey(memberId);

    /// <summary>The member id the static instance is registered under, or null.</summary>
    public string? StaticMemberId(string? groupInstanceId) =>
        groupInstanceId is not null && _staticMembers.TryGetValue(groupInstanceId, out string? memberId) ? memberId : null;

    /// <summary>Whether a rebalance may start from the current state (the states PreparingRebalance may follow).</summary>
    public bool CanRebalance => State is GroupState.Stable or GroupState.CompletingRebalance or GroupState.Empty;

    /// <summary>Every member has rejoined and no member id handed out is still expected.</summary>
    public bool HasAllMembersJoined => _members.Count == AwaitingJoinCount && _pendingMembers.Count == 0;

    public bool HasReceivedSyncFromAllMembers => _pendingSyncMembers.Count == 0;

    public void Add(GroupMember member)
    {
        GroupInvariant.Check(!_members.ContainsKey(member.MemberId), GroupId, $"member {member.MemberId} added twice");
        if (_members.Count == 0)
        {
            ProtocolType = member.ProtocolType;
        }

        GroupInvariant.Check(ProtocolType == member.ProtocolType, GroupId, "a member's protocol type differs from the group's");
        LeaderId ??= member.MemberId;
        _members.Add(member.MemberId, member);
        CountVotes(member.Protocols, +1);
        if (member.GroupInstanceId is not null)
        {
            _staticMembers[member.GroupInstanceId] = member.MemberId;
        }

        RemovePending(member.MemberId);
    }

    /// <summary>Removes the member (its waiters must already be answered) and stops its session timer.</summary>
    public void Remove(GroupMember member)
    {
        GroupInvariant.Check(_members.Remove(member.MemberId), GroupId, $"member {member.MemberId} removed but not present");
        GroupInvariant.Check(!member.IsAwaitingJoin && !member.IsAwaitingSync, GroupId, $"member {member.MemberId} removed with a parked request");
        CountVotes(member.Protocols, -1);
        if (member.GroupInstanceId is not null && StaticMemberId(member.GroupInstanceId) == member.MemberId)
        {
            _staticMembers.Remove(member.GroupInstanceId);
        }

        _pendingSyncMembers.Remove(member.MemberId);
        member.SessionTimer?.Dispose();
        member.SessionTimer = null;
        if (IsLeader(member.MemberId))
        {
            LeaderId = _members.Count > 0 ? _members.GetAt(0).Key : null;
        }
    }

    public void UpdateProtocols(GroupMember member, IReadOnlyList<(string Name, byte[] Metadata)> protocols)
    {
        CountVotes(member.Protocols, -1);
        member.Protocols = protocols;
        CountVotes(protocols, +1);
    }

    /// <summary>Gives the static instance's member a new member id (the instance restarted); leadership moves with it.</summary>
    public void ReplaceStaticMember(GroupMember member, string newMemberId)
    {
        string oldMemberId = member.MemberId;
        GroupInvariant.Check(member.GroupInstanceId is not null && _members.Remove(oldMemberId), GroupId, "replacing a member that is not a present static member");
        member.MemberId = newMemberId;
        _members.Add(newMemberId, member);
        _staticMembers[member.GroupInstanceId!] = newMemberId;
        if (_pendingSyncMembers.Remove(oldMemberId))
        {
            _pendingSyncMembers.Add(newMemberId);
        }

        if (LeaderId == oldMemberId)
        {
            LeaderId = newMemberId;
        }
    }

    public void AddPending(string memberId, GroupTimer expiry) => _pendingMembers.Add(memberId, expiry);

    public bool RemovePending(string memberId)
    {
        if (!_pendingMembers.Remove(memberId, out var timer))
        {
            return false;
        }

        timer.Dispose();
        return true;
    }

    /// <summary>Forgets every member id handed out and not yet used, stopping their timers.</summary>
    public void ClearPending()
    {
        foreach (var timer in _pendingMembers.Values)
        {
            timer.Dispose();
        }

        _pendingMembers.Clear();
    }

    public void AddPendingSync(string memberId) => _pendingSyncMembers.Add(memberId);

    public void RemovePendingSync(string memberId) => _pendingSyncMembers.Remove(memberId);

    public void ClearPendingSync() => _pendingSyncMembers.Clear();

    public List<GroupMember> PendingSyncMembers() => [.. _members.Values.Where(m => _pendingSyncMembers.Contains(m.MemberId))];

    /// <summary>
    /// Whether a member with <paramref name="protocolType"/> and <paramref name="protocols"/> may join: an empty group
    /// takes any non-empty offer; otherwise the type must match and one protocol must be supported by every member.
    /// </summary>
    public bool SupportsProtocols(string protocolType, IReadOnlyList<(string Name, byte[] Metadata)> protocols)
    {
        if (State == GroupState.Empty)
        {
            return protocolType.Length > 0 && protocols.Count > 0;
        }

        return ProtocolType == protocolType
            && protocols.Any(p => _protocolVotes.GetValueOrDefault(p.Name) == _members.Count);
    }

    /// <summary>
    /// The protocol every member supports that most members prefer: each member votes for its most preferred common
    /// protocol. Ties go to the protocol the leader prefers, then to the name, so the choice is deterministic.
    /// </summary>
    public string SelectProtocol()
    {
        GroupInvariant.Check(_members.Count > 0, GroupId, "selecting a protocol for a group without members");
        var candidates = _protocolVotes.Where(v => v.Value == _members.Count).Select(v => v.Key).ToHashSet(StringComparer.Ordinal);
        GroupInvariant.Check(candidates.Count > 0, GroupId, "members share no protocol");
        var votes = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var member in _members.Values)
        {
            string vote = member.Vote(candidates);
            votes[vote] = votes.GetValueOrDefault(vote) + 1;
        }

        var leaderOrder = LeaderId is not null && _members.TryGetValue(LeaderId, out var leader)
            ? leader.Protocols.Select(p => p.Name).ToList()
            : [];
        return votes
            .OrderByDescending(v => v.Value)
            .ThenBy(v => leaderOrder.IndexOf(v.Key) is int i && i >= 0 ? i : int.MaxValue)
            .ThenBy(v => v.Key, StringComparer.Ordinal)
            .First().Key;
    }

    /// <summary>
    /// Keeps the leader if it rejoined, else makes another rejoined member leader. False when nobody rejoined (or the
    /// group has no members), so the generation cannot advance.
    /// </summary>
    public bool MaybeElectNewJoinedLeader()
    {
        if (LeaderId is null)
        {
            return false;
        }

        if (_members[LeaderId].IsAwaitingJoin)
        {
            return true;
        }

        var joined = _members.Values.FirstOrDefault(m => m.IsAwaitingJoin);
        if (joined is null)
        {
            return false;
        }

        LeaderId = joined.MemberId;
        return true;
    }

    /// <summary>Starts the next generation: CompletingRebalance with a chosen protocol, or Empty when no member is left.</summary>
    public void InitNextGeneration(DateTimeOffset now)
    {
        GenerationId++;
        if (_members.Count > 0)
        {
            ProtocolName = SelectProtocol();
            SubscribedTopics = ComputeSubscribedTopics();
            TransitionTo(GroupState.CompletingRebalance, now);
        }
        else
        {
            ProtocolName = null;
            SubscribedTopics = ProtocolType == ConsumerProtocolType ? new HashSet<string>(StringComparer.Ordinal) : null;
            TransitionTo(GroupState.Empty, now);
        }

        _pendingSyncMembers.Clear();
    }

    public void TransitionTo(GroupState target, DateTimeOffset now)
    {
        bool valid = target switch
        {
            GroupState.PreparingRebalance => CanRebalance,
            GroupState.CompletingRebalance => State == GroupState.PreparingRebalance,
            GroupState.Stable => State == GroupState.CompletingRebalance,
            GroupState.Empty => State == GroupState.PreparingRebalance,
            GroupState.Dead => true,
            _ => false,
        };
        GroupInvariant.Check(valid, GroupId, $"transition from {State} to {target}");
        State = target;
        StateChangedAt = now;
    }

    /// <summary>Every member with its metadata for the chosen protocol: the leader's input to the assignment.</summary>
    public List<(string MemberId, string? GroupInstanceId, byte[] Metadata)> CurrentMemberMetadata()
    {
        GroupInvariant.Check(ProtocolName is not null && State is GroupState.CompletingRebalance or GroupState.Stable, GroupId, "member metadata asked for outside a generation");
        return [.. _members.Values.Select(m => (m.MemberId, m.GroupInstanceId, m.MetadataFor(ProtocolName!)))];
    }

    public GroupDescription Describe()
    {
        bool stable = State == GroupState.Stable;
        var members = _members.Values
            .Select(m => new GroupMemberDescription(
                m.MemberId,
                m.GroupInstanceId,
                m.ClientId,
                m.ClientHost,
                stable ? m.MetadataFor(ProtocolName!) : [],
                stable ? m.Assignment : []))
            .ToList();
        return new GroupDescription(Kafka.ErrorCode.None, GroupId, State.ToString(), ProtocolType ?? "", stable ? ProtocolName! : "", members);
    }

    private void CountVotes(IReadOnlyList<(string Name, byte[] Metadata)> protocols, int delta)
    {
        foreach (var (name, _) in protocols)
        {
            int votes = _protocolVotes.GetValueOrDefault(name) + delta;
            if (votes == 0)
            {
                _protocolVotes.Remove(name);
            }
            else
            {
                _protocolVotes[name] = votes;
            }
        }
    }

    /// <summary>
    /// Reads the subscribed topics from each consumer's metadata: every version of Kafka's ConsumerProtocolSubscription
    /// starts with <c>version int16, topics [int32 count, (int16 length, UTF-8)...]</c>, big-endian. Null when the
    /// group is not a consumer group or a member's metadata does not parse, so no offset is expired by subscription.
    /// </summary>
    private HashSet<string>? ComputeSubscribedTopics()
    {
        if (ProtocolType != ConsumerProtocolType || ProtocolName is null)
        {
            return null;
        }

        var topics = new HashSet<string>(StringComparer.Ordinal);
        foreach (var member in _members.Values)
        {
            if (!TryReadSubscription(member.MetadataFor(ProtocolName), topics))
            {
                return null;
            }
        }

        return topics;
    }

    private static bool TryReadSubscription(ReadOnlySpan<byte> metadata, HashSet<string> topics)
    {
        if (metadata.Length < 6)
        {
            return false;
        }

        int count = BinaryPrimitives.ReadInt32BigEndian(metadata[2..]);
        int offset = 6;
        if (count < 0 || count > (metadata.Length - offset) / 2)
        {
            return false;
        }

        for (int i = 0; i < count; i++)
        {
            if (metadata.Length - offset < 2)
            {
                return false;
            }

            short length = BinaryPrimitives.ReadInt16BigEndian(metadata[offset..]);
            offset += 2;
            if (length < 0 || metadata.Length - offset < length)
            {
                return false;
            }

            topics.Add(Encoding.UTF8.GetString(metadata.Slice(offset, length)));
            offset += length;
        }

        return true;
    }
}
