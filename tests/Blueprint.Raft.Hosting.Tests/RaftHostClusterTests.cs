using System.Text;
using Blueprint.Raft.Hosting;

namespace Blueprint.Raft.Hosting.Tests;

public sealed class RaftHostClusterTests
{
    private static CancellationToken Timeout(double seconds = 10)
    {
        var cts = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        cts.CancelAfter(TimeSpan.FromSeconds(seconds));
        return cts.Token;
    }

    private static string Text(byte[] bytes) => Encoding.UTF8.GetString(bytes);

    [Fact]
    public async Task Cluster_LeaderElected_ProposalsAppliedOnAllNodes()
    {
        await using var cluster = await TestCluster.StartAsync(3);
        var leader = await cluster.WaitForLeaderAsync();

        for (int i = 0; i < 20; i++)
        {
            Assert.Equal("", Text(await leader.Host!.ProposeAsync(KvStateMachine.Set($"k{i}", $"v{i}"), Timeout())));
        }

        Assert.Equal("v19", Text(await leader.Host!.ProposeAsync(KvStateMachine.Set("k19", "w"), Timeout())));
        await cluster.WaitForAppliedAsync(leader.Host.AppliedIndex);
        foreach (var node in cluster.Nodes)
        {
            Assert.Equal("v0", node.Machine.Read("k0"));
            Assert.Equal("w", node.Machine.Read("k19"));
            Assert.Equal(20, node.Machine.Count);
            Assert.Equal(leader.Host.ClusterId, node.Host!.ClusterId);
        }
    }

    [Fact]
    public async Task Propose_OnFollower_ForwardedAndReturnsLeadersResult()
    {
        await using var cluster = await TestCluster.StartAsync(3);
        var leader = await cluster.WaitForLeaderAsync();
        var follower = cluster.Nodes.First(n => n != leader);

        Assert.Equal("", Text(await follower.Host!.ProposeAsync(KvStateMachine.Set("x", "1"), Timeout())));
        Assert.Equal("1", Text(await follower.Host.ProposeAsync(KvStateMachine.Set("x", "2"), Timeout())));
        Assert.Equal("2", Text(await follower.Host.ProposeAsync(KvStateMachine.Get("x"), Timeout())));
        Assert.Equal("2", leader.Machine.Read("x"));
    }

    [Fact]
    public async Task ReadIndex_OnFollowerAfterAcknowledgedWrite_SeesTheWrite()
    {
        await using var cluster = await TestCluster.StartAsync(3);
        var leader = await cluster.WaitForLeaderAsync();
        var follower = cluster.Nodes.First(n => n != leader);

        for (int i = 0; i < 10; i++)
        {
            await leader.Host!.ProposeAsync(KvStateMachine.Set("counter", i.ToString(System.Globalization.CultureInfo.InvariantCulture)), Timeout());
            await follower.Host!.ReadIndexAsync(Timeout());
            Assert.Equal(i.ToString(System.Globalization.CultureInfo.InvariantCulture), follower.Machine.Read("counter"));
        }
    }

    [Fact]
    public async Task Leader_WhileItsOwnDiskWriteWaits_FollowersAlreadyStoreTheEntry()
    {
        await using var cluster = await TestCluster.StartAsync(3);
        var leader = await cluster.WaitForLeaderAsync();
        await leader.Host!.ProposeAsync(KvStateMachine.Set("k", "1"), Timeout());
        var followers = cluster.Nodes.Where(n => n != leader).ToList();
        long next = leader.Gate!.Inner.LastIndex + 1;

        leader.Gate.Close();
        var write = leader.Host.ProposeAsync(KvStateMachine.Set("k", "2"), Timeout(30));
        try
        {
            // The leader's loop is held inside its own write, yet its append went out first (thesis §10.2.1).
            await Wait.UntilAsync(() => leader.Gate.Waiting == 1, "the leader's write reaches the closed gate");
            foreach (var follower in followers)
            {
                await Wait.UntilAsync(() => follower.Storage.LastIndex >= next, $"follower {follower.Id} stores index {next} while the leader's write waits");
            }

            // Acknowledgements are handled only after the leader's write: nothing commits before the leader holds it.
            Assert.False(write.IsCompleted);
            Assert.True(leader.Storage.LastIndex < next);
        }
        finally
        {
            leader.Gate.Open();
        }

        Assert.Equal("1", Text(await write));
        Assert.True(leader.Storage.LastIndex >= next);
    }

