using System.Buffers.Binary;
using System.Text;
using Blueprint.Log.Groups;
using Blueprint.Log.Kafka;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace Blueprint.Log.Tests.Groups;

/// <summary>
/// One coordinator on a temporary directory with a fake clock, and the client steps of the classic protocol. Timers
/// fire inside <see cref="Advance"/>, on the test's thread, so a parked request is answered by the time it returns.
/// </summary>
internal sealed class GroupHarness : IAsyncDisposable
{
    public const string Group = "orders";
    public static readonly TimeSpan Session = TimeSpan.FromSeconds(10);
    public static readonly TimeSpan Rebalance = TimeSpan.FromSeconds(30);

    private readonly TempDirectory _directory = new("groups");

    public GroupHarness(GroupCoordinatorOptions? options = null)
    {
        Options = options ?? new GroupCoordinatorOptions();
        Coordinator = GroupCoordinator.Open(_directory.Path, Options, Time, NullLogger.Instance);
    }

    public FakeTimeProvider Time { get; } = new(new DateTimeOffset(2025, 3, 1, 12, 0, 0, TimeSpan.Zero));

    public GroupCoordinatorOptions Options { get; }

    public GroupCoordinator Coordinator { get; private set; }

    public string Directory => _directory.Path;

    public string JournalPath => Path.Combine(_directory.Path, "offsets.journal");

    /// <summary>Consumer-protocol subscription metadata (version 0) for <paramref name="topics"/>.</summary>
    public static byte[] Subscription(params string[] topics)
    {
        var bytes = new List<byte>();
        Span<byte> scratch = stackalloc byte[4];
        BinaryPrimitives.WriteInt16BigEndian(scratch, 0);
        bytes.AddRange(scratch[..2]);
        BinaryPrimitives.WriteInt32BigEndian(scratch, topics.Length);
        bytes.AddRange(scratch[..4]);
        foreach (string topic in topics)
        {
            byte[] name = Encoding.UTF8.GetBytes(topic);
            BinaryPrimitives.WriteInt16BigEndian(scratch, (short)name.Length);
            bytes.AddRange(scratch[..2]);
            bytes.AddRange(name);
        }

        BinaryPrimitives.WriteInt32BigEndian(scratch, -1);
        bytes.AddRange(scratch[..4]);
        return [.. bytes];
    }

    public static (string Name, byte[] Metadata)[] Protocols(params string[] names) =>
        [.. names.Select(n => (n, Subscription("payments", n)))];

    public static JoinGroupCall JoinCall(
        string memberId = "",
        string? instanceId = null,
        (string Name, byte[] Metadata)[]? protocols = null,
        bool requireKnownMemberId = false,
        TimeSpan? session = null,
        TimeSpan? rebalance = null,
        string group = Group,
        string protocolType = "consumer",
        string clientId = "client") =>
        new(group, memberId, instanceId, clientId, "/10.0.0.1", session ?? Session, rebalance ?? Rebalance, protocolType, protocols ?? Protocols("range"), requireKnownMemberId);

    public Task<JoinGroupResult> Join(
        string memberId = "",
        string? instanceId = null,
        (string Name, byte[] Metadata)[]? protocols = null,
        bool requireKnownMemberId = false,
        TimeSpan? session = null,
        TimeSpan? rebalance = null) =>
        Coordinator.JoinAsync(JoinCall(memberId, instanceId, protocols, requireKnownMemberId, session, rebalance), TestContext.Current.CancellationToken);

    public Task<JoinGroupResult> JoinCancellable(string memberId, TimeSpan? session, CancellationToken ct) =>
        Coordinator.JoinAsync(JoinCall(memberId, session: session), ct);

    public Task<SyncGroupResult> Sync(JoinGroupResult joined, IReadOnlyList<(string MemberId, byte[] Assignment)>? assignments = null, string? instanceId = null) =>
        Coordinator.SyncAsync(new SyncGroupCall(Group, joined.GenerationId, joined.MemberId, instanceId, "consumer", joined.ProtocolName, assignments ?? []), TestContext.Current.CancellationToken);

