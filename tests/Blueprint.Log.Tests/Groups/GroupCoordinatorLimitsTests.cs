using Blueprint.Log.Groups;
using Blueprint.Log.Kafka;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using static Blueprint.Log.Tests.Groups.GroupHarness;

namespace Blueprint.Log.Tests.Groups;

public sealed class GroupCoordinatorLimitsTests
{
    [Fact]
    public async Task Join_BeyondMaxGroupSize_GroupMaxSizeReached()
    {
        await using var h = new GroupHarness(new GroupCoordinatorOptions { MaxGroupSize = 2 });
        var gen1 = await h.FormGroup(2);

        var third = await Immediate(h.Join());
        var thirdWithId = await Immediate(h.Join(requireKnownMemberId: true));

        Assert.Equal(ErrorCode.GroupMaxSizeReached, third.Error);
        Assert.Equal("", third.MemberId);
        Assert.Equal(ErrorCode.GroupMaxSizeReached, thirdWithId.Error);
        Assert.Equal("Stable", h.Describe().State);
        Assert.Equal(2, h.Describe().Members.Count);
        Assert.Equal(ErrorCode.None, h.Heartbeat(gen1[1]));
    }

    [Fact]
    public async Task Join_MemberIdsHandedOutBeyondMaxGroupSize_GroupMaxSizeReached()
    {
        await using var h = new GroupHarness(new GroupCoordinatorOptions { MaxGroupSize = 2 });

        var handedOut = new[] { await Immediate(h.Join(requireKnownMemberId: true)), await Immediate(h.Join(requireKnownMemberId: true)), await Immediate(h.Join(requireKnownMemberId: true)) };

        Assert.Equal([ErrorCode.MemberIdRequired, ErrorCode.MemberIdRequired, ErrorCode.GroupMaxSizeReached], handedOut.Select(j => j.Error));
        h.Advance(Session);
        Assert.Equal(ErrorCode.MemberIdRequired, (await Immediate(h.Join(requireKnownMemberId: true))).Error);
    }

    [Fact]
    public async Task Join_BadGroupIdOrSessionTimeout_IsRefused()
    {
        await using var h = new GroupHarness(new GroupCoordinatorOptions { MaxGroupIdLength = 10 });

        Assert.Equal(ErrorCode.InvalidGroupId, (await h.Coordinator.JoinAsync(JoinCall(group: ""), TestContext.Current.CancellationToken)).Error);
        Assert.Equal(ErrorCode.InvalidGroupId, (await h.Coordinator.JoinAsync(JoinCall(group: new string('g', 11)), TestContext.Current.CancellationToken)).Error);
        Assert.Equal(ErrorCode.InvalidSessionTimeout, (await h.Join(session: TimeSpan.FromSeconds(5))).Error);
        Assert.Equal(ErrorCode.InvalidSessionTimeout, (await h.Join(session: TimeSpan.FromMinutes(31))).Error);
        Assert.Equal(0, h.Coordinator.GroupCount);
    }

    [Fact]
    public async Task Join_TooManyProtocolsOrTooMuchMetadata_InvalidRequest()
    {
        await using var h = new GroupHarness(new GroupCoordinatorOptions { MaxProtocolsPerMember = 2, MaxMemberMetadataBytes = 2048 });

        var tooMany = await Immediate(h.Join(protocols: Protocols("a", "b", "c")));
        var tooLarge = await Immediate(h.Join(protocols: [("range", new byte[2048])]));
        var fits = h.Join(protocols: [("range", new byte[2000])]);

        Assert.Equal(ErrorCode.InvalidRequest, tooMany.Error);
        Assert.Equal(ErrorCode.InvalidRequest, tooLarge.Error);
        Assert.False(fits.IsCompleted);
    }

    [Fact]
    public async Task Groups_BeyondMaxGroups_CoordinatorNotAvailable()
    {
        await using var h = new GroupHarness(new GroupCoordinatorOptions { MaxGroups = 2 });
        await h.Coordinator.CommitOffsetsAsync(new OffsetCommitCall("one", -1, "", null, [new("t", 0, 1, -1, null)]), TestContext.Current.CancellationToken);
        _ = h.Coordinator.JoinAsync(JoinCall(group: "two"), TestContext.Current.CancellationToken);

        var join = await Immediate(h.Coordinator.JoinAsync(JoinCall(group: "three"), TestContext.Current.CancellationToken));
        var commit = await h.Coordinator.CommitOffsetsAsync(new OffsetCommitCall("four", -1, "", null, [new("t", 0, 1, -1, null)]), TestContext.Current.CancellationToken);
        var existing = await h.Coordinator.CommitOffsetsAsync(new OffsetCommitCall("one", -1, "", null, [new("t", 0, 2, -1, null)]), TestContext.Current.CancellationToken);

        Assert.Equal(ErrorCode.CoordinatorNotAvailable, join.Error);
        Assert.Equal(ErrorCode.CoordinatorNotAvailable, commit.Single().Error);
        Assert.Equal(ErrorCode.None, existing.Single().Error);
        Assert.Equal(2, h.Coordinator.GroupCount);
    }

    [Fact]
    public async Task Sync_AssignmentTooLarge_FailsTheGenerationAndRebalances()
    {
        await using var h = new GroupHarness(new GroupCoordinatorOptions { MaxAssignmentBytes = 1024 });
        var joins = new[] { h.Join(), h.Join() };
        h.Advance(TimeSpan.FromSeconds(6));
        var joined = await Task.WhenAll(joins);
        var follower = h.Sync(joined[1]);

        var leader = await Immediate(h.Sync(joined[0], [(joined[0].MemberId, new byte[10]), (joined[1].MemberId, new byte[1025])]));

        Assert.Equal(ErrorCode.UnknownServerError, leader.Error);
        Assert.Equal(ErrorCode.UnknownServerError, (await Immediate(follower)).Error);
        Assert.Equal("PreparingRebalance", h.Describe().State);
    }

    [Fact]
    public void Options_Invalid_EveryProblemReportedAtOnce()
    {
        using var directory = new TempDirectory("groups");
        var options = new GroupCoordinatorOptions { MinSessionTimeout = TimeSpan.FromMinutes(40), MaxGroupSize = 0, MaxMetadataBytes = -1 };

        var error = Assert.Throws<ArgumentException>(() => GroupCoordinator.Open(directory.Path, options, new FakeTimeProvider(), NullLogger.Instance));

        Assert.Contains("MinSessionTimeout", error.Message, StringComparison.Ordinal);
        Assert.Contains("MaxGroupSize", error.Message, StringComparison.Ordinal);
        Assert.Contains("MaxMetadataBytes", error.Message, StringComparison.Ordinal);
        Assert.Empty(new GroupCoordinatorOptions().Validate());
    }

    [Fact]
    public async Task Disposed_ParkedRequestsGetNotCoordinatorAndLaterCallsCoordinatorNotAvailable()
    {
        var h = new GroupHarness();
        var parked = h.Join();

        await h.DisposeAsync();

        Assert.Equal(ErrorCode.NotCoordinator, (await parked).Error);
        Assert.Equal(ErrorCode.CoordinatorNotAvailable, (await h.Join()).Error);
        Assert.Equal(ErrorCode.CoordinatorNotAvailable, h.Coordinator.Heartbeat(Group, 1, "m", null));
        Assert.Equal(ErrorCode.CoordinatorNotAvailable, h.Coordinator.FetchOffsets(Group, null).Error);
    }
}
