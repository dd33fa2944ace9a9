using Blueprint.Coordination.Etcd.Rpc;
using Blueprint.Coordination.Watch;
using static Blueprint.Coordination.Tests.Mvcc.Requests;
using static Blueprint.Coordination.Tests.Watch.SessionHarness;
using FilterType = Blueprint.Coordination.Etcd.Rpc.WatchCreateRequest.Types.FilterType;

namespace Blueprint.Coordination.Tests.Watch;

public sealed class WatchSessionTests
{
    [Fact]
    public async Task Create_NoStartRevision_AnswersCreatedThenOnlyNewMatchingEvents()
    {
        await using var h = new SessionHarness();
        h.Store.Ok(Put("a", "0"));
        await h.Create("a");
        var created = await h.Next();
        Assert.True(created.Created);
        Assert.Equal((0L, 2L, 7UL, 9UL, 3UL), (created.WatchId, created.Header.Revision, created.Header.ClusterId, created.Header.MemberId, created.Header.RaftTerm));
        h.Store.Ok(Put("a", "1"));
        h.Store.Ok(Put("b", "1"));
        h.Store.Ok(Delete("a"));
        var responses = await h.DrainWithProgress();
        Assert.Equal(["PUT a=1@3", "DELETE a@5"], responses.SelectMany(Describe));
        Assert.All(responses, response => Assert.Equal(0, response.WatchId));
    }

    [Fact]
    public async Task Create_StartRevision_ReplaysHistoryInOrderWithPrevKv()
    {
        await using var h = new SessionHarness();
        h.Store.Ok(Put("a", "1")); // 2
        h.Store.Ok(Put("b", "1")); // 3
        h.Store.Ok(Put("a", "2")); // 4
        h.Store.Ok(Delete("a", "c")); // 5
        await h.Create("a", "b\0", startRevision: 3, prevKv: true);
        Assert.True((await h.Next()).Created);
        var replay = await h.DrainWithProgress();
        var events = replay.SelectMany(r => r.Events).ToList();
        Assert.Equal(["PUT b=1@3", "PUT a=2@4", "DELETE a@5", "DELETE b@5"], replay.SelectMany(Describe));
        Assert.Null(events[0].PrevKv);
        Assert.Equal("1", S(events[1].PrevKv.Value));
        Assert.Equal("2", S(events[2].PrevKv.Value));
        Assert.Equal("1", S(events[3].PrevKv.Value));
    }

    [Fact]
    public async Task Create_CompactedStartRevision_AnswersCreatedThenCanceledWithCompactRevision()
    {
        await using var h = new SessionHarness();
        for (var i = 0; i < 5; i++)
        {
            h.Store.Ok(Put("a", $"{i}"));
        }

        h.Store.Ok(Compact(4));
        await h.Create("a", startRevision: 3);
        var created = await h.Next();
        var canceled = await h.Next();
        Assert.True(created.Created);
        Assert.Equal((true, 4L, created.WatchId), (canceled.Canceled, canceled.CompactRevision, canceled.WatchId));
        h.Store.Ok(Put("a", "later"));
        Assert.Empty(await h.DrainWithProgress());
    }

    [Fact]
    public async Task Create_AtCompactRevision_ReplaysFromIt()
    {
        await using var h = new SessionHarness();
        h.Store.Ok(Put("a", "1")); // 2
        h.Store.Ok(Put("a", "2")); // 3
        h.Store.Ok(Compact(3));
        await h.Create("a", startRevision: 3);
        Assert.True((await h.Next()).Created);
        Assert.Equal(["PUT a=2@3"], (await h.DrainWithProgress()).SelectMany(Describe));
    }

    [Theory]
    [InlineData(FilterType.Noput, new[] { "DELETE a@3" })]
    [InlineData(FilterType.Nodelete, new[] { "PUT a=1@2" })]
    public async Task Create_Filter_DropsThatEventType(FilterType filter, string[] expected)
    {
        await using var h = new SessionHarness();
        await h.Create("a", filters: filter);
        Assert.True((await h.Next()).Created);
        h.Store.Ok(Put("a", "1"));
        h.Store.Ok(Delete("a"));
        Assert.Equal(expected, (await h.DrainWithProgress()).SelectMany(Describe));
    }

    [Fact]
    public async Task Txn_EventsOfOneRevision_ArriveInOneResponse()
    {
        await using var h = new SessionHarness(new WatchOptions { EventsPerResponseMax = 1 });
        await h.Create("a", "\0");
        Assert.True((await h.Next()).Created);
        h.Store.Ok(Txn(new TxnRequest { Success = { PutOp("x", "1"), PutOp("y", "1"), PutOp("z", "1") } }));
        h.Store.Ok(Put("x", "2"));
        var responses = await h.DrainWithProgress();
        Assert.Equal(2, responses.Count);
        Assert.Equal(["PUT x=1@2", "PUT y=1@2", "PUT z=1@2"], Describe(responses[0]));
        Assert.Equal(["PUT x=2@3"], Describe(responses[1]));
    }

