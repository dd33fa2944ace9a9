using System.Text;
using Blueprint.Core.Raft;
using Blueprint.Raft.Hosting;
using Blueprint.Raft.Hosting.Protocol;
using Grpc.Core;
using Grpc.Net.Client;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace Blueprint.Raft.Hosting.Tests;

public sealed class RaftHostTests
{
    internal static readonly RaftMember[] ThreeMembers =
    [
        new(1, "n1", ["http://127.0.0.1:1"], []),
        new(2, "n2", ["http://127.0.0.1:2"], []),
        new(3, "n3", ["http://127.0.0.1:3"], []),
    ];

    private static CancellationToken Timeout(double seconds = 10)
    {
        var cts = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        cts.CancelAfter(TimeSpan.FromSeconds(seconds));
        return cts.Token;
    }

    [Fact]
    public void Options_Defaults_HaveNoProblems()
    {
        var options = new RaftHostOptions { NodeId = 2, Name = "n2", InitialMembers = ThreeMembers };
        Assert.Empty(options.Problems());
        Assert.Equal([1, 2, 3], options.BootstrapVoters());
        Assert.Empty((options with { Join = true }).BootstrapVoters());
        Assert.Equal(TimeSpan.FromMilliseconds(100), options.TickInterval);
        Assert.Equal(100_000, options.SnapshotEveryEntries);
    }

