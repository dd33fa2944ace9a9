using Blueprint.Log.Storage;
using static Blueprint.Log.Tests.Storage.Batches;

namespace Blueprint.Log.Tests.Storage;

public sealed class PartitionLogFsyncTests
{
    [Fact]
    public async Task AppendAsync_PerBatchOneAtATime_FsyncsEachAppend()
    {
        await using var harness = LogHarness.Open();

        for (int i = 0; i < 5; i++)
        {
            await harness.Log.AppendAsync(Values(1, $"v{i}"), Cancel);
        }

        Assert.Equal(5, harness.Log.FsyncCount);
    }

    [Fact]
    public async Task AppendAsync_ConcurrentAppenders_ShareFsyncs()
    {
        await using var harness = LogHarness.Open();
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var firstRoundStarted = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        harness.Log.BeforeFsync = () =>
        {
            firstRoundStarted.TrySetResult();
            return gate.Task;
        };

        var first = harness.Log.AppendAsync(Values(1, "first"), Cancel).AsTask();
        await firstRoundStarted.Task.WaitAsync(TimeSpan.FromSeconds(30), Cancel);
        var rest = Enumerable.Range(1, 49).Select(i => harness.Log.AppendAsync(Values(1, $"v{i}")).AsTask()).ToList();

        // Every append is written (offsets given) but none is acknowledged while the fsync is held.
        Assert.Equal(50, harness.Log.LogEndOffset);
        Assert.False(first.IsCompleted);
        Assert.All(rest, t => Assert.False(t.IsCompleted));

        gate.SetResult();
        var results = await Task.WhenAll(rest.Prepend(first)).WaitAsync(TimeSpan.FromSeconds(30), Cancel);

        Assert.Equal(Enumerable.Range(0, 50).Select(i => (long)i), results.Select(r => r.BaseOffset).Order());
        Assert.Equal(2, harness.Log.FsyncCount);
    }

    [Fact]
    public async Task AppendAsync_IntervalPolicy_CompletesBeforeTheFsyncThatATickThenDoes()
    {
        await using var harness = LogHarness.Open(new PartitionLogConfig { Fsync = FsyncPolicy.Interval, FsyncInterval = TimeSpan.FromMilliseconds(100) });

        var append = harness.Log.AppendAsync(Values(1, "a"), Cancel);
        Assert.True(append.IsCompletedSuccessfully);
        await harness.Log.AppendAsync(Values(1, "b"), Cancel);
        Assert.Equal(0, harness.Log.FsyncCount);

        harness.Time.Advance(TimeSpan.FromMilliseconds(100));
        await harness.Log.BackgroundFlush.WaitAsync(TimeSpan.FromSeconds(30), Cancel);
        Assert.Equal(1, harness.Log.FsyncCount);

        harness.Time.Advance(TimeSpan.FromMilliseconds(100));
        await harness.Log.BackgroundFlush.WaitAsync(TimeSpan.FromSeconds(30), Cancel);
        Assert.Equal(1, harness.Log.FsyncCount);

        await harness.Log.AppendAsync(Values(1, "c"), Cancel);
        await harness.Log.FlushAsync(Cancel);
        Assert.Equal(2, harness.Log.FsyncCount);
    }
}
