namespace Blueprint.Kv.Cluster;

/// <summary>One step the cluster agent takes on one of this node's servers.</summary>
/// <param name="On">The server that runs the command (this node's primary or replica).</param>
internal abstract record ClusterAction(ClusterEndpoint On)
{
    /// <summary>The command's arguments after its name.</summary>
    public abstract object[] Arguments { get; }
}

/// <summary><c>CLUSTER MEET host port</c>: introduces a server to the cluster.</summary>
internal sealed record MeetAction(ClusterEndpoint On, ClusterEndpoint Target) : ClusterAction(On)
{
    public override object[] Arguments => ["MEET", Target.Host, Target.Port];
}

/// <summary><c>CLUSTER ADDSLOTSRANGE start end</c>: the server claims its share of the slots.</summary>
internal sealed record AddSlotsAction(ClusterEndpoint On, SlotRange Range) : ClusterAction(On)
{
    public override object[] Arguments => ["ADDSLOTSRANGE", Range.Start, Range.End];
}

/// <summary><c>CLUSTER REPLICATE id</c>: the server follows a primary.</summary>
internal sealed record ReplicateAction(ClusterEndpoint On, string PrimaryId) : ClusterAction(On)
{
    public override object[] Arguments => ["REPLICATE", PrimaryId];
}

/// <summary><c>CLUSTER FAILOVER TAKEOVER</c>: the replica takes its unreachable primary's slots.</summary>
internal sealed record TakeoverAction(ClusterEndpoint On, string FailedPrimaryId) : ClusterAction(On)
{
    public override object[] Arguments => ["FAILOVER", "TAKEOVER"];
}

/// <summary>What the cluster agent saw in one look.</summary>
/// <param name="Members">The primaries the cluster was formed with, in order (<c>Kv:ClusterMembers</c>).</param>
/// <param name="Primary">This node's primary server.</param>
/// <param name="Replica">This node's replica server, if it runs one.</param>
/// <param name="Views">The <c>CLUSTER NODES</c> of every server that answered.</param>
/// <param name="Unreachable">The servers this node has not reached for at least the node timeout.</param>
internal sealed record ClusterObservation(
    IReadOnlyList<ClusterEndpoint> Members,
    ClusterEndpoint Primary,
    ClusterEndpoint? Replica,
    IReadOnlyDictionary<ClusterEndpoint, IReadOnlyList<KvClusterNode>> Views,
    IReadOnlySet<ClusterEndpoint> Unreachable);

/// <summary>
/// The part Garnet's cluster mode lacks, as pure decisions: forming the cluster without manual commands, attaching
/// replicas, and automatic failover. Garnet serves CLUSTER MEET, ADDSLOTSRANGE, REPLICATE and FAILOVER TAKEOVER and
/// gossips the result, but detects no failure on its own (it marks a dead link, and nothing takes over). Each node's agent
/// applies these rules to what it sees, every few hundred milliseconds:
/// <list type="number">
/// <item>its primary meets every member (and its own replica) it does not know yet;</item>
/// <item>member i's primary claims the i-th of N equal slot ranges when it serves no slot and a majority of the members
/// answered without any of them naming an owner of that range; if another server owns it (a replica took over while
/// this node was down), the primary becomes that server's replica instead, as a returning Redis primary does;</item>
/// <item>its replica follows the server that owns the next member's range, unless that server is on this node;</item>
/// <item>its replica takes the slots over (FAILOVER TAKEOVER) when this node has not reached the primary it follows for
/// the node timeout and a majority of the members see that primary's link down or flag it failing: a primary cut off
/// from its replica alone is not replaced (no split brain from one node's view).</item>
/// </list>
/// Written by hand because this is the subject (the cluster's control plane); the servers are Garnet's.
/// </summary>
internal static class ClusterPlanner
{
    public static IReadOnlyList<ClusterAction> Decide(ClusterObservation observation)
    {
        ArgumentNullException.ThrowIfNull(observation);
        var actions = new List<ClusterAction>();
        if (!observation.Views.TryGetValue(observation.Primary, out var mine) || mine.FirstOrDefault(node => node.Myself) is not { } me)
        {
            return actions;
        }

        var members = observation.Members;
        var index = IndexOf(members, observation.Primary);
        foreach (var target in members.Append(observation.Replica ?? observation.Primary))
        {
            if (target != observation.Primary && !mine.Any(node => node.Endpoint == target))
            {
                actions.Add(new MeetAction(observation.Primary, target));
            }
        }

        if (index >= 0 && me.IsPrimary && me.Slots.Count == 0)
        {
            var range = SlotRange.Share(index, members.Count);
            var owner = OwnerOf(range, observation.Views.Values.SelectMany(view => view));
            if (owner is null)
            {
                var answered = members.Count(observation.Views.ContainsKey);
                if (answered * 2 > members.Count)
                {
                    actions.Add(new AddSlotsAction(observation.Primary, range));
                }
            }
            else if (owner.Id != me.Id && mine.Any(node => node.Id == owner.Id))
            {
                actions.Add(new ReplicateAction(observation.Primary, owner.Id));
            }
        }

        if (observation.Replica is { } replica && index >= 0)
        {
            PlanReplica(observation, replica, index, actions);
        }

        return actions;
    }