    [Fact]
    public async Task ReadIndex_ManyConcurrentReads_ShareRoundsAndSeeEarlierWrites()
    {
        await using var cluster = await TestCluster.StartAsync(3);
        var leader = await cluster.WaitForLeaderAsync();
        var follower = cluster.Nodes.First(n => n != leader);
        await leader.Host!.ProposeAsync(KvStateMachine.Set("r", "1"), Timeout());

        foreach (var node in new[] { leader, follower })
        {
            long before = node.Host!.ReadRounds;
            var reads = Enumerable.Range(0, 200).Select(_ => node.Host.ReadIndexAsync(Timeout())).ToList();
            await Task.WhenAll(reads);
            long rounds = node.Host.ReadRounds - before;
            Assert.InRange(rounds, 1, 100);
            Assert.Equal("1", node.Machine.Read("r"));
        }
    }

    [Fact]
    public async Task LeaderStopped_NewLeaderElected_WritesContinue()
    {
        await using var cluster = await TestCluster.StartAsync(3);
        var leader = await cluster.WaitForLeaderAsync();
        await leader.Host!.ProposeAsync(KvStateMachine.Set("before", "1"), Timeout());
        long oldTerm = leader.Host.Term;

        await leader.StopAsync();
        var survivors = cluster.Nodes.Where(n => n != leader).ToList();
        var next = await cluster.WaitForLeaderAsync(survivors);

        Assert.NotEqual(leader.Id, next.Id);
        Assert.True(next.Host!.Term > oldTerm, $"term {next.Host.Term} after {oldTerm}");
        var follower = survivors.First(n => n != next);
        await follower.Host!.ProposeAsync(KvStateMachine.Set("after", "2"), Timeout());
        await cluster.WaitForAppliedAsync(next.Host.AppliedIndex, survivors);
        Assert.All(survivors, n => Assert.Equal("1", n.Machine.Read("before")));
        Assert.All(survivors, n => Assert.Equal("2", n.Machine.Read("after")));
    }

    [Fact]
    public async Task RestartedNode_FromItsStorage_CatchesUp()
    {
        await using var cluster = await TestCluster.StartAsync(3);
        var leader = await cluster.WaitForLeaderAsync();
        var lagging = cluster.Nodes.First(n => n != leader);
        await leader.Host!.ProposeAsync(KvStateMachine.Set("a", "1"), Timeout());
        await cluster.WaitForAppliedAsync(leader.Host.AppliedIndex);
        await lagging.StopAsync();

        for (int i = 0; i < 10; i++)
        {
            await leader.Host.ProposeAsync(KvStateMachine.Set($"b{i}", "2"), Timeout());
        }

        await lagging.RestartAsync();

        // The restart re-applies what the storage held before it hears from anyone.
        Assert.Equal("1", lagging.Machine.Read("a"));
        await cluster.WaitForAppliedAsync(leader.Host.AppliedIndex, [lagging]);
        Assert.Equal(11, lagging.Machine.Count);
        Assert.Equal(0, lagging.Machine.RestoresWithData);
    }

