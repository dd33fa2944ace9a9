using Blueprint.Kv.Cluster;

namespace Blueprint.Kv.Tests.Cluster;

/// <summary>The cluster agent's decisions on views written by hand, including the ones that must not fail over.</summary>
public sealed class ClusterPlannerTests
{
    private static readonly ClusterEndpoint P1 = new("127.0.0.1", 7001);
    private static readonly ClusterEndpoint P2 = new("127.0.0.1", 7011);
    private static readonly ClusterEndpoint P3 = new("127.0.0.1", 7021);
    private static readonly ClusterEndpoint R1 = new("127.0.0.1", 7002);
    private static readonly ClusterEndpoint[] Members = [P1, P2, P3];

    [Fact]
    public void ParseNodes_ReadsGarnetsLines()
    {
        var nodes = KvClusterNode.ParseNodes(
            "fd9c 127.0.0.1:7001@17001,vm myself,master - 0 0 0 connected 0-5460\n" +
            "34cc 127.0.0.1:7003@17003,vm master - 1 0 1 disconnected 10923-16383 9000\n" +
            "1054 127.0.0.1:7004@17004,vm slave fd9c 1 0 1 connected\n");
        Assert.Equal(3, nodes.Count);
        Assert.True(nodes[0].Myself && nodes[0].IsPrimary && nodes[0].SlotCount == 5461);
        Assert.False(nodes[1].SeemsUp);
        Assert.Equal(5462, nodes[1].SlotCount);
        Assert.Equal("fd9c", nodes[2].PrimaryId);
    }

    [Fact]
    public void Share_SplitsEverySlotOnce()
    {
        var ranges = Enumerable.Range(0, 3).Select(i => SlotRange.Share(i, 3)).ToList();
        Assert.Equal(new SlotRange(0, 5460), ranges[0]);
        Assert.Equal(16_384, ranges.Sum(range => range.Count));
        Assert.All(ranges.Zip(ranges.Skip(1)), pair => Assert.Equal(pair.First.End + 1, pair.Second.Start));
    }

    [Fact]
    public void FreshMember_MeetsTheOthers_AndClaimsItsRange_OnceAMajorityAnswered()
    {
        var alone = View(Node("a", P1, myself: true));
        var views = new Dictionary<ClusterEndpoint, IReadOnlyList<KvClusterNode>> { [P1] = alone };
        var actions = ClusterPlanner.Decide(new ClusterObservation(Members, P1, null, views, new HashSet<ClusterEndpoint>()));
        Assert.Equal([new MeetAction(P1, P2), new MeetAction(P1, P3)], actions.OfType<MeetAction>());
        Assert.Empty(actions.OfType<AddSlotsAction>()); // only 1 of 3 answered: it might be a returning primary whose range moved

        views[P2] = View(Node("b", P2, myself: true));
        actions = ClusterPlanner.Decide(new ClusterObservation(Members, P1, null, views, new HashSet<ClusterEndpoint>()));
        Assert.Equal(new AddSlotsAction(P1, new SlotRange(0, 5460)), Assert.Single(actions.OfType<AddSlotsAction>()));
    }

    [Fact]
    public void ReturningPrimary_WhoseRangeWasTaken_BecomesTheNewOwnersReplica()
    {
        var newOwner = Node("r3", new ClusterEndpoint("127.0.0.1", 7022), slots: [new SlotRange(0, 5460)]);
        var views = new Dictionary<ClusterEndpoint, IReadOnlyList<KvClusterNode>>
        {
            [P1] = View(Node("a", P1, myself: true), Node("b", P2), Node("c", P3), newOwner),
            [P2] = View(Node("b", P2, myself: true), newOwner with { Myself = false }),
        };
        var actions = ClusterPlanner.Decide(new ClusterObservation(Members, P1, null, views, new HashSet<ClusterEndpoint>()));
        Assert.Equal(new ReplicateAction(P1, "r3"), Assert.Single(actions));
    }

