using Blueprint.Log.Groups;
using Blueprint.Log.Kafka;
using static Blueprint.Log.Tests.Groups.GroupHarness;

namespace Blueprint.Log.Tests.Groups;

public sealed class GroupCoordinatorRebalanceTests
{
    private static readonly TimeSpan Tick = TimeSpan.FromMilliseconds(1);

    [Fact]
    public async Task Join_ThreeMembersDuringInitialDelay_OneGenerationOneLeaderAndEachGetsItsAssignment()
    {
        await using var h = new GroupHarness();
        var protocols = new[] { Protocols("range"), Protocols("range", "roundrobin"), Protocols("roundrobin", "range") };
        var joins = protocols.Select(p => h.Join(protocols: p)).ToList();

        h.Advance(TimeSpan.FromSeconds(3));
        Assert.All(joins, j => Assert.False(j.IsCompleted, "new members arrived during the delay, so it starts over"));
        h.Advance(TimeSpan.FromSeconds(3));
        var joined = await Task.WhenAll(joins);

        Assert.All(joined, j => Assert.Equal(ErrorCode.None, j.Error));
        Assert.All(joined, j => Assert.Equal(1, j.GenerationId));
        Assert.All(joined, j => Assert.Equal(joined[0].MemberId, j.LeaderId));
        Assert.All(joined, j => Assert.Equal("range", j.ProtocolName));
        Assert.All(joined, j => Assert.StartsWith("client-", j.MemberId, StringComparison.Ordinal));
        Assert.Equal(3, joined.Select(j => j.MemberId).Distinct().Count());
        Assert.Equal(3, joined[0].Members.Count);
        Assert.Empty(joined[1].Members);
        Assert.Empty(joined[2].Members);
        for (int i = 0; i < 3; i++)
        {
            var listed = joined[0].Members.Single(m => m.MemberId == joined[i].MemberId);
            Assert.Equal(protocols[i].Single(p => p.Name == "range").Metadata, listed.Metadata);
        }

        var synced = await h.SyncAll(joined);
        for (int i = 0; i < 3; i++)
        {
            Assert.Equal(ErrorCode.None, synced[i].Error);
            Assert.Equal("range", synced[i].ProtocolName);
            Assert.Equal(AssignmentFor(joined[i].MemberId), synced[i].Assignment);
        }

        Assert.Equal("Stable", h.Describe().State);
        Assert.All(joined, j => Assert.Equal(ErrorCode.None, h.Heartbeat(j)));
    }

    [Fact]
    public async Task Join_InitialDelay_IsCappedByTheRebalanceTimeout()
    {
        await using var h = new GroupHarness();
        var first = h.Join(rebalance: TimeSpan.FromSeconds(7));

        // A new member every delay keeps extending the wait, but only within the 7 s rebalance timeout: 3 + 3 + 1.
        var second = h.Join(rebalance: TimeSpan.FromSeconds(7));
        h.Advance(TimeSpan.FromSeconds(3));
        var third = h.Join(rebalance: TimeSpan.FromSeconds(7));
        h.Advance(TimeSpan.FromSeconds(3));
        Assert.False(first.IsCompleted);
        _ = h.Join(rebalance: TimeSpan.FromSeconds(7));
        h.Advance(TimeSpan.FromSeconds(1) - Tick);
        Assert.False(first.IsCompleted);
        h.Advance(Tick);

        Assert.Equal(4, (await first).Members.Count);
        Assert.Equal(1, (await third).GenerationId);
    }

    [Fact]
    public async Task Join_FourthMember_RebalancesAndOthersGetRebalanceInProgressUntilTheyRejoin()
    {
        await using var h = new GroupHarness();
        var gen1 = await h.FormGroup(3);

        var fourth = h.Join();
        Assert.False(fourth.IsCompleted);
        Assert.Equal("PreparingRebalance", h.Describe().State);
        Assert.All(gen1, j => Assert.Equal(ErrorCode.RebalanceInProgress, h.Heartbeat(j)));

        var rejoins = new List<Task<JoinGroupResult>> { h.Join(gen1[0].MemberId), h.Join(gen1[1].MemberId) };
        Assert.Equal(ErrorCode.RebalanceInProgress, h.Heartbeat(gen1[2]));
        Assert.False(fourth.IsCompleted);
        rejoins.Add(h.Join(gen1[2].MemberId));

        var gen2 = await Task.WhenAll(rejoins.Append(fourth));
        Assert.All(gen2, j => Assert.Equal(2, j.GenerationId));
        Assert.All(gen2, j => Assert.Equal(gen1[0].MemberId, j.LeaderId));
        Assert.Equal(4, gen2[0].Members.Count);
        Assert.Equal("CompletingRebalance", h.Describe().State);
        Assert.Equal(ErrorCode.IllegalGeneration, h.Heartbeat(gen1[1]));
        Assert.Equal(ErrorCode.None, h.Heartbeat(gen2[1]));

        var synced = await h.SyncAll(gen2);
        Assert.Equal(AssignmentFor(gen2[3].MemberId), synced[3].Assignment);
    }