    [Fact]
    public void Options_ManyMistakes_ReportsEveryOneAtOnce()
    {
        var options = new RaftHostOptions
        {
            NodeId = 9,
            Name = "",
            InitialMembers = [.. ThreeMembers, new RaftMember(3, "n3", ["not a url"], [])],
            TickInterval = TimeSpan.Zero,
            ElectionTimeoutTicks = 1,
            SnapshotEveryEntries = 0,
            PeerQueueMessagesMax = 0,
            ProposalsPendingMax = 0,
            ForwardTimeout = TimeSpan.Zero,
            ClientUrls = ["nope"],
        };

        var problems = options.Problems();

        Assert.Contains(problems, p => p.StartsWith("NodeId = 9: not among InitialMembers", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.StartsWith("Name is empty", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.Contains("id 3 appears 2 times", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.Contains("name 'n3' appears 2 times", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.Contains("peer URL 'not a url' is not an absolute URL", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.StartsWith("TickInterval = 00:00:00: must be from 1 ms to 10 s", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.StartsWith("ElectionTimeoutTicks = 1", StringComparison.Ordinal));
        Assert.Contains(problems, p => p == "SnapshotEveryEntries = 0: must be at least 1");
        Assert.Contains(problems, p => p == "PeerQueueMessagesMax = 0: must be at least 1");
        Assert.Contains(problems, p => p == "ProposalsPendingMax = 0: must be at least 1");
        Assert.Contains(problems, p => p.StartsWith("ForwardTimeout = 00:00:00: must be positive", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.StartsWith("URL 'nope'", StringComparison.Ordinal));
        var thrown = Assert.Throws<ArgumentException>(() => new RaftHost(options, new MemoryRaftStorage([1, 2, 3]), new KvStateMachine(), NullLoggerFactory.Instance, TimeProvider.System));
        Assert.Contains("SnapshotEveryEntries = 0", thrown.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Start_FreshStorageWithOtherVoters_RefusesNamingTheFix()
    {
        var options = new RaftHostOptions { NodeId = 1, Name = "n1", InitialMembers = ThreeMembers };
        await using var host = new RaftHost(options, new MemoryRaftStorage([1]), new KvStateMachine(), NullLoggerFactory.Instance, TimeProvider.System);

        var thrown = await Assert.ThrowsAsync<InvalidOperationException>(() => host.StartAsync(Timeout()));
        Assert.Contains("BootstrapVoters()", thrown.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Propose_BeforeStartAndAfterDispose_IsUnavailable()
    {
        var options = new RaftHostOptions { NodeId = 1, Name = "n1", InitialMembers = [ThreeMembers[0]] };
        var host = new RaftHost(options, new MemoryRaftStorage([1]), new KvStateMachine(), NullLoggerFactory.Instance, TimeProvider.System);
        await Assert.ThrowsAsync<RaftUnavailableException>(() => host.ProposeAsync(KvStateMachine.Set("a", "b"), Timeout()));
        await host.StartAsync(Timeout());
        await host.DisposeAsync();
        await Assert.ThrowsAsync<RaftUnavailableException>(() => host.ProposeAsync(KvStateMachine.Set("a", "b"), Timeout()));
        await Assert.ThrowsAsync<RaftUnavailableException>(() => host.ReadIndexAsync(Timeout()));
    }

    private static readonly RaftHostOptions SingleNodeSnapshotEvery4 =
        new() { NodeId = 1, Name = "n1", InitialMembers = [ThreeMembers[0]], SnapshotEveryEntries = 4 };

    /// <summary>Starts a single voter on a fake clock, snapshotting every 4 entries, and commits 10 sets through it.</summary>
    private static async Task<RaftHost> StartSingleNodeAndSetTenKeysAsync(MemoryRaftStorage storage, IRaftStateMachine machine)
    {
        var host = new RaftHost(SingleNodeSnapshotEvery4, storage, machine, NullLoggerFactory.Instance, new FakeTimeProvider());
        await host.StartAsync(Timeout());

        // A single voter campaigns as it starts: no tick of the (fake) clock is needed.
        await Wait.UntilAsync(() => host.IsLeader, "a single voter elects itself when it starts");
        for (int i = 0; i < 10; i++)
        {
            await host.ProposeAsync(KvStateMachine.Set($"k{i}", "v"), Timeout());
        }

        await host.ReadIndexAsync(Timeout());
        return host;
    }

    [Fact]
    public async Task SingleNode_FakeTime_ElectsItselfAtStartAppliesAndCompacts()
    {
        var storage = new MemoryRaftStorage([1]);
        var machine = new KvStateMachine();
        await using var host = await StartSingleNodeAndSetTenKeysAsync(storage, machine);

        Assert.Equal(10, machine.Count);
        // Snapshots are encoded off the loop, so the compaction lands a little after the applies.
        await Wait.UntilAsync(
            () => storage.Snapshot.Metadata.Index >= 8 && storage.Snapshot.Metadata.Index == host.SnapshotIndex,
            () => $"a snapshot at index 8 or later in storage and node (storage {storage.Snapshot.Metadata.Index}, node {host.SnapshotIndex})");
    }

    [Fact]
    public async Task SingleNode_EntriesAppliedWhileASnapshotIsEncoded_StartTheNextOneWithNoFurtherTraffic()
    {
        var storage = new MemoryRaftStorage([1]);
        var machine = new GatedEncoderMachine();

        // The first snapshot's encoder waits, so every later entry is applied while it is in progress.
        await using var host = await StartSingleNodeAndSetTenKeysAsync(storage, machine);
        Assert.Equal(1, machine.Captures);
        long applied = host.AppliedIndex;
        Assert.True(applied - host.SnapshotIndex >= 2 * SingleNodeSnapshotEvery4.SnapshotEveryEntries, $"applied {applied}, snapshot {host.SnapshotIndex}");

        // Releasing it is the last thing that happens: the loop itself must see that the threshold is passed again.
        machine.Release();
        await Wait.UntilAsync(
            () => storage.Snapshot.Metadata.Index == applied && host.SnapshotIndex == applied,
            () => $"a second snapshot at the applied index {applied} (storage {storage.Snapshot.Metadata.Index}, node {host.SnapshotIndex})");
        Assert.Equal(2, machine.Captures);
    }

    [Fact]
    public async Task LeaderWithoutQuorum_PendingBoundsReached_RefusesThenDisposeFailsWaiters()
    {
        var time = new FakeTimeProvider();
        await using var cluster = await TestCluster.StartAsync(3, configure: o => o with { ProposalsPendingMax = 2, ReadsPendingMax = 1 }, time: time);
        await Wait.UntilAsync(
            () =>
            {
                time.Advance(TimeSpan.FromMilliseconds(10));
                return cluster.Nodes.Count(n => n.Host!.IsLeader) == 1 && cluster.Nodes.All(n => n.Host!.LeaderId != 0 && n.Host.CommitIndex >= 1);
            },
            "a leader elected on fake time");
        var leader = cluster.Nodes.Single(n => n.Host!.IsLeader);
        await Wait.UntilAsync(
            () =>
            {
                // Publishing retries on the fake clock too.
                time.Advance(TimeSpan.FromMilliseconds(10));
                return leader.Host!.Members.All(m => m.ClientUrls.Count > 0) && leader.Host.AppliedIndex == leader.Host.CommitIndex;
            },
            "client URLs published");
        foreach (var follower in cluster.Nodes.Where(n => n != leader))
        {
            await follower.StopAsync();
        }

        // No tick runs, so the leader keeps leading without a quorum and nothing commits.
        var first = leader.Host!.ProposeAsync(KvStateMachine.Set("a", "1"), TestContext.Current.CancellationToken);
        var second = leader.Host.ProposeAsync(KvStateMachine.Set("b", "1"), TestContext.Current.CancellationToken);
        var read = leader.Host.ReadIndexAsync(TestContext.Current.CancellationToken);
        // Each call queues its input before it returns, and the loop takes inputs in order.
        var overloaded = await Assert.ThrowsAsync<RaftOverloadedException>(() => leader.Host.ProposeAsync(KvStateMachine.Set("c", "1"), Timeout()));
        Assert.Contains("ProposalsPendingMax", overloaded.Message, StringComparison.Ordinal);
        var readOverloaded = await Assert.ThrowsAsync<RaftOverloadedException>(() => leader.Host.ReadIndexAsync(Timeout()));
        Assert.Contains("ReadsPendingMax", readOverloaded.Message, StringComparison.Ordinal);
        Assert.False(first.IsCompleted || second.IsCompleted || read.IsCompleted);

        await leader.Host.DisposeAsync();
        var unknown = await Assert.ThrowsAsync<RaftOutcomeUnknownException>(() => first);
        Assert.Contains("stopped", unknown.Message, StringComparison.Ordinal);
        await Assert.ThrowsAsync<RaftOutcomeUnknownException>(() => second);
        await Assert.ThrowsAsync<RaftUnavailableException>(() => read);
    }

    [Fact]
    public async Task PeerService_EnvelopeOrForwardFromAnotherCluster_Refused()
    {
        await using var cluster = await TestCluster.StartAsync(3);
        var node = cluster[1];
        using var channel = GrpcChannel.ForAddress(node.PeerUrl);
        var client = new Peer.PeerClient(channel);

        using var call = client.Send(cancellationToken: Timeout());
        await call.RequestStream.WriteAsync(new RaftEnvelope { ClusterId = node.Host!.ClusterId + 1, From = 2, To = 1, Type = (int)MessageType.Heartbeat, Term = 1 }, TestContext.Current.CancellationToken);
        var refused = await Assert.ThrowsAsync<RpcException>(async () =>
        {
            await call.RequestStream.CompleteAsync();
            await call.ResponseAsync;
        });
        Assert.Equal(StatusCode.FailedPrecondition, refused.StatusCode);
        Assert.Contains("cluster", refused.Status.Detail, StringComparison.Ordinal);
        Assert.Equal("cluster-id-mismatch", refused.Trailers.GetValue("blueprint-raft-refusal"));

        var forward = await Assert.ThrowsAsync<RpcException>(async () =>
            await client.ForwardAsync(new ForwardRequest { ClusterId = 42, From = 2, Kind = "propose" }, cancellationToken: Timeout()));
        Assert.Equal(StatusCode.FailedPrecondition, forward.StatusCode);

        // The same envelope with the right cluster id is taken.
        using var good = client.Send(cancellationToken: Timeout());
        await good.RequestStream.WriteAsync(new RaftEnvelope { ClusterId = node.Host.ClusterId, From = 2, To = 1, Type = (int)MessageType.ReadIndexResponse, Context = 999_999 }, TestContext.Current.CancellationToken);
        await good.RequestStream.CompleteAsync();
        Assert.Equal(1, (await good.ResponseAsync).Received);
        Assert.Equal("", Encoding.UTF8.GetString(await node.Host.ProposeAsync(KvStateMachine.Set("still", "works"), Timeout())));
    }

    /// <summary>A <see cref="KvStateMachine"/> whose snapshot encoders wait until <see cref="Release"/>.</summary>
    private sealed class GatedEncoderMachine : IRaftStateMachine
    {
        private readonly KvStateMachine _inner = new();
        private readonly TaskCompletionSource _open = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private int _captures;

        public int Captures => Volatile.Read(ref _captures);

        public void Release() => _open.TrySetResult();

        public byte[] Apply(long index, ReadOnlyMemory<byte> command) => _inner.Apply(index, command);

        public byte[] TakeSnapshot() => _inner.TakeSnapshot();

        public Func<byte[]> CaptureSnapshot()
        {
            Interlocked.Increment(ref _captures);
            var image = _inner.TakeSnapshot();
            return () =>
            {
                _open.Task.Wait(TestContext.Current.CancellationToken);
                return image;
            };
        }

        public void Restore(ReadOnlyMemory<byte> snapshot) => _inner.Restore(snapshot);
    }
}
