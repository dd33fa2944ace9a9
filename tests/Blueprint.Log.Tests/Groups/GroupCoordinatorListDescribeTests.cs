using Blueprint.Log.Groups;
using Blueprint.Log.Kafka;
using static Blueprint.Log.Tests.Groups.GroupHarness;

namespace Blueprint.Log.Tests.Groups;

public sealed class GroupCoordinatorListDescribeTests
{
    private static string StateOf(GroupHarness h) => h.Coordinator.ListGroups().Single(g => g.GroupId == Group).State;

    [Fact]
    public async Task ListGroups_FollowsTheGroupThroughItsStates()
    {
        await using var h = new GroupHarness();
        Assert.Empty(h.Coordinator.ListGroups());

        await h.Join(requireKnownMemberId: true);
        Assert.Equal("Empty", StateOf(h));
        var joins = new[] { h.Join(), h.Join() };
        Assert.Equal("PreparingRebalance", StateOf(h));
        h.Advance(TimeSpan.FromSeconds(6));
        var joined = await Task.WhenAll(joins);
        Assert.Equal("CompletingRebalance", StateOf(h));
        await h.SyncAll(joined);
        Assert.Equal("Stable", StateOf(h));
        await h.Coordinator.CommitOffsetsAsync(new OffsetCommitCall("simple", -1, "", null, [new("t", 0, 1, -1, null)]), TestContext.Current.CancellationToken);

        Assert.Equal([("orders", "consumer", "Stable"), ("simple", "", "Empty")], h.Coordinator.ListGroups());
    }

    [Fact]
    public async Task DescribeGroups_StableGroup_ShowsMembersWithMetadataAndAssignment()
    {
        await using var h = new GroupHarness();
        var joined = await h.FormGroup(2);

        var description = h.Describe();

        Assert.Equal(ErrorCode.None, description.ErrorCode);
        Assert.Equal(("Stable", "consumer", "range"), (description.State, description.ProtocolType, description.Protocol));
        Assert.Equal(2, description.Members.Count);
        foreach (var member in joined)
        {
            var described = description.Members.Single(m => m.MemberId == member.MemberId);
            Assert.Equal(("client", "/10.0.0.1", (string?)null), (described.ClientId, described.ClientHost, described.GroupInstanceId));
            Assert.Equal(Subscription("payments", "range"), described.Metadata);
            Assert.Equal(AssignmentFor(member.MemberId), described.Assignment);
        }
    }

    [Fact]
    public async Task DescribeGroups_RebalancingGroup_ShowsMembersWithoutMetadataOrProtocol()
    {
        await using var h = new GroupHarness();
        var joins = new[] { h.Join(instanceId: "host-1"), h.Join() };
        h.Advance(TimeSpan.FromSeconds(6));
        await Task.WhenAll(joins);

        var description = h.Describe();

        Assert.Equal(("CompletingRebalance", "consumer", ""), (description.State, description.ProtocolType, description.Protocol));
        Assert.Equal(["host-1", null], description.Members.Select(m => m.GroupInstanceId));
        Assert.All(description.Members, m => Assert.Empty(m.Metadata));
        Assert.All(description.Members, m => Assert.Empty(m.Assignment));
    }

    [Fact]
    public async Task DescribeGroups_UnknownOrInvalidGroup()
    {
        await using var h = new GroupHarness(new GroupCoordinatorOptions { MaxGroupIdLength = 5 });

        var described = h.Coordinator.DescribeGroups(["nope", "much-too-long"]);

        Assert.Equal(new GroupDescription(ErrorCode.None, "nope", "Dead", "", "", []), described[0] with { Members = [] });
        Assert.Empty(described[0].Members);
        Assert.Equal(ErrorCode.InvalidGroupId, described[1].ErrorCode);
    }
}
