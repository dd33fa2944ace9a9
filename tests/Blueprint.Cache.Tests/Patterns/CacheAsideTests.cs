using Blueprint.Cache.Patterns;
using Microsoft.Extensions.Time.Testing;

namespace Blueprint.Cache.Tests.Patterns;

public sealed class CacheAsideTests
{
    private static readonly TimeSpan Ttl = TimeSpan.FromSeconds(30);
    private readonly FakeTimeProvider _time = new();
    private readonly MemoryStore _store = new();
    private readonly MemoryCache _cache;
    private readonly CacheAside<string, string> _pattern;

    public CacheAsideTests()
    {
        _cache = new MemoryCache(_time);
        _pattern = new CacheAside<string, string>(_cache, _store, Ttl);
    }

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Get_SecondRead_HitsTheCacheAndLoadsTheDatabaseOnce()
    {
        _store.Put("a", "one");

        var first = await _pattern.GetAsync("a", Token);
        var second = await _pattern.GetAsync("a", Token);

        Assert.Equal(new PatternRead<string>("one", ReadSource.Database), first);
        Assert.Equal(new PatternRead<string>("one", ReadSource.Cache), second);
        Assert.Equal(new PatternStats(DatabaseReads: 1, DatabaseWrites: 0, CacheHits: 1, CacheMisses: 1, LoadsShared: 0), _pattern.Counters.Snapshot());
        Assert.Equal(1, _store.Loads);
    }

    [Fact]
    public async Task Get_MissingRecord_IsNotCachedAndLoadsEachTime()
    {
        Assert.False((await _pattern.GetAsync("none", Token)).Found);
        Assert.False((await _pattern.GetAsync("none", Token)).Found);

        Assert.Equal(2, _store.Loads);
        Assert.Null(_cache.Peek("none"));
    }

    [Fact]
    public async Task Set_AfterARead_WritesTheDatabaseAndDeletesTheCacheKey()
    {
        _store.Put("a", "one");
        await _pattern.GetAsync("a", Token);

        await _pattern.SetAsync("a", "two", Token);

        Assert.Equal("two", _store.Peek("a"));
        Assert.Null(_cache.Peek("a"));
        Assert.Equal(new PatternRead<string>("two", ReadSource.Database), await _pattern.GetAsync("a", Token));
        Assert.Equal(2, _pattern.Counters.DatabaseReads);
        Assert.Equal(1, _pattern.Counters.DatabaseWrites);
    }

    [Fact]
    public async Task Remove_DeletesTheRecordAndTheCacheKey()
    {
        _store.Put("a", "one");
        await _pattern.GetAsync("a", Token);

        await _pattern.RemoveAsync("a", Token);

        Assert.Null(_store.Peek("a"));
        Assert.Null(_cache.Peek("a"));
        Assert.False((await _pattern.GetAsync("a", Token)).Found);
    }

    [Fact]
    public async Task Get_DatabaseChangedBehindTheCache_ServesTheOldValueUntilTheTtlEnds()
    {
        _store.Put("a", "one");
        await _pattern.GetAsync("a", Token);
        _store.Put("a", "changed elsewhere");

        _time.Advance(Ttl - TimeSpan.FromSeconds(1));
        Assert.Equal(new PatternRead<string>("one", ReadSource.Cache), await _pattern.GetAsync("a", Token));

        _time.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(new PatternRead<string>("changed elsewhere", ReadSource.Database), await _pattern.GetAsync("a", Token));
    }

    [Fact]
    public async Task Get_LoadThatRacedAWrite_DoesNotFillTheCacheWithTheOldValue()
    {
        _store.Put("a", "old");
        _store.LoadGate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var racing = _pattern.GetAsync("a", Token).AsTask();
        await Eventually.TrueAsync(() => _store.Loads == 1, TimeSpan.FromSeconds(10), () => $"loads: {_store.Loads}", Token);

        // The load has started (and, in a real database, may have read "old"); the write lands before it returns.
        await _pattern.SetAsync("a", "new", Token);
        _store.Put("a", "old");   // what the racing load read, delivered after the write
        _store.LoadGate.SetResult();
        Assert.Equal("old", (await racing).Value);
        _store.Put("a", "new");

        Assert.Null(_cache.Peek("a"));
        Assert.Equal("new", (await _pattern.GetAsync("a", Token)).Value);
    }
}