    public Task<SyncGroupResult> SyncCancellable(JoinGroupResult joined, CancellationToken ct) =>
        Coordinator.SyncAsync(new SyncGroupCall(Group, joined.GenerationId, joined.MemberId, null, "consumer", joined.ProtocolName, []), ct);

    /// <summary>The answer of a request that must not wait for anything (a parked request fails the test instead of hanging it).</summary>
    public static async Task<T> Immediate<T>(Task<T> request)
    {
        Assert.True(request.IsCompleted, "the request was parked but should have been answered at once");
        return await request;
    }

    public ErrorCode Heartbeat(JoinGroupResult joined, string? instanceId = null) =>
        Coordinator.Heartbeat(Group, joined.GenerationId, joined.MemberId, instanceId);

    /// <summary>
    /// Moves the clock forward in steps of at most <paramref name="step"/> (default 1 s). The fake clock jumps to the end
    /// of each call before firing timers, so a deadline re-armed from inside a timer counts from there; small steps
    /// keep chained deadlines (initial delay, sessions renewed by timers) close to real time.
    /// </summary>
    public void Advance(TimeSpan by, TimeSpan? step = null)
    {
        var most = step ?? TimeSpan.FromSeconds(1);
        while (by > TimeSpan.Zero)
        {
            var next = by < most ? by : most;
            Time.Advance(next);
            by -= next;
        }
    }

    /// <summary>The assignment the tests' leader hands out: the member id's bytes, so each member can check it got its own.</summary>
    public static byte[] AssignmentFor(string memberId) => Encoding.UTF8.GetBytes("assigned:" + memberId);

    /// <summary>
    /// Completes a generation from joins already answered: followers' syncs are parked first, then the leader's
    /// SyncGroup assigns every member <see cref="AssignmentFor"/>.
    /// </summary>
    public async Task<SyncGroupResult[]> SyncAll(IReadOnlyList<JoinGroupResult> joined)
    {
        var leader = joined.Single(j => j.MemberId == j.LeaderId);
        var syncs = new Dictionary<string, Task<SyncGroupResult>>();
        foreach (var follower in joined.Where(j => j != leader))
        {
            syncs[follower.MemberId] = Sync(follower);
        }

        Assert.All(syncs.Values, s => Assert.False(s.IsCompleted, "a follower's sync must wait for the leader's: " + (s.IsCompleted ? s.Result.ToString() : "")));
        syncs[leader.MemberId] = Sync(leader, [.. leader.Members.Select(m => (m.MemberId, AssignmentFor(m.MemberId)))]);
        var results = new SyncGroupResult[joined.Count];
        for (int i = 0; i < joined.Count; i++)
        {
            results[i] = await syncs[joined[i].MemberId];
        }

        return results;
    }

    /// <summary>Forms a Stable generation of <paramref name="count"/> new dynamic members; returns their join answers in join order.</summary>
    public async Task<JoinGroupResult[]> FormGroup(int count, TimeSpan? session = null, TimeSpan? rebalance = null)
    {
        var joins = Enumerable.Range(0, count).Select(_ => Join(session: session, rebalance: rebalance)).ToList();
        Assert.True(Options.InitialRebalanceDelay > TimeSpan.Zero, "members joining together need the initial delay to share a generation");
        for (int i = 0; i < 100 && !joins.All(j => j.IsCompleted); i++)
        {
            Advance(Options.InitialRebalanceDelay, step: Options.InitialRebalanceDelay);
        }

        var joined = await Task.WhenAll(joins);
        Assert.All(joined, j => Assert.Equal(ErrorCode.None, j.Error));
        await SyncAll(joined);
        return joined;
    }

    public GroupDescription Describe(string group = Group) => Coordinator.DescribeGroups([group]).Single();

    public async Task Reopen()
    {
        await Coordinator.DisposeAsync();
        Coordinator = GroupCoordinator.Open(_directory.Path, Options, Time, NullLogger.Instance);
    }

    public async ValueTask DisposeAsync()
    {
        await Coordinator.DisposeAsync();
        _directory.Dispose();
    }
}