    [Fact]
    public async Task Join_FollowerRejoinsUnchangedInStable_GetsCurrentGenerationWithoutRebalance()
    {
        await using var h = new GroupHarness();
        var gen1 = await h.FormGroup(2);

        var again = await Immediate(h.Join(gen1[1].MemberId));

        Assert.Equal(ErrorCode.None, again.Error);
        Assert.Equal(1, again.GenerationId);
        Assert.Empty(again.Members);
        Assert.Equal("Stable", h.Describe().State);
        Assert.Equal(AssignmentFor(gen1[1].MemberId), (await Immediate(h.Sync(again))).Assignment);
    }

    [Fact]
    public async Task Join_LeaderAloneRejoinsInStable_CompletesNextGenerationAtOnce()
    {
        await using var h = new GroupHarness();
        var gen1 = await h.FormGroup(1);

        var gen2 = await Immediate(h.Join(gen1[0].MemberId));

        Assert.Equal(2, gen2.GenerationId);
        Assert.Single(gen2.Members);
    }

    [Fact]
    public async Task Leave_OneMember_RebalancesWithoutIt()
    {
        await using var h = new GroupHarness();
        var gen1 = await h.FormGroup(3);

        var left = h.Coordinator.Leave(Group, [(gen1[2].MemberId, null)]);

        Assert.Equal(ErrorCode.None, left.Error);
        Assert.Equal(ErrorCode.None, left.Members.Single().Error);
        Assert.Equal("PreparingRebalance", h.Describe().State);
        var gen2 = await Task.WhenAll(h.Join(gen1[0].MemberId), h.Join(gen1[1].MemberId));
        Assert.All(gen2, j => Assert.Equal(2, j.GenerationId));
        Assert.Equal(new[] { gen1[0].MemberId, gen1[1].MemberId }.Order(), gen2[0].Members.Select(m => m.MemberId).Order());
        Assert.Equal(ErrorCode.UnknownMemberId, h.Heartbeat(gen1[2]));
        Assert.Equal(ErrorCode.UnknownMemberId, h.Coordinator.Leave(Group, [(gen1[2].MemberId, null)]).Members.Single().Error);
    }

    [Fact]
    public async Task Leave_LastMember_GroupBecomesEmpty()
    {
        await using var h = new GroupHarness();
        var gen1 = await h.FormGroup(2);

        h.Coordinator.Leave(Group, [(gen1[0].MemberId, null), (gen1[1].MemberId, null)]);

        var description = h.Describe();
        Assert.Equal("Empty", description.State);
        Assert.Empty(description.Members);
        Assert.Equal(ErrorCode.UnknownMemberId, h.Heartbeat(gen1[0]));
        Assert.Contains((Group, "consumer", "Empty"), h.Coordinator.ListGroups());
    }

    [Fact]
    public async Task Leave_UnknownGroup_EveryMemberUnknown()
    {
        await using var h = new GroupHarness();

        var left = h.Coordinator.Leave("nobody", [("a", null), ("", "instance")]);

        Assert.Equal(ErrorCode.None, left.Error);
        Assert.Equal([ErrorCode.UnknownMemberId, ErrorCode.UnknownMemberId], left.Members.Select(m => m.Error));
    }