    [Fact]
    public async Task LaggingNode_AfterLeaderCompacts_ReceivesSnapshot()
    {
        await using var cluster = await TestCluster.StartAsync(3, configure: o => o with { SnapshotEveryEntries = o.NodeId == 3 ? 10_000 : 5 });
        var leader = await cluster.WaitForLeaderAsync();
        if (leader.Id == 3)
        {
            await leader.Host!.TransferLeadershipAsync(1, Timeout());
            leader = await cluster.WaitForLeaderAsync();
            Assert.NotEqual(3, leader.Id);
        }

        var lagging = cluster[3];
        await lagging.StopAsync();
        for (int i = 0; i < 30; i++)
        {
            await leader.Host!.ProposeAsync(KvStateMachine.Set($"k{i}", $"{i}"), Timeout());
        }

        Assert.True(leader.Host!.SnapshotIndex > lagging.Storage.LastIndex, $"leader compacted to {leader.Host.SnapshotIndex}, lagging node holds up to {lagging.Storage.LastIndex}");
        await lagging.RestartAsync();
        await cluster.WaitForAppliedAsync(leader.Host.AppliedIndex, [lagging]);

        Assert.True(lagging.Machine.RestoresWithData >= 1, "the lagging node installs the leader's snapshot");
        Assert.Equal(30, lagging.Machine.Count);
        Assert.Equal("29", lagging.Machine.Read("k29"));
        Assert.True(lagging.Storage.Snapshot.Metadata.Index > 0);
        Assert.Equal(cluster.Nodes.Select(n => n.Id), lagging.Host!.Members.Select(m => m.Id));
    }

    [Fact]
    public async Task Members_AfterStart_PublishClientUrls()
    {
        await using var cluster = await TestCluster.StartAsync(3);
        await cluster.WaitForLeaderAsync();
        foreach (var node in cluster.Nodes)
        {
            await Wait.UntilAsync(
                () => node.Host!.Members.All(m => m.ClientUrls.SequenceEqual(cluster[m.Id].Options.ClientUrls)),
                $"node {node.Id} lists every member's client URLs");
        }

        Assert.Equal(["n1", "n2", "n3"], cluster[2].Host!.Members.Select(m => m.Name));
    }

    [Fact]
    public async Task AddMember_FourthNodeJoins_ReceivesDataAndVotes_ThenRemoveStopsIt()
    {
        await using var cluster = await TestCluster.StartAsync(3);
        var leader = await cluster.WaitForLeaderAsync();
        for (int i = 0; i < 5; i++)
        {
            await leader.Host!.ProposeAsync(KvStateMachine.Set($"k{i}", "v"), Timeout());
        }

        var joiner = await cluster.AddServerAsync(4);
        var follower = cluster.Nodes.First(n => n != leader && n != joiner);
        var added = await follower.Host!.AddMemberAsync("n4", [joiner.PeerUrl], Timeout());
        Assert.Equal(4, added.Id);

        joiner.Options = TestCluster.BaseOptions(4, follower.Host.Members) with { Join = true };
        joiner.Storage = new Core.Raft.MemoryRaftStorage(joiner.Options.BootstrapVoters());
        await joiner.StartHostAsync();
        await cluster.WaitForAppliedAsync(leader.Host!.AppliedIndex, [joiner]);
        Assert.Equal(5, joiner.Machine.Count);
        Assert.Equal(leader.Host.ClusterId, joiner.Host!.ClusterId);
        await joiner.Host.ProposeAsync(KvStateMachine.Set("from-joiner", "1"), Timeout());
        await joiner.Host.ReadIndexAsync(Timeout());
        Assert.Equal("1", joiner.Machine.Read("from-joiner"));

        // A retried add of the same member is idempotent; a clashing one is refused.
        Assert.Equal(4, (await leader.Host.AddMemberAsync("n4", [joiner.PeerUrl], Timeout())).Id);
        await Assert.ThrowsAsync<ArgumentException>(() => leader.Host.AddMemberAsync("other", [joiner.PeerUrl], Timeout()));

        await leader.Host.RemoveMemberAsync(4, Timeout());
        await Wait.UntilAsync(() => joiner.Host.IsRemoved, "the removed node learns it was removed");
        await Wait.UntilAsync(() => joiner.Host.IsStopped, "the removed node stops");
        await Assert.ThrowsAsync<RaftUnavailableException>(() => joiner.Host.ProposeAsync(KvStateMachine.Set("x", "y"), Timeout()));
        Assert.Equal([1, 2, 3], leader.Host.Members.Select(m => m.Id));

        // Ids are never reused.
        var fifth = await leader.Host.AddMemberAsync("n5", ["http://127.0.0.1:1"], Timeout());
        Assert.Equal(5, fifth.Id);
        await leader.Host.RemoveMemberAsync(5, Timeout());
        await leader.Host.ProposeAsync(KvStateMachine.Set("after-removals", "1"), Timeout());
    }

