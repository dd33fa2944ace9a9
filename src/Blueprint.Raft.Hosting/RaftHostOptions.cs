using Blueprint.Core.Raft;

namespace Blueprint.Raft.Hosting;

/// <summary>The settings of one <see cref="RaftHost"/>; <see cref="Problems"/> reports every mistake at once.</summary>
public sealed record RaftHostOptions
{
    /// <summary>Largest gRPC message on the peer port; a snapshot travels in one message, so it bounds the snapshot size.</summary>
    public const int PeerMessageBytesMax = 64 * 1024 * 1024;

    /// <summary>This node's Raft id; must be one of <see cref="InitialMembers"/>.</summary>
    public required int NodeId { get; init; }

    /// <summary>This node's name; must match its entry in <see cref="InitialMembers"/>.</summary>
    public required string Name { get; init; }

    /// <summary>
    /// The members at bootstrap, this node included. Without <see cref="Join"/> they are the first voters and their
    /// sorted names and peer URLs give the cluster id; with it they are the current member list, used to dial peers
    /// until the replicated table arrives.
    /// </summary>
    public required IReadOnlyList<RaftMember> InitialMembers { get; init; }

    /// <summary>This node's client URLs, published into the member table once a leader is known.</summary>
    /// <value>Default empty.</value>
    public IReadOnlyList<string> ClientUrls { get; init; } = [];

    /// <summary>Start as a new member of a running cluster (added with <see cref="RaftHost.AddMemberAsync"/> first).</summary>
    /// <value>Default false.</value>
    public bool Join { get; init; }

    /// <summary>
    /// Addresses this node dials instead of a member's published peer URL, by member id: for proxies, NAT and fault
    /// injection in tests. Members absent here are dialed at their first peer URL.
    /// </summary>
    /// <value>Default empty.</value>
    public IReadOnlyDictionary<int, string> PeerDialUrls { get; init; } = new Dictionary<int, string>();

    /// <summary>The length of one Raft tick.</summary>
    /// <value>From 1 ms to 10 s; default 100 ms.</value>
    public TimeSpan TickInterval { get; init; } = TimeSpan.FromMilliseconds(100);

    /// <summary>The base election timeout in ticks (<see cref="RaftConfig.ElectionTimeoutTicks"/>).</summary>
    /// <value>At least 2 and more than <see cref="HeartbeatTicks"/>; default 10.</value>
    public int ElectionTimeoutTicks { get; init; } = 10;

    /// <summary>The heartbeat interval in ticks (<see cref="RaftConfig.HeartbeatTicks"/>).</summary>
    /// <value>At least 1; default 1.</value>
    public int HeartbeatTicks { get; init; } = 1;

    /// <summary>Take a snapshot and compact the log every this many applied entries.</summary>
    /// <value>At least 1; default 100 000, etcd's snapshot count: a snapshot encodes the whole state machine (off the driver loop).</value>
    public int SnapshotEveryEntries { get; init; } = 100_000;

    /// <summary>Most messages queued for one peer; further messages to it are dropped (Raft resends what matters).</summary>
    /// <value>At least 1; default 4096.</value>
    public int PeerQueueMessagesMax { get; init; } = 4096;

    /// <summary>Most inputs (ticks, peer messages, requests) waiting for the driver loop; when full, requests are refused and messages dropped.</summary>
    /// <value>At least 16; default 8192.</value>
    public int InputQueueMax { get; init; } = 8192;