    [Fact]
    public void Replica_TakesOver_OnlyWhenAMajorityOfMembersSeeThePrimaryDown()
    {
        // Node 1's replica server follows member 2's primary; this node cannot reach it.
        var p2 = Node("b", P2, slots: [SlotRange.Share(1, 3)]);
        var replicaView = View(Node("r1", R1, myself: true, primaryId: "b"), p2, Node("a", P1, slots: [SlotRange.Share(0, 3)]));
        var unreachable = new HashSet<ClusterEndpoint> { P2 };

        // Member 3 still sees member 2 up: a partition between this node and member 2 only. No takeover.
        var views = new Dictionary<ClusterEndpoint, IReadOnlyList<KvClusterNode>>
        {
            [P1] = View(Node("a", P1, myself: true, slots: [SlotRange.Share(0, 3)]), p2 with { Connected = false }, Node("c", P3, slots: [SlotRange.Share(2, 3)]), Node("r1", R1, primaryId: "b")),
            [P3] = View(Node("c", P3, myself: true, slots: [SlotRange.Share(2, 3)]), p2),
            [R1] = replicaView,
        };
        Assert.Empty(ClusterPlanner.Decide(new ClusterObservation(Members, P1, R1, views, unreachable)).OfType<TakeoverAction>());

        // Member 3 sees it down too: two of three members. Takeover.
        views[P3] = View(Node("c", P3, myself: true, slots: [SlotRange.Share(2, 3)]), p2 with { Connected = false });
        Assert.Equal(new TakeoverAction(R1, "b"), Assert.Single(ClusterPlanner.Decide(new ClusterObservation(Members, P1, R1, views, unreachable)).OfType<TakeoverAction>()));

        // This node still reaches member 2 (not past the node timeout): no takeover whatever the others say.
        Assert.Empty(ClusterPlanner.Decide(new ClusterObservation(Members, P1, R1, views, new HashSet<ClusterEndpoint>())).OfType<TakeoverAction>());
    }

    [Fact]
    public void Replica_FollowsTheNextMembersPrimary()
    {
        var p2 = Node("b", P2, slots: [SlotRange.Share(1, 3)]);
        var views = new Dictionary<ClusterEndpoint, IReadOnlyList<KvClusterNode>>
        {
            [P1] = View(Node("a", P1, myself: true, slots: [SlotRange.Share(0, 3)]), p2, Node("c", P3), Node("r1", R1)),
            [R1] = View(Node("r1", R1, myself: true), p2, Node("a", P1, slots: [SlotRange.Share(0, 3)])),
        };
        var actions = ClusterPlanner.Decide(new ClusterObservation(Members, P1, R1, views, new HashSet<ClusterEndpoint>()));
        Assert.Equal(new ReplicateAction(R1, "b"), Assert.Single(actions));
    }

    [Fact]
    public void Rebalance_GivesAnAddedPrimaryAnEqualShare_MovingOnlyWhatItNeeds()
    {
        var primaries = Enumerable.Range(0, 3).Select(i => Node(((char)('a' + i)).ToString(), Members[i], slots: [SlotRange.Share(i, 3)]))
            .Append(Node("d", new ClusterEndpoint("127.0.0.1", 7031)))
            .ToList();
        var moves = SlotRebalancer.Plan(primaries);
        Assert.All(moves, move => Assert.Equal("d", move.To.Id));
        Assert.All(moves, move => Assert.InRange(move.Range.Count, 1, SlotRebalancer.MaxRangeSize));
        Assert.Equal(4_096, moves.Sum(move => move.Range.Count));
        foreach (var donor in primaries.Take(3))
        {
            var given = moves.Where(move => move.From.Id == donor.Id).Sum(move => move.Range.Count);
            Assert.Equal(donor.SlotCount - 4_096, given);
        }

        var after = primaries.Select(node => node with
        {
            Slots = [.. node.Slots.SelectMany(range => Enumerable.Range(range.Start, range.Count))
                .Where(slot => !moves.Any(move => move.From.Id == node.Id && slot >= move.Range.Start && slot <= move.Range.End))
                .Concat(moves.Where(move => move.To.Id == node.Id).SelectMany(move => Enumerable.Range(move.Range.Start, move.Range.Count)))
                .Select(slot => new SlotRange(slot, slot))],
        }).ToList();
        Assert.Empty(SlotRebalancer.Plan(after));
    }

    private static IReadOnlyList<KvClusterNode> View(params KvClusterNode[] nodes) => nodes;

    private static KvClusterNode Node(string id, ClusterEndpoint endpoint, bool myself = false, string? primaryId = null, IReadOnlyList<SlotRange>? slots = null) =>
        new(id, endpoint, myself, primaryId is null, primaryId, Failing: false, Connected: true, slots ?? []);
}