    [Fact]
    public async Task Session_SilentMember_IsRemovedAfterItsTimeoutAndGroupRebalances()
    {
        await using var h = new GroupHarness();
        var gen1 = await h.FormGroup(3);

        h.Advance(TimeSpan.FromSeconds(6));
        Assert.Equal(ErrorCode.None, h.Heartbeat(gen1[0]));
        Assert.Equal(ErrorCode.None, h.Heartbeat(gen1[1]));
        h.Advance(Session - TimeSpan.FromSeconds(6) - Tick);
        Assert.Equal(3, h.Describe().Members.Count);
        Assert.Equal("Stable", h.Describe().State);

        h.Advance(Tick);

        Assert.Equal("PreparingRebalance", h.Describe().State);
        Assert.Equal(2, h.Describe().Members.Count);
        Assert.Equal(ErrorCode.UnknownMemberId, h.Heartbeat(gen1[2]));
        Assert.Equal(ErrorCode.RebalanceInProgress, h.Heartbeat(gen1[0]));
    }

    [Fact]
    public async Task Rebalance_MemberThatDoesNotRejoin_IsRemovedAtTheRebalanceTimeout()
    {
        await using var h = new GroupHarness();
        var longSession = TimeSpan.FromSeconds(45);
        var gen1 = await h.FormGroup(3, session: longSession);

        var fourth = h.Join(session: longSession);
        var rejoins = new[] { h.Join(gen1[0].MemberId, session: longSession), h.Join(gen1[1].MemberId, session: longSession) };
        h.Advance(Rebalance - Tick);
        Assert.False(fourth.IsCompleted);
        Assert.Equal(ErrorCode.RebalanceInProgress, h.Heartbeat(gen1[2]));

        h.Advance(Tick);

        var gen2 = await Task.WhenAll(rejoins.Append(fourth));
        Assert.All(gen2, j => Assert.Equal(2, j.GenerationId));
        Assert.Equal(3, gen2[0].Members.Count);
        Assert.DoesNotContain(gen2[0].Members, m => m.MemberId == gen1[2].MemberId);
        Assert.Equal(ErrorCode.UnknownMemberId, h.Heartbeat(gen1[2]));
    }

    [Fact]
    public async Task Rebalance_LeaderDoesNotRejoin_ARejoinedMemberLeads()
    {
        await using var h = new GroupHarness();
        var gen1 = await h.FormGroup(2, session: TimeSpan.FromSeconds(45));

        var rejoin = h.Join(gen1[1].MemberId, protocols: Protocols("range", "sticky"), session: TimeSpan.FromSeconds(45));
        h.Advance(Rebalance);

        var gen2 = await rejoin;
        Assert.Equal(gen1[1].MemberId, gen2.LeaderId);
        Assert.Single(gen2.Members);
    }

    [Fact]
    public async Task Sync_MemberThatDoesNotSyncOrHeartbeat_IsRemovedAtItsSessionTimeout()
    {
        await using var h = new GroupHarness();
        var joins = Enumerable.Range(0, 3).Select(_ => h.Join()).ToList();
        h.Advance(TimeSpan.FromSeconds(6));
        var joined = await Task.WhenAll(joins);
        var leaderSync = h.Sync(joined[0], [.. joined.Select(j => (j.MemberId, AssignmentFor(j.MemberId)))]);
        var followerSync = await h.Sync(joined[1]);
        Assert.Equal(AssignmentFor(joined[1].MemberId), followerSync.Assignment);
        Assert.Equal(ErrorCode.None, (await leaderSync).Error);

        h.Advance(Session - Tick);
        Assert.Equal(ErrorCode.None, h.Heartbeat(joined[0]));
        Assert.Equal(ErrorCode.None, h.Heartbeat(joined[1]));
        Assert.Equal(3, h.Describe().Members.Count);
        h.Advance(Tick);

        Assert.Equal(2, h.Describe().Members.Count);
        Assert.Equal("PreparingRebalance", h.Describe().State);
        Assert.Equal(ErrorCode.UnknownMemberId, (await Immediate(h.Sync(joined[2]))).Error);
    }

    [Fact]
    public async Task Sync_MemberThatHeartbeatsButNeverSyncs_IsRemovedAtTheRebalanceTimeout()
    {
        await using var h = new GroupHarness();
        var joins = Enumerable.Range(0, 2).Select(_ => h.Join()).ToList();
        h.Advance(TimeSpan.FromSeconds(6));
        var joined = await Task.WhenAll(joins);
        await h.Sync(joined[0], [.. joined.Select(j => (j.MemberId, AssignmentFor(j.MemberId)))]);

        for (int i = 0; i < 3; i++)
        {
            h.Advance(TimeSpan.FromSeconds(9));
            Assert.Equal(ErrorCode.None, h.Heartbeat(joined[0]));
            Assert.Equal(ErrorCode.None, h.Heartbeat(joined[1]));
        }

        h.Advance(TimeSpan.FromSeconds(3));

        Assert.Equal(ErrorCode.UnknownMemberId, h.Heartbeat(joined[1]));
        Assert.Equal(ErrorCode.RebalanceInProgress, h.Heartbeat(joined[0]));
    }

