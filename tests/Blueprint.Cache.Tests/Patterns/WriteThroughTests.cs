using Blueprint.Cache.Patterns;
using Microsoft.Extensions.Time.Testing;

namespace Blueprint.Cache.Tests.Patterns;

public sealed class WriteThroughTests : IDisposable
{
    private static readonly TimeSpan Ttl = TimeSpan.FromSeconds(30);
    private readonly FakeTimeProvider _time = new();
    private readonly MemoryStore _store = new();
    private readonly MemoryCache _cache;
    private readonly WriteThrough<string, string> _pattern;

    public WriteThroughTests()
    {
        _cache = new MemoryCache(_time);
        _pattern = new WriteThrough<string, string>(_cache, _store, Ttl);
    }

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    public void Dispose() => _pattern.Dispose();

    [Fact]
    public async Task Set_Acknowledged_DatabaseAndCacheBothHoldTheNewValue()
    {
        await _pattern.SetAsync("a", "one", Token);
        await _pattern.SetAsync("a", "two", Token);

        Assert.Equal("two", _store.Peek("a"));
        Assert.Equal("two", _cache.Peek("a"));
        Assert.Equal(new PatternRead<string>("two", ReadSource.Cache), await _pattern.GetAsync("a", Token));
        Assert.Equal(0, _store.Loads);
        Assert.Equal(new PatternStats(DatabaseReads: 0, DatabaseWrites: 2, CacheHits: 1, CacheMisses: 0, LoadsShared: 0), _pattern.Counters.Snapshot());
    }

    [Fact]
    public async Task Set_CacheWriteFails_ThrowsAfterTheDatabaseCommittedAndLeavesNoOldValueCached()
    {
        await _pattern.SetAsync("a", "one", Token);
        _cache.FailWrites = true;

        var error = await Assert.ThrowsAsync<CacheWriteException>(() => _pattern.SetAsync("a", "two", Token).AsTask());

        Assert.Contains("the database holds the value", error.Message, StringComparison.Ordinal);
        Assert.Equal("two", _store.Peek("a"));
        Assert.Null(_cache.Peek("a"));
        _cache.FailWrites = false;
        Assert.Equal(new PatternRead<string>("two", ReadSource.Database), await _pattern.GetAsync("a", Token));
    }

    [Fact]
    public async Task Set_DatabaseFails_ChangesNothing()
    {
        await _pattern.SetAsync("a", "one", Token);
        var failing = new WriteThrough<string, string>(_cache, new FailingStore(), Ttl);

        await Assert.ThrowsAsync<InvalidOperationException>(() => failing.SetAsync("a", "two", Token).AsTask());

        Assert.Equal("one", _cache.Peek("a"));
        Assert.Equal(0, failing.Counters.DatabaseWrites);
        failing.Dispose();
    }

    [Fact]
    public async Task Remove_DeletesTheRecordAndTheCacheKey()
    {
        await _pattern.SetAsync("a", "one", Token);

        await _pattern.RemoveAsync("a", Token);

        Assert.Null(_store.Peek("a"));
        Assert.Null(_cache.Peek("a"));
        Assert.False((await _pattern.GetAsync("a", Token)).Found);
    }

    private sealed class FailingStore : IRecordStore<string, string>
    {
        public ValueTask<string?> LoadAsync(string key, CancellationToken cancellationToken) => throw new InvalidOperationException("database down");

        public ValueTask SaveAsync(string key, string value, CancellationToken cancellationToken) => throw new InvalidOperationException("database down");

        public ValueTask DeleteAsync(string key, CancellationToken cancellationToken) => throw new InvalidOperationException("database down");

        public ValueTask SaveBatchAsync(IReadOnlyList<RecordWrite<string, string>> writes, CancellationToken cancellationToken) => throw new InvalidOperationException("database down");
    }
}
