using Microsoft.Extensions.Caching.Hybrid;
using Microsoft.Extensions.Time.Testing;

namespace Blueprint.Cache.Tests.Near;

/// <summary>
/// Two instances, A and B, each with its own multiplexer to one real node. What B reads is the evidence: the fake
/// clock never moves unless a test moves it, so neither the near TTL nor reconciliation can explain a fresh value.
/// </summary>
public sealed class NearCoherenceTests : IAsyncLifetime
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan Reconciliation = TimeSpan.FromSeconds(1);

    private readonly FakeTimeProvider _time = new();
    private KvNode _node = null!;

    public async ValueTask InitializeAsync() => _node = await KvNode.StartAsync();

    public ValueTask DisposeAsync() => _node.DisposeAsync();

    [Fact]
    public async Task WriteThroughA_DropsTheNearCopyInB()
    {
        var (a, b) = await TwoInstancesAsync();
        await SeedAsync(a, b, "price", 10);

        await a.SetAsync("price", 11, cancellationToken: Token);

        var read = await Eventually.ValueAsync(() => ReadAsync(b, "price"), value => value == 11, Deadline, value => $"B reads {value}; {b.Statistics}", Token);
        Assert.Equal(11, read);
        Assert.Equal(0, b.Statistics.Reconciliations);
    }

    [Fact]
    public async Task RemoveThroughA_DropsTheNearCopyInB()
    {
        var (a, b) = await TwoInstancesAsync();
        await SeedAsync(a, b, "session", 1);

        await a.RemoveAsync("session", Token);

        var read = await Eventually.ValueAsync(() => ReadAsync(b, "session"), value => value == Missing, Deadline, value => $"B reads {value}; {b.Statistics}", Token);
        Assert.Equal(Missing, read);
    }

    [Fact]
    public async Task LostInvalidation_StaleUntilReconciliation_ThenFresh()
    {
        var b = await LoseAnInvalidationAsync("stock", 5, 4);

        // The message is gone and no time has passed: B serves its near copy.
        Assert.Equal(5, await ReadAsync(b, "stock"));
        Assert.Equal(5, await ReadAsync(b, "stock"));

        // One reconciliation interval later B has read the sequences, found the gap and dropped the partition.
        _time.Advance(Reconciliation);
        var read = await Eventually.ValueAsync(() => ReadAsync(b, "stock"), value => value == 4, Deadline, value => $"B reads {value}; {b.Statistics}", Token);
        Assert.Equal(4, read);
        Assert.Equal(1, b.Statistics.GapsFound);
    }

    [Fact]
    public async Task LostInvalidation_WithABrokenReconciler_StaysStale()
    {
        // The test above with a reconciler that finds the gap and drops nothing: it must see the stale value.
        var b = await LoseAnInvalidationAsync("stock", 5, 4);
        b.ReconciliationBroken = true;

        _time.Advance(Reconciliation);
        await Eventually.TrueAsync(() => b.Statistics.Reconciliations >= 1, Deadline, () => $"{b.Statistics}", Token);

        Assert.Equal(1, b.Statistics.GapsFound);
        Assert.Equal(5, await ReadAsync(b, "stock"));
    }

    [Fact]
    public async Task LostInvalidation_NoWriteSinceLastReconciliation_KeepsTheNearCopy()
    {
        // Reconciliation drops partitions with a gap, not everything: a clean partition keeps serving near hits.
        var (a, b) = await TwoInstancesAsync();
        await SeedAsync(a, b, "quiet", 1);

        _time.Advance(Reconciliation);
        await Eventually.TrueAsync(() => b.Statistics.Reconciliations >= 1, Deadline, () => $"{b.Statistics}", Token);
        var hitsBefore = b.Statistics.Hits;

        Assert.Equal(1, await ReadAsync(b, "quiet"));
        Assert.Equal(hitsBefore + 1, b.Statistics.Hits);
        Assert.Equal(0, b.Statistics.GapsFound);
    }

    [Fact]
    public async Task NearCopy_NeverOutlivesTheNearTtl_EvenWithEveryInvalidationLost()
    {
        var b = await LoseAnInvalidationAsync("k", 1, 2, options => options.ReconciliationInterval = TimeSpan.FromHours(1));
        Assert.Equal(1, await ReadAsync(b, "k"));

        _time.Advance(new BlueprintCacheOptions().NearTtl);

        Assert.Equal(2, await ReadAsync(b, "k"));
    }

    [Fact]
    public async Task FillRacingAnInvalidation_DoesNotKeepTheOldValue()
    {
        // B misses and its fetch is held at the factory while A writes and B applies A's invalidation. The fetch then
        // returns the old value to its caller, but B must not keep it: B's next read goes to the engine.
        var (a, b) = await TwoInstancesAsync();
        var fetchStarted = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        // The old value stays out of the engine, so after the race only a kept near copy could serve it.
        var noEngineWrite = new HybridCacheEntryOptions { Flags = HybridCacheEntryFlags.DisableDistributedCacheWrite };
        var racing = b.GetOrCreateAsync(
            "race",
            async _ =>
            {
                fetchStarted.SetResult();
                await release.Task;
                return 1;
            },
            noEngineWrite,
            cancellationToken: Token).AsTask();
        await fetchStarted.Task.WaitAsync(Token);
        await a.SetAsync("race", 2, cancellationToken: Token);
        await Eventually.TrueAsync(() => b.Statistics.InvalidationsReceived == 1, Deadline, () => $"{b.Statistics}", Token);
        release.SetResult();

        Assert.Equal(1, await racing);
        Assert.Equal(2, await ReadAsync(b, "race"));
    }

    private const int Missing = -1;

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    private static Task<int> ReadAsync(BlueprintCache cache, string key) =>
        cache.GetOrCreateAsync(
            key,
            _ => ValueTask.FromResult(Missing),
            new HybridCacheEntryOptions { Flags = HybridCacheEntryFlags.DisableDistributedCacheWrite },
            cancellationToken: Token).AsTask();

    /// <summary>
    /// A writes the value; once B has applied that write's invalidation (so it cannot refuse B's fill), B reads it
    /// and holds a near copy, proven by a second read that is a hit.
    /// </summary>
    private static async Task SeedAsync(BlueprintCache a, BlueprintCache b, string key, int value)
    {
        var received = b.Statistics.InvalidationsReceived;
        await a.SetAsync(key, value, cancellationToken: Token);
        await Eventually.TrueAsync(() => b.Statistics.InvalidationsReceived == received + 1, Deadline, () => $"{b.Statistics}", Token);
        Assert.Equal(value, await ReadAsync(b, key));
        var hits = b.Statistics.Hits;
        Assert.Equal(value, await ReadAsync(b, key));
        Assert.Equal(hits + 1, b.Statistics.Hits);
    }

    /// <summary>B holds a near copy of <paramref name="before"/>; A writes <paramref name="after"/>, and B drops the invalidation. Returns B.</summary>
    private async Task<BlueprintCache> LoseAnInvalidationAsync(string key, int before, int after, Action<BlueprintCacheOptions>? configure = null)
    {
        var (a, b) = await TwoInstancesAsync(configure);
        await SeedAsync(a, b, key, before);
        b.DropIncomingInvalidations = true;
        await a.SetAsync(key, after, cancellationToken: Token);
        await Eventually.TrueAsync(() => b.Statistics.InvalidationsDropped == 1, Deadline, () => $"{b.Statistics}", Token);
        return b;
    }

    private async Task<(BlueprintCache A, BlueprintCache B)> TwoInstancesAsync(Action<BlueprintCacheOptions>? configure = null)
    {
        void Configure(BlueprintCacheOptions options)
        {
            options.ReconciliationInterval = Reconciliation;
            configure?.Invoke(options);
        }

        return (await _node.CacheAsync(_time, Configure), await _node.CacheAsync(_time, Configure));
    }
}