    [Fact]
    public async Task Sync_LeaderNeverSyncs_ParkedFollowerGetsRebalanceInProgress()
    {
        await using var h = new GroupHarness();
        var joins = Enumerable.Range(0, 2).Select(_ => h.Join()).ToList();
        h.Advance(TimeSpan.FromSeconds(6));
        var joined = await Task.WhenAll(joins);
        var follower = h.Sync(joined[1]);

        h.Advance(Session);

        Assert.Equal(ErrorCode.RebalanceInProgress, (await follower).Error);
        Assert.Equal(ErrorCode.UnknownMemberId, h.Heartbeat(joined[0]));
    }

    [Fact]
    public async Task Sync_WrongGenerationOrProtocol_IsRefused()
    {
        await using var h = new GroupHarness();
        var gen1 = await h.FormGroup(2);
        var member = gen1[1];

        Assert.Equal(ErrorCode.IllegalGeneration, (await Immediate(h.Sync(member with { GenerationId = 7 }))).Error);
        Assert.Equal(ErrorCode.InconsistentGroupProtocol, (await Immediate(h.Sync(member with { ProtocolName = "roundrobin" }))).Error);
        Assert.Equal(ErrorCode.UnknownMemberId, (await Immediate(h.Sync(member with { MemberId = "stranger" }))).Error);
        Assert.Equal(ErrorCode.None, (await Immediate(h.Sync(member))).Error);
    }

    [Fact]
    public async Task Heartbeat_Errors_AsKafka()
    {
        await using var h = new GroupHarness();
        var gen1 = await h.FormGroup(2);

        Assert.Equal(ErrorCode.UnknownMemberId, h.Coordinator.Heartbeat("other-group", 1, gen1[0].MemberId, null));
        Assert.Equal(ErrorCode.UnknownMemberId, h.Coordinator.Heartbeat(Group, 1, "stranger", null));
        Assert.Equal(ErrorCode.IllegalGeneration, h.Coordinator.Heartbeat(Group, 2, gen1[0].MemberId, null));
        Assert.Equal(ErrorCode.InvalidGroupId, h.Coordinator.Heartbeat("", 1, gen1[0].MemberId, null));
        Assert.Equal(ErrorCode.None, h.Coordinator.Heartbeat(Group, 1, gen1[0].MemberId, null));
    }

    [Fact]
    public async Task MemberIdRequired_NewMemberGetsAnIdThenJoinsWithIt()
    {
        await using var h = new GroupHarness(new GroupCoordinatorOptions { InitialRebalanceDelay = TimeSpan.Zero });

        var first = await Immediate(h.Join(requireKnownMemberId: true));

        Assert.Equal(ErrorCode.MemberIdRequired, first.Error);
        Assert.StartsWith("client-", first.MemberId, StringComparison.Ordinal);
        Assert.Empty(h.Describe().Members);
        var joined = await Immediate(h.Join(first.MemberId, requireKnownMemberId: true));
        Assert.Equal(ErrorCode.None, joined.Error);
        Assert.Equal(first.MemberId, joined.MemberId);
        Assert.Equal(first.MemberId, joined.LeaderId);
        Assert.Equal(1, joined.GenerationId);
    }

    [Fact]
    public async Task MemberIdRequired_IdNotUsedWithinTheSessionTimeout_IsForgotten()
    {
        await using var h = new GroupHarness(new GroupCoordinatorOptions { InitialRebalanceDelay = TimeSpan.Zero });
        var gen1 = await Immediate(h.Join());
        await Immediate(h.Sync(gen1, [(gen1.MemberId, [1])]));
        var handedOut = await Immediate(h.Join(requireKnownMemberId: true));

        // While the handed-out id is outstanding a rebalance waits for it.
        var rejoin = h.Join(gen1.MemberId, protocols: Protocols("range", "sticky"));
        Assert.False(rejoin.IsCompleted);
        h.Advance(Session);

        Assert.Equal(2, (await rejoin).GenerationId);
        Assert.Equal(ErrorCode.UnknownMemberId, (await Immediate(h.Join(handedOut.MemberId, requireKnownMemberId: true))).Error);
    }