    [Fact]
    public async Task Partition_MinorityCannotCommit_HealRestoresProgress()
    {
        await using var cluster = await TestCluster.StartAsync(3, faultNetwork: true);
        var leader = await cluster.WaitForLeaderAsync();
        await leader.Host!.ProposeAsync(KvStateMachine.Set("k", "before"), Timeout());
        var majority = cluster.Nodes.Where(n => n != leader).ToList();

        cluster.Network!.Partition([leader.Name], [.. majority.Select(n => n.Name)]);
        var failure = await Assert.ThrowsAnyAsync<RaftException>(() => leader.Host.ProposeAsync(KvStateMachine.Set("k", "minority"), Timeout(1)));
        Assert.True(failure is RaftOutcomeUnknownException or RaftUnavailableException, failure.GetType().Name);

        var next = await cluster.WaitForLeaderAsync(majority);
        await next.Host!.ProposeAsync(KvStateMachine.Set("k", "majority"), Timeout());
        Assert.NotEqual("minority", leader.Machine.Read("k"));

        cluster.Network.Heal();
        await cluster.WaitForLeaderAsync();
        await leader.Host.ProposeAsync(KvStateMachine.Set("healed", "1"), Timeout(15));
        await leader.Host.ReadIndexAsync(Timeout(15));
        Assert.Equal("majority", leader.Machine.Read("k"));
        Assert.Equal("1", leader.Machine.Read("healed"));
    }

    [Fact]
    public async Task TransferLeadership_ToFollower_MovesLeaderAndRaisesEvents()
    {
        await using var cluster = await TestCluster.StartAsync(3);
        var leader = await cluster.WaitForLeaderAsync();
        var target = cluster.Nodes.First(n => n != leader);
        var lost = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var won = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        leader.Host!.LeadershipChanged += leading =>
        {
            if (!leading)
            {
                lost.TrySetResult();
            }
        };
        target.Host!.LeadershipChanged += leading =>
        {
            if (leading)
            {
                won.TrySetResult();
            }
        };

        await leader.Host.TransferLeadershipAsync(target.Id, Timeout());

        await lost.Task.WaitAsync(Timeout());
        await won.Task.WaitAsync(Timeout());
        Assert.Equal(target.Id, (await cluster.WaitForLeaderAsync()).Id);
    }

    [Fact]
    public async Task LeaderHandler_CalledOnFollower_RunsOnLeader()
    {
        await using var cluster = await TestCluster.StartAsync(3);
        foreach (var node in cluster.Nodes)
        {
            node.Host!.RegisterLeaderHandler("whoami", (payload, _) => Task.FromResult(Encoding.UTF8.GetBytes($"{node.Id}:{Encoding.UTF8.GetString(payload.Span)}")));
        }

        var leader = await cluster.WaitForLeaderAsync();
        var follower = cluster.Nodes.First(n => n != leader);

        Assert.Equal($"{leader.Id}:hi", Text(await follower.Host!.ForwardToLeaderAsync("whoami", "hi"u8.ToArray(), Timeout())));
        Assert.Equal($"{leader.Id}:me", Text(await leader.Host!.ForwardToLeaderAsync("whoami", "me"u8.ToArray(), Timeout())));
        await Assert.ThrowsAsync<InvalidOperationException>(() => follower.Host.ForwardToLeaderAsync("missing", ReadOnlyMemory<byte>.Empty, Timeout()));
    }
}