    /// <summary>The deadline of one forwarded call to the leader.</summary>
    /// <value>Positive; default 5 s.</value>
    public TimeSpan ForwardTimeout { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>Most proposals on this node awaiting their apply; further ones are refused with <see cref="RaftOverloadedException"/>.</summary>
    /// <value>At least 1; default 4096.</value>
    public int ProposalsPendingMax { get; init; } = 4096;

    /// <summary>Most read barriers on this node awaiting their index; further ones are refused with <see cref="RaftOverloadedException"/>.</summary>
    /// <value>At least 1; default 4096.</value>
    public int ReadsPendingMax { get; init; } = 4096;

    /// <summary>How long a peer sender waits before reconnecting at most (backoff doubles from <see cref="TickInterval"/>).</summary>
    /// <value>Positive; default 2 s.</value>
    public TimeSpan ReconnectBackoffMax { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>The remaining core settings (Id, ElectionTimeoutTicks and HeartbeatTicks are taken from this record).</summary>
    /// <value>Default <see cref="RaftConfig"/> values.</value>
    public RaftConfig Raft { get; init; } = new() { Id = 1 };

    /// <summary>The core configuration this host runs with.</summary>
    /// <returns>The Raft configuration.</returns>
    public RaftConfig ToRaftConfig() => Raft with { Id = NodeId, ElectionTimeoutTicks = ElectionTimeoutTicks, HeartbeatTicks = HeartbeatTicks };

    /// <summary>The voters a fresh storage must start with: the initial members, or none for a joining node.</summary>
    /// <returns>The bootstrap voter ids, sorted.</returns>
    public IReadOnlyList<int> BootstrapVoters() => Join ? [] : [.. (InitialMembers ?? []).Select(m => m.Id).Order()];

    /// <summary>Every problem with these options, each naming the setting, its value and what is allowed.</summary>
    /// <returns>An empty list when the options are valid.</returns>
    public IReadOnlyList<string> Problems()
    {
        var problems = new List<string>();
        var members = InitialMembers ?? [];
        if (members.Count == 0)
        {
            problems.Add("InitialMembers is empty: list every member, this one included");
        }

        var self = members.FirstOrDefault(m => m.Id == NodeId);
        if (self is null && members.Count > 0)
        {
            problems.Add($"NodeId = {NodeId}: not among InitialMembers ({string.Join(", ", members.Select(m => m.Id))})");
        }
        else if (self is not null && self.Name != Name)
        {
            problems.Add($"Name = '{Name}': InitialMembers names node {NodeId} '{self.Name}'");
        }

        if (string.IsNullOrWhiteSpace(Name))
        {
            problems.Add("Name is empty: give the member a name unique in the cluster");
        }

        AddMemberProblems(problems, members);
        if (TickInterval < TimeSpan.FromMilliseconds(1) || TickInterval > TimeSpan.FromSeconds(10))
        {
            problems.Add($"TickInterval = {TickInterval}: must be from 1 ms to 10 s");
        }

        AddIfBelow(problems, nameof(SnapshotEveryEntries), SnapshotEveryEntries, 1);
        AddIfBelow(problems, nameof(PeerQueueMessagesMax), PeerQueueMessagesMax, 1);
        AddIfBelow(problems, nameof(InputQueueMax), InputQueueMax, 16);
        AddIfBelow(problems, nameof(ProposalsPendingMax), ProposalsPendingMax, 1);
        AddIfBelow(problems, nameof(ReadsPendingMax), ReadsPendingMax, 1);
        if (ForwardTimeout <= TimeSpan.Zero)
        {
            problems.Add($"ForwardTimeout = {ForwardTimeout}: must be positive");
        }

        if (ReconnectBackoffMax <= TimeSpan.Zero)
        {
            problems.Add($"ReconnectBackoffMax = {ReconnectBackoffMax}: must be positive");
        }

        foreach (var url in (ClientUrls ?? []).Concat((PeerDialUrls ?? new Dictionary<int, string>()).Values))
        {
            if (!Uri.TryCreate(url, UriKind.Absolute, out _))
            {
                problems.Add($"URL '{url}': not an absolute URL such as http://127.0.0.1:2379");
            }
        }

        if (Raft is null)
        {
            problems.Add("Raft is null: leave it at its default or give a RaftConfig");
        }
        else
        {
            problems.AddRange(ToRaftConfig().Problems());
        }

        return problems;
    }

    /// <summary>Throws when <see cref="Problems"/> finds any, listing them all.</summary>
    /// <exception cref="ArgumentException">The options are invalid.</exception>
    public void Validate()
    {
        var problems = Problems();
        if (problems.Count > 0)
        {
            throw new ArgumentException("Invalid Raft host options: " + string.Join("; ", problems));
        }
    }

    private static void AddMemberProblems(List<string> problems, IReadOnlyList<RaftMember> members)
    {
        foreach (var group in members.GroupBy(m => m.Id).Where(g => g.Count() > 1))
        {
            problems.Add($"InitialMembers: id {group.Key} appears {group.Count()} times; ids must be unique");
        }

        foreach (var group in members.GroupBy(m => m.Name).Where(g => g.Count() > 1))
        {
            problems.Add($"InitialMembers: name '{group.Key}' appears {group.Count()} times; names must be unique");
        }

        foreach (var member in members)
        {
            if (member.Id <= 0)
            {
                problems.Add($"InitialMembers: member '{member.Name}' has id {member.Id}; ids must be positive");
            }

            if (member.PeerUrls is null || member.PeerUrls.Count == 0)
            {
                problems.Add($"InitialMembers: member {member.Id} has no peer URL; give one such as http://127.0.0.1:2380");
                continue;
            }

            foreach (var url in member.PeerUrls.Where(u => !Uri.TryCreate(u, UriKind.Absolute, out _)))
            {
                problems.Add($"InitialMembers: member {member.Id} peer URL '{url}' is not an absolute URL such as http://127.0.0.1:2380");
            }
        }
    }

    private static void AddIfBelow(List<string> problems, string name, int value, int min)
    {
        if (value < min)
        {
            problems.Add($"{name} = {value}: must be at least {min}");
        }
    }
}
