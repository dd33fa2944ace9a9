using Blueprint.Cache.Patterns;
using Microsoft.Extensions.Time.Testing;

namespace Blueprint.Cache.Tests.Patterns;

public sealed class WriteBehindTests
{
    private static readonly TimeSpan Ttl = TimeSpan.FromMinutes(10);
    private static readonly TimeSpan FlushDelay = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(10);
    private readonly FakeTimeProvider _time = new();
    private readonly MemoryStore _store = new();
    private readonly MemoryCache _cache;

    public WriteBehindTests() => _cache = new MemoryCache(_time);

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    private WriteBehind<string, string> Create(int capacity = 100, int batch = 10, WriteBehindFullPolicy full = WriteBehindFullPolicy.Reject, int attempts = 5) =>
        new(_cache, _store, Ttl, new WriteBehindOptions
        {
            QueueCapacity = capacity,
            BatchSizeMax = batch,
            FlushDelayMax = FlushDelay,
            FullPolicy = full,
            WriteAttemptsMax = attempts,
            RetryDelayFirst = TimeSpan.FromMilliseconds(100),
            RetryDelayMax = TimeSpan.FromMilliseconds(400),
        }, _time);

    [Fact]
    public async Task Set_Acknowledged_IsCachedAtOnceAndInTheDatabaseAfterTheFlushDelay()
    {
        await using var behind = Create();

        await behind.SetAsync("a", "one", Token);

        Assert.Equal("one", _cache.Peek("a"));
        Assert.Null(_store.Peek("a"));
        Assert.Equal(1, behind.Stats.QueueDepth);
        Assert.Equal(new PatternRead<string>("one", ReadSource.Cache), await behind.GetAsync("a", Token));

        _time.Advance(FlushDelay);
        await Eventually.TrueAsync(() => behind.Stats.Flushed == 1, Deadline, () => $"{behind.Stats}", Token);
        Assert.Equal("one", _store.Peek("a"));
        Assert.Equal(new WriteBehindStats(QueueDepth: 0, InFlight: 0, Accepted: 1, Coalesced: 0, Rejected: 0, Flushed: 1, Batches: 1, Retries: 0, DeadLettered: 0), behind.Stats);
        Assert.Equal(1, behind.Counters.DatabaseWrites);
    }

    [Fact]
    public async Task Set_MoreThanABatch_WritesFullBatchesAtOnceInOrderAndTheRestAfterTheDelay()
    {
        await using var behind = Create(batch: 3);

        for (var i = 0; i < 7; i++)
        {
            await behind.SetAsync($"k{i}", $"v{i}", Token);
        }

        await Eventually.TrueAsync(() => _store.Batches.Count == 2, Deadline, () => $"batches: {_store.Batches.Count}", Token);
        Assert.Equal(1, behind.Stats.QueueDepth);
        _time.Advance(FlushDelay);
        await Eventually.TrueAsync(() => behind.Stats.Flushed == 7, Deadline, () => $"{behind.Stats}", Token);

        Assert.Equal(
            [["k0", "k1", "k2"], ["k3", "k4", "k5"], ["k6"]],
            _store.Batches.Select(batch => batch.Select(write => write.Key).ToArray()).ToArray());
        Assert.Equal(3, behind.Stats.Batches);
    }

    [Fact]
    public async Task Set_SameKeyRepeatedly_CoalescesIntoOneWriteOfTheLastValue()
    {
        await using var behind = Create();

        await behind.SetAsync("a", "1", Token);
        await behind.SetAsync("b", "1", Token);
        await behind.SetAsync("a", "2", Token);
        await behind.SetAsync("a", "3", Token);

        Assert.Equal(2, behind.Stats.QueueDepth);
        Assert.Equal(2, behind.Stats.Coalesced);
        _time.Advance(FlushDelay);
        await Eventually.TrueAsync(() => behind.Stats.Flushed == 2, Deadline, () => $"{behind.Stats}", Token);
        Assert.Equal([new RecordWrite<string, string>("a", "3"), new RecordWrite<string, string>("b", "1")], _store.Batches[0]);
        Assert.Equal(4, behind.Stats.Accepted);
        Assert.Equal(1, behind.Counters.DatabaseWrites);
    }

    [Fact]
    public async Task Set_QueueFullWithReject_FailsTheWriteAndLeavesItsValueUncached()
    {
        _store.BatchGate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var behind = Create(capacity: 2, batch: 2);
        await behind.SetAsync("a", "1", Token);
        await behind.SetAsync("b", "1", Token);
        await Eventually.TrueAsync(() => _store.BatchAttempts == 1, Deadline, () => $"attempts: {_store.BatchAttempts}", Token);
        await behind.SetAsync("c", "1", Token);
        await behind.SetAsync("d", "1", Token);

        var error = await Assert.ThrowsAsync<WriteBehindRejectedException>(() => behind.SetAsync("e", "1", Token).AsTask());

        Assert.Contains("full", error.Message, StringComparison.Ordinal);
        Assert.Null(_cache.Peek("e"));
        Assert.Equal((2, 2, 1L), (behind.Stats.QueueDepth, behind.Stats.InFlight, behind.Stats.Rejected));
        // A key already queued takes no new slot.
        await behind.SetAsync("c", "2", Token);
        _store.BatchGate.SetResult();
        await Eventually.TrueAsync(() => behind.Stats.Flushed == 4, Deadline, () => $"{behind.Stats}", Token);
        Assert.Equal(["1", "1", "2", "1", null], new[] { "a", "b", "c", "d", "e" }.Select(_store.Peek));
    }

