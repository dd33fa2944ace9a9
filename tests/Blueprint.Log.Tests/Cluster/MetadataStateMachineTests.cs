using Blueprint.Log.Cluster;
using Blueprint.Log.Kafka;

namespace Blueprint.Log.Tests.Cluster;

/// <summary>The cluster metadata's commands, applied as every broker applies them.</summary>
public sealed class MetadataStateMachineTests
{
    private static readonly Guid TopicId = Guid.Parse("5f1f7c1e-7d33-4c1e-9a52-0b7a3f1e2d11");

    [Fact]
    public void Create_spreads_replicas_round_robin_over_live_brokers_leader_first_and_isr_full()
    {
        var image = Apply(ThreeBrokers(), new CreateTopic("orders", TopicId, 3, 3, []));

        var partitions = image.Topics["orders"].Partitions;
        Assert.Equal(3, partitions.Length);
        Assert.All(partitions, partition => Assert.Equal(partition.Replicas, partition.Isr));
        Assert.All(partitions, partition => Assert.Equal(partition.Replicas[0], partition.Leader));
        Assert.All(partitions, partition => Assert.Equal([1, 2, 3], partition.Replicas.Order()));

        // Consecutive partitions start one broker further on, so the three leaders differ.
        Assert.Equal(3, partitions.Select(partition => partition.Leader).Distinct().Count());
        Assert.Equal(TopicId, image.Topics["orders"].Id);
    }

    [Fact]
    public void Create_refuses_a_factor_above_the_live_brokers_and_defaults_to_at_most_three()
    {
        var brokers = ThreeBrokers();
        var (_, tooMany) = MetadataStateMachine.Apply(Apply(brokers, new FenceBroker(3)), new CreateTopic("t", TopicId, 1, 3, []));
        Assert.Equal(ErrorCode.InvalidReplicationFactor, tooMany.Error);

        var image = Apply(Apply(brokers, new FenceBroker(3)), new CreateTopic("t", TopicId, 1, -1, []));
        Assert.Equal(2, image.Topics["t"].Partitions[0].Replicas.Length);
        Assert.DoesNotContain(3, image.Topics["t"].Partitions[0].Replicas);

        var (_, again) = MetadataStateMachine.Apply(image, new CreateTopic("t", Guid.NewGuid(), 1, 1, []));
        Assert.Equal(ErrorCode.TopicAlreadyExists, again.Error);
    }

    [Fact]
    public void Fencing_the_leader_elects_the_next_live_isr_member_and_bumps_the_epoch()
    {
        var image = Apply(ThreeBrokers(), new CreateTopic("t", TopicId, 1, 3, []));
        var before = image.Topics["t"].Partitions[0];

        image = Apply(image, new FenceBroker(before.Leader));

        var after = image.Topics["t"].Partitions[0];
        Assert.Equal(before.Isr.First(replica => replica != before.Leader), after.Leader);
        Assert.Equal(before.LeaderEpoch + 1, after.LeaderEpoch);
        Assert.DoesNotContain(before.Leader, after.Isr);
        Assert.Equal(before.Replicas, after.Replicas);
        Assert.True(image.Brokers[before.Leader].Fenced);
    }

    [Fact]
    public void The_last_isr_member_stays_in_it_the_partition_goes_offline_and_comes_back_only_with_it()
    {
        var image = Apply(ThreeBrokers(), new CreateTopic("t", TopicId, 1, 3, []));
        var replicas = image.Topics["t"].Partitions[0].Replicas;

        // Fence the followers first, then the leader: the leader is the last in sync.
        image = Apply(image, new FenceBroker(replicas[1]));
        image = Apply(image, new FenceBroker(replicas[2]));
        Assert.Equal([replicas[0]], image.Topics["t"].Partitions[0].Isr);
        image = Apply(image, new FenceBroker(replicas[0]));
        var offline = image.Topics["t"].Partitions[0];
        Assert.Equal(-1, offline.Leader);
        Assert.Equal([replicas[0]], offline.Isr);

        // A replica that was out of sync must not lead (no unclean election); the last in-sync one may.
        image = Apply(image, new RegisterBroker(replicas[1], "127.0.0.1", 9102));
        Assert.Equal(-1, image.Topics["t"].Partitions[0].Leader);
        image = Apply(image, new RegisterBroker(replicas[0], "127.0.0.1", 9092));
        Assert.Equal(replicas[0], image.Topics["t"].Partitions[0].Leader);
        Assert.Equal(offline.LeaderEpoch + 1, image.Topics["t"].Partitions[0].LeaderEpoch);
    }

