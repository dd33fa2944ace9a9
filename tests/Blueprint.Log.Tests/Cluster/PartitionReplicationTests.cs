using System.Collections.Immutable;
using Blueprint.Log.Broker;
using Blueprint.Log.Kafka;
using Blueprint.Log.Storage;
using Blueprint.Log.Tests.Storage;

namespace Blueprint.Log.Tests.Cluster;

/// <summary>A leading partition's high watermark and ISR bookkeeping, driven by its followers' fetch offsets.</summary>
public sealed class PartitionReplicationTests
{
    private static readonly TimeSpan Lag = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task The_high_watermark_is_the_smallest_end_among_the_isr_and_acks_all_waits_for_it()
    {
        await using var harness = LogHarness.Open();
        var partition = Lead(harness, isr: [1, 2, 3]);

        var appended = await partition.AppendAsync(Batches.Values(harness.NowMs, "a", "b", "c"), Batches.Cancel);
        Assert.Equal(2, appended.LastOffset);
        Assert.Equal(0, partition.HighWatermark);
        var committed = partition.WaitCommittedAsync(appended.LastOffset, Batches.Cancel).AsTask();

        partition.RecordFollowerFetch(2, 3, harness.Time.GetUtcNow());
        Assert.Equal(0, partition.HighWatermark);
        Assert.False(committed.IsCompleted);

        partition.RecordFollowerFetch(3, 2, harness.Time.GetUtcNow());
        Assert.Equal(2, partition.HighWatermark);
        Assert.False(committed.IsCompleted);

        partition.RecordFollowerFetch(3, 3, harness.Time.GetUtcNow());
        Assert.Equal(3, partition.HighWatermark);
        Assert.True(await committed);
    }

    [Fact]
    public async Task A_follower_outside_the_isr_does_not_hold_the_high_watermark_back_and_may_join_once_caught_up()
    {
        await using var harness = LogHarness.Open();
        var partition = Lead(harness, isr: [1, 2]);
        await partition.AppendAsync(Batches.Values(harness.NowMs, "a", "b"), Batches.Cancel);

        partition.RecordFollowerFetch(2, 2, harness.Time.GetUtcNow());
        Assert.Equal(2, partition.HighWatermark);

        // Broker 3, out of the ISR, is behind: it holds nothing back, and may not join yet.
        Assert.False(partition.RecordFollowerFetch(3, 0, harness.Time.GetUtcNow()));
        Assert.Equal(2, partition.HighWatermark);

        // Broker 3 has reached the high watermark: the leader may propose it back into the ISR.
        Assert.True(partition.RecordFollowerFetch(3, 2, harness.Time.GetUtcNow()));
    }

    [Fact]
    public async Task A_follower_that_keeps_up_with_the_end_as_of_its_last_fetch_stays_in_sync_one_that_stops_fetching_lags()
    {
        await using var harness = LogHarness.Open();
        var partition = Lead(harness, isr: [1, 2, 3]);
        var time = harness.Time;

        // Steady produce: each fetch reaches the end the previous fetch saw, never the end now.
        for (var round = 0; round < 20; round++)
        {
            await partition.AppendAsync(Batches.Values(harness.NowMs, "x"), Batches.Cancel);
            partition.RecordFollowerFetch(2, partition.Log.LogEndOffset - 1, time.GetUtcNow());
            time.Advance(TimeSpan.FromSeconds(1));
        }

        // Broker 3 fetched once at the start, then went silent.
        Assert.Equal([3], partition.LaggingFollowers(time.GetUtcNow(), Lag));
        partition.RecordFollowerFetch(3, partition.Log.LogEndOffset, time.GetUtcNow());
        Assert.Empty(partition.LaggingFollowers(time.GetUtcNow(), Lag));
    }

    [Fact]
    public async Task A_follower_refuses_produce_and_a_deposed_leader_answers_acks_all_waiters()
    {
        await using var harness = LogHarness.Open();
        var partition = Lead(harness, isr: [1, 2]);
        var appended = await partition.AppendAsync(Batches.Values(harness.NowMs, "a"), Batches.Cancel);
        var committed = partition.WaitCommittedAsync(appended.LastOffset, Batches.Cancel).AsTask();

        partition.SetRole(new PartitionRole(2, 1, [1, 2], [2]), harness.Time.GetUtcNow());

        Assert.False(await committed);
        var refused = await Assert.ThrowsAsync<RecordRejectedException>(async () => await partition.AppendAsync(Batches.Values(harness.NowMs, "b"), Batches.Cancel));
        Assert.Equal(ErrorCode.NotLeaderOrFollower, refused.Code);
    }

    private static Partition Lead(LogHarness harness, ImmutableArray<int> isr)
    {
        var topic = new Topic("t", Guid.NewGuid(), new Dictionary<string, string>(), harness.Config);
        var partition = new Partition(topic, 0, harness.Log, self: 1, clustered: true);
        partition.SetRole(new PartitionRole(1, 0, [1, 2, 3], isr), harness.Time.GetUtcNow());
        return partition;
    }
}