    [Fact]
    public async Task Set_QueueFullWithWait_WaitsUntilTheFlusherMakesRoom()
    {
        _store.BatchGate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var behind = Create(capacity: 1, batch: 1, full: WriteBehindFullPolicy.Wait);
        await behind.SetAsync("a", "1", Token);
        await Eventually.TrueAsync(() => _store.BatchAttempts == 1, Deadline, () => $"attempts: {_store.BatchAttempts}", Token);
        await behind.SetAsync("b", "1", Token);

        var waiting = behind.SetAsync("c", "1", Token).AsTask();

        Assert.False(waiting.IsCompleted, "the write should wait while the queue is full");
        _store.BatchGate.SetResult();
        await waiting.WaitAsync(Deadline, Token);
        await Eventually.TrueAsync(() => _store.Peek("c") == "1", Deadline, () => $"{behind.Stats}", Token);
        Assert.Equal(0, behind.Stats.Rejected);
    }

    [Fact]
    public async Task Flush_StoreFailsTwice_RetriesAndThenWritesTheBatch()
    {
        _store.BatchFailuresLeft = 2;
        await using var behind = Create();
        await behind.SetAsync("a", "1", Token);

        await AdvanceUntilAsync(() => behind.Stats.Flushed == 1, () => $"{behind.Stats}");

        Assert.Equal("1", _store.Peek("a"));
        Assert.Equal(3, _store.BatchAttempts);
        Assert.Equal((2L, 0L), (behind.Stats.Retries, behind.Stats.DeadLettered));
    }

    [Fact]
    public async Task Flush_StoreKeepsFailing_DeadLettersAfterTheLastTryAndUncachesTheValues()
    {
        _store.BatchFailuresLeft = -1;
        await using var behind = Create(attempts: 3);
        await behind.SetAsync("a", "1", Token);
        await behind.SetAsync("b", "1", Token);

        await AdvanceUntilAsync(() => behind.Stats.DeadLettered == 2, () => $"{behind.Stats}");

        Assert.Equal(3, _store.BatchAttempts);
        Assert.Equal((2L, 0L, 0), (behind.Stats.Retries, behind.Stats.Flushed, behind.Stats.InFlight));
        Assert.Equal(["a", "b"], behind.DeadLetters.Select(letter => letter.Write.Key));
        Assert.Equal("the database is down", behind.DeadLetters[0].Error);
        Assert.Null(_cache.Peek("a"));
        Assert.False((await behind.GetAsync("a", Token)).Found);
    }

    [Fact]
    public async Task Stop_WithWritesQueued_FlushesEveryAcknowledgedWriteWithoutWaitingForTheDelay()
    {
        var behind = Create(batch: 2);
        for (var i = 0; i < 5; i++)
        {
            await behind.SetAsync($"k{i}", $"v{i}", Token);
        }

        await behind.StopAsync(Token);

        Assert.All(Enumerable.Range(0, 5), i => Assert.Equal($"v{i}", _store.Peek($"k{i}")));
        Assert.Equal([2, 2, 1], _store.Batches.Select(batch => batch.Count));
        await Assert.ThrowsAsync<WriteBehindRejectedException>(() => behind.SetAsync("late", "1", Token).AsTask());
        Assert.Null(_cache.Peek("late"));
        await behind.DisposeAsync();
    }

    [Fact]
    public async Task Get_QueuedValueEvictedFromTheCache_IsReadFromTheQueueNotTheDatabase()
    {
        _store.Put("a", "old");
        await using var behind = Create();
        await behind.SetAsync("a", "new", Token);
        _cache.Evict("a");

        Assert.Equal(new PatternRead<string>("new", ReadSource.Queue), await behind.GetAsync("a", Token));
        Assert.Equal(0, _store.Loads);
    }

    [Fact]
    public async Task Get_ValueInTheBatchBeingWritten_IsReadFromTheQueueNotTheDatabase()
    {
        _store.Put("a", "old");
        _store.BatchGate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var behind = Create(batch: 1);
        await behind.SetAsync("a", "new", Token);
        await Eventually.TrueAsync(() => behind.Stats.InFlight == 1, Deadline, () => $"{behind.Stats}", Token);
        _cache.Evict("a");

        Assert.Equal(new PatternRead<string>("new", ReadSource.Queue), await behind.GetAsync("a", Token));
        _store.BatchGate.SetResult();
    }

    [Fact]
    public async Task Remove_QueuesADeleteThatReadsAsMissingAtOnce()
    {
        _store.Put("a", "old");
        await using var behind = Create();

        await behind.RemoveAsync("a", Token);

        Assert.Equal(new PatternRead<string>(null, ReadSource.Queue), await behind.GetAsync("a", Token));
        Assert.Equal("old", _store.Peek("a"));
        _time.Advance(FlushDelay);
        await Eventually.TrueAsync(() => _store.Peek("a") is null, Deadline, () => $"{behind.Stats}", Token);
    }

    [Fact]
    public void Options_BatchLargerThanTheQueue_AreRefused() =>
        Assert.Throws<ArgumentOutOfRangeException>(() => new WriteBehindOptions { QueueCapacity = 10, BatchSizeMax = 11 }.Validate());

    /// <summary>Moves the fake clock a retry pause at a time until <paramref name="condition"/> holds.</summary>
    private Task AdvanceUntilAsync(Func<bool> condition, Func<string> describe) =>
        Eventually.TrueAsync(() =>
        {
            if (condition())
            {
                return true;
            }

            _time.Advance(TimeSpan.FromMilliseconds(400));
            return false;
        }, Deadline, describe, Token);
}