    private static void PlanReplica(ClusterObservation observation, ClusterEndpoint replica, int index, List<ClusterAction> actions)
    {
        if (!observation.Views.TryGetValue(replica, out var view) || view.FirstOrDefault(node => node.Myself) is not { } self)
        {
            return;
        }

        if (!view.Any(node => node.Endpoint == observation.Primary))
        {
            actions.Add(new MeetAction(replica, observation.Primary));
            return;
        }

        if (self.IsPrimary && self.Slots.Count > 0)
        {
            return; // it took its primary's slots over: a primary now
        }

        var members = observation.Members;
        var range = SlotRange.Share((index + 1) % members.Count, members.Count);
        // After a rebalance several primaries share the range: keep following the one followed, else the largest share.
        var owners = view.Where(node => node.IsPrimary && node.Slots.Any(slots => slots.Overlaps(range))).ToList();
        var owner = owners.FirstOrDefault(node => node.Id == self.PrimaryId)
            ?? owners.MaxBy(node => node.Slots.Sum(slots => slots.Overlaps(range) ? Math.Min(slots.End, range.End) - Math.Max(slots.Start, range.Start) + 1 : 0));
        if (owner is null || owner.Endpoint == observation.Primary || owner.Endpoint == replica)
        {
            return;
        }

        if (self.PrimaryId != owner.Id)
        {
            actions.Add(new ReplicateAction(replica, owner.Id));
            return;
        }

        if (!observation.Unreachable.Contains(owner.Endpoint))
        {
            return;
        }

        var witnesses = members.Where(member => member != owner.Endpoint).ToList();
        var votes = witnesses.Count(member => observation.Views.TryGetValue(member, out var seen)
            && seen.FirstOrDefault(node => node.Id == owner.Id) is { SeemsUp: false });
        if (votes * 2 > members.Count)
        {
            actions.Add(new TakeoverAction(replica, owner.Id));
        }
    }

    /// <summary>The primary serving any slot of <paramref name="range"/>, as the given lines say (a later epoch wins in Garnet's gossip; any owner will do here).</summary>
    private static KvClusterNode? OwnerOf(SlotRange range, IEnumerable<KvClusterNode> nodes) =>
        nodes.FirstOrDefault(node => node.IsPrimary && node.Slots.Any(slots => slots.Overlaps(range)));

    private static int IndexOf(IReadOnlyList<ClusterEndpoint> members, ClusterEndpoint endpoint)
    {
        for (var i = 0; i < members.Count; i++)
        {
            if (members[i] == endpoint)
            {
                return i;
            }
        }

        return -1;
    }
}