    [Fact]
    public async Task Cancel_Watcher_AnswersCanceledAndStopsEvents()
    {
        await using var h = new SessionHarness();
        await h.Create("a");
        var id = (await h.Next()).WatchId;
        await h.Cancel(id);
        var canceled = await h.Next();
        Assert.Equal((id, true), (canceled.WatchId, canceled.Canceled));
        h.Store.Ok(Put("a", "1"));
        await h.Cancel(id);
        Assert.Empty(await h.DrainWithProgress());
    }

    [Fact]
    public async Task Progress_Request_AnswersCurrentRevisionWithWatchIdMinusOne()
    {
        await using var h = new SessionHarness();
        h.Store.Ok(Put("a", "1"));
        h.Store.Ok(Put("a", "2"));
        await h.Submit(new WatchRequest { ProgressRequest = new WatchProgressRequest() });
        var progress = await h.Next();
        Assert.Equal((-1L, 3L, false, 0), (progress.WatchId, progress.Header.Revision, progress.Created, progress.Events.Count));
    }

    [Fact]
    public async Task ProgressNotify_IdleInterval_SendsEmptyResponsePerWatcher()
    {
        var options = new WatchOptions { ProgressNotifyInterval = TimeSpan.FromSeconds(5) };
        await using var h = new SessionHarness(options);
        await h.Create("a", progressNotify: true);
        await h.Create("b");
        var first = (await h.Next()).WatchId;
        Assert.True((await h.Next()).Created);
        h.Store.Ok(Put("z", "1"));
        // The session has seen revision 2 before the interval ends: a pass already under way when the write lands
        // would truthfully report the revision it started at.
        Assert.Empty(await h.DrainWithProgress());
        h.Time.Advance(TimeSpan.FromSeconds(5));
        var notify = await h.Next();
        Assert.Equal((first, 2L, 0), (notify.WatchId, notify.Header.Revision, notify.Events.Count));
        Assert.Empty(await h.DrainWithProgress());
    }

    [Fact]
    public async Task ProgressNotify_AfterEvents_SkipsThatInterval()
    {
        await using var h = new SessionHarness(new WatchOptions { ProgressNotifyInterval = TimeSpan.FromSeconds(5) });
        await h.Create("a", progressNotify: true);
        Assert.True((await h.Next()).Created);
        h.Store.Ok(Put("a", "1"));
        Assert.Single(await h.DrainWithProgress());
        h.Time.Advance(TimeSpan.FromSeconds(5));
        Assert.Empty(await h.DrainWithProgress());
        h.Time.Advance(TimeSpan.FromSeconds(5));
        var notify = await h.Next();
        Assert.Equal((0L, 0), (notify.WatchId, notify.Events.Count));
    }

    [Fact]
    public async Task Create_Ids_AutoIncrementSkippingClientChosenOnes()
    {
        await using var h = new SessionHarness();
        await h.Create("a", watchId: 1);
        await h.Create("a");
        await h.Create("a");
        await h.Create("a", watchId: 1);
        var ids = new List<long> { (await h.Next()).WatchId, (await h.Next()).WatchId, (await h.Next()).WatchId };
        Assert.Equal([1L, 0L, 2L], ids);
        var duplicate = await h.Next();
        Assert.Equal((-1L, true, true, WatchSession.DuplicateIdReason), (duplicate.WatchId, duplicate.Created, duplicate.Canceled, duplicate.CancelReason));
    }

    [Fact]
    public async Task Create_EmptyRange_IsCanceledWithReason()
    {
        await using var h = new SessionHarness();
        await h.Create("b", "a");
        var response = await h.Next();
        Assert.Equal((true, true, WatchSession.EmptyRangeReason), (response.Created, response.Canceled, response.CancelReason));
    }

    [Fact]
    public async Task Create_PastWatcherLimit_IsCanceledWithReason()
    {
        await using var h = new SessionHarness(new WatchOptions { WatchersPerStreamMax = 1 });
        await h.Create("a");
        await h.Create("b");
        Assert.False((await h.Next()).Canceled);
        Assert.Equal(WatchSession.TooManyWatchersReason, (await h.Next()).CancelReason);
    }

    [Fact]
    public void Options_OutOfRange_ReportsEveryProblem()
    {
        var options = new WatchOptions { EventsPerResponseMax = 0, ProgressNotifyInterval = TimeSpan.Zero };
        var error = Assert.Throws<ArgumentOutOfRangeException>(options.Validate);
        Assert.Contains(nameof(WatchOptions.EventsPerResponseMax), error.Message, StringComparison.Ordinal);
        Assert.Contains(nameof(WatchOptions.ProgressNotifyInterval), error.Message, StringComparison.Ordinal);
    }
}