    [Fact]
    public void Alter_partition_is_taken_only_from_the_current_leader_in_its_epoch()
    {
        var image = Apply(ThreeBrokers(), new CreateTopic("t", TopicId, 1, 3, []));
        var partition = image.Topics["t"].Partitions[0];
        var follower = partition.Replicas[1];
        var shrunk = partition.Isr.Where(replica => replica != follower).ToArray();

        var (_, stale) = MetadataStateMachine.Apply(image, new AlterPartition("t", 0, partition.Leader, partition.LeaderEpoch - 1, shrunk));
        Assert.Equal(ErrorCode.FencedLeaderEpoch, stale.Error);
        var (_, notLeader) = MetadataStateMachine.Apply(image, new AlterPartition("t", 0, follower, partition.LeaderEpoch, shrunk));
        Assert.Equal(ErrorCode.FencedLeaderEpoch, notLeader.Error);
        var (_, withoutLeader) = MetadataStateMachine.Apply(image, new AlterPartition("t", 0, partition.Leader, partition.LeaderEpoch, [follower]));
        Assert.Equal(ErrorCode.InvalidRequest, withoutLeader.Error);

        var (altered, ok) = MetadataStateMachine.Apply(image, new AlterPartition("t", 0, partition.Leader, partition.LeaderEpoch, shrunk));
        Assert.Equal(ErrorCode.None, ok.Error);
        Assert.Equal(shrunk.Order(), altered.Topics["t"].Partitions[0].Isr);
        Assert.Equal(partition.LeaderEpoch, altered.Topics["t"].Partitions[0].LeaderEpoch);

        // A fenced broker cannot come back into the ISR until it registers again.
        altered = Apply(altered, new FenceBroker(follower));
        var (_, fencedJoin) = MetadataStateMachine.Apply(altered, new AlterPartition("t", 0, partition.Leader, partition.LeaderEpoch, [.. shrunk, follower]));
        Assert.Equal(ErrorCode.InvalidRequest, fencedJoin.Error);
    }

    [Fact]
    public void Commands_travel_as_bytes_and_the_snapshot_restores_the_same_image()
    {
        var machine = new MetadataStateMachine();
        long index = 0;
        foreach (var command in new MetadataCommand[]
        {
            new RegisterBroker(1, "127.0.0.1", 9092), new RegisterBroker(2, "127.0.0.1", 9102), new RegisterBroker(3, "127.0.0.1", 9112),
            new CreateTopic("a", TopicId, 2, 3, new Dictionary<string, string> { ["cleanup.policy"] = "compact" }),
            new FenceBroker(2), new DeleteTopic("missing"),
            new CommitOffsets("g", [new GroupOffset("g", "a", 1, 42, -1, "m"), new GroupOffset("other", "a", 0, 7, -1, "")]),
        })
        {
            machine.Apply(++index, command.Encode());
        }

        var (_, deleteMissing) = MetadataStateMachine.Apply(machine.Image, new DeleteTopic("missing"));
        Assert.Equal(ErrorCode.UnknownTopicOrPartition, deleteMissing.Error);
        Assert.Equal(7, machine.Image.AppliedIndex);

        // A commit names its own group only; deleting the topic forgets its offsets.
        Assert.Equal(42, Assert.Single(machine.Image.Offsets.Values).Offset);
        Assert.Empty(Apply(machine.Image, new DeleteTopic("a")).Offsets);

        var restored = new MetadataStateMachine();
        restored.Restore(machine.TakeSnapshot());
        Assert.Equal(machine.Image.Brokers.Values, restored.Image.Brokers.Values);
        var original = machine.Image.Topics["a"];
        var copy = restored.Image.Topics["a"];
        Assert.Equal(original.Id, copy.Id);
        Assert.Equal("compact", copy.Configs["cleanup.policy"]);
        Assert.Equal(machine.Image.Offsets[("g", "a", 1)], restored.Image.Offsets[("g", "a", 1)]);
        Assert.Equal(original.Partitions.Select(p => (p.Leader, p.LeaderEpoch, string.Join(",", p.Replicas), string.Join(",", p.Isr))), copy.Partitions.Select(p => (p.Leader, p.LeaderEpoch, string.Join(",", p.Replicas), string.Join(",", p.Isr))));
    }

    [Fact]
    public void An_unreadable_command_is_answered_not_thrown()
    {
        var machine = new MetadataStateMachine();
        var result = MetadataResult.Decode(machine.Apply(1, "{not json"u8.ToArray()));
        Assert.Equal(ErrorCode.InvalidRequest, result.Error);
        Assert.Equal(1, machine.Image.AppliedIndex);
    }

    private static MetadataImage ThreeBrokers() =>
        Apply(Apply(Apply(MetadataImage.Empty, new RegisterBroker(1, "127.0.0.1", 9092)), new RegisterBroker(2, "127.0.0.1", 9102)), new RegisterBroker(3, "127.0.0.1", 9112));

    private static MetadataImage Apply(MetadataImage image, MetadataCommand command)
    {
        var (next, result) = MetadataStateMachine.Apply(image, command);
        Assert.Equal(ErrorCode.None, result.Error);
        return next;
    }
}