    [Fact]
    public async Task Join_UnknownMemberIdOrUnknownGroup_IsRefused()
    {
        await using var h = new GroupHarness();
        await h.FormGroup(1);

        Assert.Equal(ErrorCode.UnknownMemberId, (await Immediate(h.Join("made-up"))).Error);
        Assert.Equal(ErrorCode.UnknownMemberId, (await Immediate(h.Coordinator.JoinAsync(JoinCall("made-up", group: "elsewhere"), TestContext.Current.CancellationToken))).Error);
    }

    [Fact]
    public async Task Join_NoCommonProtocolOrOtherProtocolType_InconsistentGroupProtocol()
    {
        await using var h = new GroupHarness();
        var first = h.Join(protocols: Protocols("range"));

        var other = await Immediate(h.Join(protocols: Protocols("roundrobin")));
        var connect = await Immediate(h.Coordinator.JoinAsync(JoinCall(protocolType: "connect"), TestContext.Current.CancellationToken));
        var none = await Immediate(h.Coordinator.JoinAsync(JoinCall(group: "empty-offer", protocols: []), TestContext.Current.CancellationToken));

        Assert.Equal(ErrorCode.InconsistentGroupProtocol, other.Error);
        Assert.Equal(ErrorCode.InconsistentGroupProtocol, connect.Error);
        Assert.Equal(ErrorCode.InconsistentGroupProtocol, none.Error);
        var compatible = h.Join(protocols: Protocols("roundrobin", "range"));
        h.Advance(TimeSpan.FromSeconds(6));
        Assert.Equal("range", (await first).ProtocolName);
        Assert.Equal(2, (await compatible).Members.Count + (await first).Members.Count);
    }

    [Fact]
    public async Task Join_ProtocolChoice_IsTheOneMostMembersPreferAmongThoseAllSupport()
    {
        await using var h = new GroupHarness();
        var joins = new[]
        {
            h.Join(protocols: Protocols("range", "roundrobin")),
            h.Join(protocols: Protocols("roundrobin", "range", "sticky")),
            h.Join(protocols: Protocols("sticky", "roundrobin", "range")),
        };

        h.Advance(TimeSpan.FromSeconds(6));

        // sticky is not common; of range and roundrobin, roundrobin is preferred by two members.
        Assert.All(await Task.WhenAll(joins), j => Assert.Equal("roundrobin", j.ProtocolName));
    }

    [Fact]
    public async Task StaticMember_RejoinsWithSameProtocols_NewIdWithoutRebalanceAndOldIdFenced()
    {
        await using var h = new GroupHarness();
        var joins = new[] { h.Join(instanceId: "host-1"), h.Join() };
        h.Advance(TimeSpan.FromSeconds(6));
        var gen1 = await Task.WhenAll(joins);
        Assert.StartsWith("host-1-", gen1[0].MemberId, StringComparison.Ordinal);
        var synced = await h.SyncAll(gen1);
        Assert.Equal(AssignmentFor(gen1[0].MemberId), synced[0].Assignment);

        // The instance restarts and joins without its member id.
        var restarted = await Immediate(h.Join(instanceId: "host-1"));

        Assert.Equal(ErrorCode.None, restarted.Error);
        Assert.Equal(1, restarted.GenerationId);
        Assert.NotEqual(gen1[0].MemberId, restarted.MemberId);
        Assert.Equal(gen1[0].MemberId, restarted.LeaderId);
        Assert.Empty(restarted.Members);
        Assert.Equal("Stable", h.Describe().State);
        Assert.Equal(ErrorCode.FencedInstanceId, h.Heartbeat(gen1[0], instanceId: "host-1"));
        Assert.Equal(ErrorCode.None, h.Heartbeat(restarted, instanceId: "host-1"));
        Assert.Equal(ErrorCode.None, h.Heartbeat(gen1[1]));
        var again = await Immediate(h.Sync(restarted, instanceId: "host-1"));
        Assert.Equal(AssignmentFor(gen1[0].MemberId), again.Assignment);
        Assert.Equal(ErrorCode.FencedInstanceId, (await Immediate(h.Join(gen1[0].MemberId, instanceId: "host-1"))).Error);
    }

