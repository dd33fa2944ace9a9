using Blueprint.Coordination.Recipes;

namespace Blueprint.Coordination.Tests.Recipes;

public abstract partial class RecipeTests
{
    [Fact]
    public async Task Election_ThreeCampaigners_ExactlyOneLeadsAndLeaderAsyncNamesIt()
    {
        var name = UniqueName("one-leader");
        string[] values = ["a", "b", "c"];
        var sessions = new List<EtcdSession>();
        foreach (var _ in values)
        {
            sessions.Add(await SessionAsync());
        }

        using var stop = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        var campaigns = values.Select((value, i) => new LeaderElection(sessions[i], name).CampaignAsync(value, stop.Token)).ToArray();
        await WaitForQueueLengthAsync(name, 3);
        var first = await Task.WhenAny(campaigns).WaitAsync(Deadline, Ct);
        await using var leadership = await first;

        var winner = Array.IndexOf(campaigns, first);
        Assert.Equal(1, campaigns.Count(campaign => campaign.IsCompleted));
        var leader = await new LeaderElection(sessions[0], name).LeaderAsync(Ct);
        Assert.NotNull(leader);
        Assert.Equal(values[winner], leader.Value.Value);
        Assert.Equal(leadership.Key, leader.Value.Key);
        Assert.Equal(leadership.FencingToken, leader.Value.FencingToken);

        await stop.CancelAsync();
        foreach (var losing in campaigns.Where(campaign => campaign != first))
        {
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => losing.WaitAsync(Deadline, Ct));
        }

        await WaitForQueueLengthAsync(name, 1);
    }

    [Fact]
    public async Task Election_LeaderResigns_NextCampaignerLeadsWithLargerToken()
    {
        var name = UniqueName("resign");
        var firstSession = await SessionAsync();
        var secondSession = await SessionAsync();
        var first = await new LeaderElection(firstSession, name).CampaignAsync("first", Ct);
        var second = new LeaderElection(secondSession, name).CampaignAsync("second", Ct);
        await WaitForQueueLengthAsync(name, 2);
        Assert.False(second.IsCompleted, "the second campaigner led while the first still led");

        await first.ResignAsync(Ct);
        Assert.True(first.Lost.IsCancellationRequested);
        await using var next = await second.WaitAsync(Deadline, Ct);
        Assert.True(next.FencingToken > first.FencingToken);
        var leader = await new LeaderElection(firstSession, name).LeaderAsync(Ct);
        Assert.Equal("second", leader?.Value);
    }

    [Fact]
    public async Task Election_Observe_SeesEachLeaderAndProclamationInOrder()
    {
        var name = UniqueName("observe");
        var observerSession = await SessionAsync();
        var aSession = await SessionAsync();
        var bSession = await SessionAsync();
        var cSession = await SessionAsync();
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        await using var observed = new LeaderElection(observerSession, name).ObserveAsync(stop.Token).GetAsyncEnumerator(stop.Token);
        async Task<string> NextAsync()
        {
            Assert.True(await observed.MoveNextAsync().AsTask().WaitAsync(Deadline, Ct));
            return observed.Current;
        }

        // The observer starts while nobody leads and waits for the first campaigner.
        var pending = NextAsync();
        var a = await new LeaderElection(aSession, name).CampaignAsync("a", Ct);
        Assert.Equal("a", await pending);

        var bCampaign = new LeaderElection(bSession, name).CampaignAsync("b", Ct);
        await WaitForQueueLengthAsync(name, 2);
        await a.ProclaimAsync("a2", Ct);
        Assert.Equal("a2", await NextAsync());

        await a.ResignAsync(Ct);
        Assert.Equal("b", await NextAsync());
        var b = await bCampaign.WaitAsync(Deadline, Ct);

        await b.ResignAsync(Ct);
        Assert.Null(await new LeaderElection(observerSession, name).LeaderAsync(Ct));
        pending = NextAsync();
        await using var c = await new LeaderElection(cSession, name).CampaignAsync("c", Ct);
        Assert.Equal("c", await pending);

        await stop.CancelAsync();
    }

    [Fact]
    public async Task Election_NobodyCampaigned_LeaderAsyncReturnsNull()
    {
        var session = await SessionAsync();

        Assert.Null(await new LeaderElection(session, UniqueName("empty")).LeaderAsync(Ct));
    }

    [Fact]
    public async Task Election_ProclaimAfterLeaseRevoked_ThrowsNotLeaderAndWritesNothing()
    {
        var name = UniqueName("proclaim");
        var staleSession = await SessionAsync(ShortTtlSeconds);
        var successorSession = await SessionAsync();
        var stale = await new LeaderElection(staleSession, name).CampaignAsync("stale", Ct);
        await RevokeAsync(staleSession.LeaseId);
        await using var successor = await new LeaderElection(successorSession, name).CampaignAsync("successor", Ct).WaitAsync(Deadline, Ct);

        await Assert.ThrowsAsync<NotLeaderException>(() => stale.ProclaimAsync("stale again", Ct));

        Assert.True(stale.Lost.IsCancellationRequested);
        var leader = await new LeaderElection(successorSession, name).LeaderAsync(Ct);
        Assert.Equal(("successor", successor.FencingToken), (leader?.Value, leader?.FencingToken));
        await stale.ResignAsync(Ct);
        Assert.NotNull(await new LeaderElection(successorSession, name).LeaderAsync(Ct));
    }
}
