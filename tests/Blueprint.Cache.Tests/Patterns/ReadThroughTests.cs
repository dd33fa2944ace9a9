using Blueprint.Cache.Patterns;
using Microsoft.Extensions.Time.Testing;

namespace Blueprint.Cache.Tests.Patterns;

public sealed class ReadThroughTests
{
    private static readonly TimeSpan Ttl = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(10);
    private readonly FakeTimeProvider _time = new();
    private readonly MemoryStore _store = new();
    private readonly MemoryCache _cache;
    private readonly ReadThrough<string, string> _pattern;

    public ReadThroughTests()
    {
        _cache = new MemoryCache(_time);
        _pattern = new ReadThrough<string, string>(_cache, _store, Ttl);
    }

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Get_StampedeOnAColdKey_LoadsTheDatabaseOnce()
    {
        const int Readers = 50;
        _store.Put("hot", "value");
        _store.LoadGate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        var reads = Enumerable.Range(0, Readers).Select(_ => Task.Run(() => _pattern.GetAsync("hot", Token).AsTask(), Token)).ToList();
        // Every reader but the first has joined the first one's load before it is let through.
        await Eventually.TrueAsync(() => _pattern.Counters.LoadsShared == Readers - 1, Deadline, () => $"{_pattern.Counters.Snapshot()}", Token);
        _store.LoadGate.SetResult();
        var results = await Task.WhenAll(reads);

        Assert.All(results, read => Assert.Equal(new PatternRead<string>("value", ReadSource.Database), read));
        Assert.Equal(1, _store.Loads);
        Assert.Equal(1, _pattern.Counters.DatabaseReads);
        Assert.Equal(Readers, _pattern.Counters.CacheMisses);
        Assert.Equal("value", _cache.Peek("hot"));
    }

    [Fact]
    public async Task Get_AfterTheLoad_HitsTheCache()
    {
        _store.Put("a", "one");
        await _pattern.GetAsync("a", Token);

        Assert.Equal(new PatternRead<string>("one", ReadSource.Cache), await _pattern.GetAsync("a", Token));
        Assert.Equal(1, _store.Loads);
        Assert.Equal(1, _pattern.Counters.CacheHits);
    }

    [Fact]
    public async Task Get_FailedLoad_FailsEveryWaiterAndTheNextMissLoadsAgain()
    {
        var failing = new ReadThroughCache<string, string>(_cache, (_, _) => throw new InvalidOperationException("database down"), Ttl, new PatternCounters());
        await Assert.ThrowsAsync<InvalidOperationException>(() => failing.GetAsync("a", Token).AsTask());
        Assert.Equal(0, failing.LoadsInFlight);

        var loads = 0;
        var working = new ReadThroughCache<string, string>(_cache, (_, _) =>
        {
            loads++;
            return ValueTask.FromResult(new PatternRead<string>("loaded", ReadSource.Database));
        }, Ttl, new PatternCounters());
        Assert.Equal("loaded", (await working.GetAsync("a", Token)).Value);
        Assert.Equal(1, loads);
    }

    [Fact]
    public async Task Set_WritesTheDatabaseAndDeletesTheCacheKey()
    {
        _store.Put("a", "one");
        await _pattern.GetAsync("a", Token);

        await _pattern.SetAsync("a", "two", Token);

        Assert.Equal("two", _store.Peek("a"));
        Assert.Null(_cache.Peek("a"));
        Assert.Equal(new PatternRead<string>("two", ReadSource.Database), await _pattern.GetAsync("a", Token));
    }

    [Fact]
    public async Task Get_WaiterGivesUp_TheSharedLoadStillFillsTheCache()
    {
        _store.Put("a", "one");
        _store.LoadGate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var impatient = CancellationTokenSource.CreateLinkedTokenSource(Token);
        var read = _pattern.GetAsync("a", impatient.Token).AsTask();
        await Eventually.TrueAsync(() => _store.Loads == 1, Deadline, () => $"loads: {_store.Loads}", Token);

        await impatient.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => read);
        _store.LoadGate.SetResult();

        await Eventually.TrueAsync(() => _cache.Peek("a") == "one", Deadline, () => $"cached: {_cache.Peek("a")}", Token);
        Assert.Equal(1, _store.Loads);
    }
}