    [Fact]
    public async Task StaticMember_RejoinsWithOtherProtocol_Rebalances()
    {
        await using var h = new GroupHarness();
        var joins = new[] { h.Join(instanceId: "host-1", protocols: Protocols("range", "sticky")), h.Join(protocols: Protocols("range", "sticky")) };
        h.Advance(TimeSpan.FromSeconds(6));
        var gen1 = await Task.WhenAll(joins);
        await h.SyncAll(gen1);

        var restarted = h.Join(instanceId: "host-1", protocols: Protocols("sticky", "range"));
        var other = h.Join(gen1[1].MemberId, protocols: Protocols("sticky", "range"));

        Assert.Equal(2, (await restarted).GenerationId);
        Assert.Equal("sticky", (await other).ProtocolName);
    }

    [Fact]
    public async Task StaticMember_LeaveByInstanceId_RemovesIt()
    {
        await using var h = new GroupHarness();
        var joins = new[] { h.Join(instanceId: "host-1"), h.Join() };
        h.Advance(TimeSpan.FromSeconds(6));
        var gen1 = await Task.WhenAll(joins);
        await h.SyncAll(gen1);

        var left = h.Coordinator.Leave(Group, [("", "host-1"), ("", "host-9")]);

        Assert.Equal([ErrorCode.None, ErrorCode.UnknownMemberId], left.Members.Select(m => m.Error));
        Assert.Single(h.Describe().Members);
    }

    [Fact]
    public async Task Cancel_NewMembersJoin_RemovesItAndTheRebalanceCompletesWithoutIt()
    {
        await using var h = new GroupHarness();
        var gen1 = await h.FormGroup(2);
        using var cts = new CancellationTokenSource();
        var newcomer = h.JoinCancellable("", null, cts.Token);
        Assert.Equal("PreparingRebalance", h.Describe().State);

        await cts.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => newcomer);
        var gen2 = await Task.WhenAll(h.Join(gen1[0].MemberId), h.Join(gen1[1].MemberId));
        Assert.Equal(2, gen2[0].Members.Count);
        Assert.Equal(2, gen2[0].GenerationId);
    }

    [Fact]
    public async Task Cancel_ExistingMembersRejoin_KeepsItUntilTheRebalanceTimeout()
    {
        await using var h = new GroupHarness();
        var longSession = TimeSpan.FromSeconds(45);
        var gen1 = await h.FormGroup(3, session: longSession);
        using var cts = new CancellationTokenSource();
        var cancelled = h.JoinCancellable(gen1[0].MemberId, longSession, cts.Token);
        var other = h.Join(gen1[1].MemberId, session: longSession);

        await cts.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => cancelled);
        Assert.False(other.IsCompleted);
        Assert.Equal(3, h.Describe().Members.Count);
        h.Advance(Rebalance);
        var gen2 = await other;
        Assert.Equal(gen1[1].MemberId, gen2.LeaderId);
        Assert.Single(gen2.Members);
    }

    [Fact]
    public async Task Cancel_ParkedSync_LeavesTheGroupUsable()
    {
        await using var h = new GroupHarness();
        var joins = Enumerable.Range(0, 2).Select(_ => h.Join()).ToList();
        h.Advance(TimeSpan.FromSeconds(6));
        var joined = await Task.WhenAll(joins);
        using var cts = new CancellationTokenSource();
        var parked = h.SyncCancellable(joined[1], cts.Token);

        await cts.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => parked);
        Assert.Equal(ErrorCode.None, (await Immediate(h.Sync(joined[0], [.. joined.Select(j => (j.MemberId, AssignmentFor(j.MemberId)))]))).Error);
        Assert.Equal(AssignmentFor(joined[1].MemberId), (await Immediate(h.Sync(joined[1]))).Assignment);
    }

    [Fact]
    public async Task Join_ManyConcurrentMembers_AllShareOneGeneration()
    {
        await using var h = new GroupHarness();
        var joins = new Task<JoinGroupResult>[64];

        Parallel.For(0, joins.Length, i => joins[i] = h.Join());
        h.Advance(TimeSpan.FromSeconds(3));
        h.Advance(TimeSpan.FromSeconds(3));

        var joined = await Task.WhenAll(joins);
        Assert.All(joined, j => Assert.Equal(1, j.GenerationId));
        Assert.Single(joined.Select(j => j.LeaderId).Distinct());
        Assert.Equal(64, joined.Single(j => j.MemberId == j.LeaderId).Members.Count);
        Assert.Equal(64, joined.Select(j => j.MemberId).Distinct().Count());
    }
}
