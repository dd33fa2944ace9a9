using Blueprint.Coordination.Etcd.Rpc;
using Blueprint.Coordination.Watch;
using static Blueprint.Coordination.Tests.Mvcc.Requests;

namespace Blueprint.Coordination.Tests.Watch;

/// <summary>Delivery guarantees under load: every revision once, in order, whole; Apply never waits for a watcher.</summary>
public sealed class WatchDeliveryTests
{
    [Fact]
    public async Task ConcurrentApply_LiveAndReplayingWatchers_SeeEveryRevisionOnceInOrderAndWhole()
    {
        const int Writes = 600;
        var options = new WatchOptions { EventsPerResponseMax = 3, HistoryScanEntriesMax = 5 };
        await using var h = new SessionHarness(options);
        await h.Create("k", "l", watchId: 1);
        Assert.True((await h.Next()).Created);
        var writer = Task.Run(
            () =>
            {
                for (var i = 0; i < Writes; i++)
                {
                    h.Store.Ok(i % 3 == 0
                        ? Txn(new TxnRequest { Success = { PutOp($"k{i % 7}", $"{i}"), PutOp($"k{(i % 7) + 1}x", $"{i}") } })
                        : Put($"k{i % 5}", $"{i}"));
                }
            },
            TestContext.Current.CancellationToken);

        // A second watcher joins mid-stream and replays from the very first revision.
        await h.Create("k", "l", startRevision: 2, watchId: 2);
        var perWatcher = new Dictionary<long, List<(long Revision, int Events)>> { [1] = [], [2] = [] };
        var last = Writes + 1;
        while (perWatcher.Values.Any(seen => seen.Count == 0 || seen[^1].Revision < last))
        {
            var response = await h.Next();
            if (response.Created)
            {
                continue;
            }

            Assert.False(response.Canceled);
            foreach (var group in response.Events.GroupBy(e => e.Kv.ModRevision))
            {
                perWatcher[response.WatchId].Add((group.Key, group.Count()));
            }
        }

        await writer;
        var expected = Enumerable.Range(0, Writes).Select(i => (Revision: (long)i + 2, Events: i % 3 == 0 ? 2 : 1)).ToList();

        // A revision split over two responses, a skipped or a repeated one would each break these.
        Assert.Equal(expected, perWatcher[1]);
        Assert.Equal(expected, perWatcher[2]);
        Assert.Empty(await h.DrainWithProgress());
    }

    [Fact]
    public async Task SlowClient_ApplyNeverWaitsAndCompactionPastItCancelsWithCompactRevision()
    {
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var stuck = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        SessionHarness? harness = null;
        var events = 0;
        async Task Send(WatchResponse response, CancellationToken cancellationToken)
        {
            if (response.Events.Count > 0 && Interlocked.Increment(ref events) == 1)
            {
                stuck.SetResult();
                await gate.Task.WaitAsync(cancellationToken);
            }

            await harness!.Collect(response, cancellationToken);
        }

        await using var h = harness = new SessionHarness(new WatchOptions { EventsPerResponseMax = 1 }, send: Send);
        await h.Create("a");
        Assert.True((await h.Next()).Created);
        h.Store.Ok(Put("a", "first"));
        await stuck.Task.WaitAsync(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken);

        // The session is now stuck sending "first"; thousands of applies still go through at once.
        for (var i = 0; i < 5_000; i++)
        {
            h.Store.Ok(Put("a", $"{i}"));
        }

        h.Store.Ok(Compact(h.Store.Revision));
        gate.SetResult();
        Assert.Equal(["PUT a=first@2"], SessionHarness.Describe(await h.Next()));
        var canceled = await h.Next();
        Assert.Equal((true, h.Store.CompactRevision), (canceled.Canceled, canceled.CompactRevision));
        Assert.Empty(await h.DrainWithProgress());
    }
}
