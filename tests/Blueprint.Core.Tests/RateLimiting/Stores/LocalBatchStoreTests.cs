using Blueprint.Core.RateLimiting.Stores;
using Microsoft.Extensions.Time.Testing;

namespace Blueprint.Core.Tests.RateLimiting.Stores;

public sealed class LocalBatchStoreTests
{
    private static readonly LimitSpec Limit = new(RateLimitAlgorithm.TokenBucket, 100, TimeSpan.FromSeconds(1));

    [Fact]
    public async Task BusyKey_CostsOneRoundTripPerBatch()
    {
        var time = new FakeTimeProvider();
        var store = new LocalBatchStore(new LocalRateLimitStore(time, 100), time, 100);
        Assert.Equal(10, LocalBatchStore.BatchPermits(Limit));

        for (var i = 0; i < 25; i++)
        {
            Assert.True((await store.DecideAsync("k", Limit, 1, TestContext.Current.CancellationToken)).Allowed);
        }

        Assert.Equal(3, store.RoundTrips);
    }

    [Fact]
    public async Task TwoNodes_NeverAdmitMoreThanTheExactLimitAndWasteAtMostOneBatchEach()
    {
        var time = new FakeTimeProvider();
        var exact = new LocalRateLimitStore(time, 100);
        LocalBatchStore[] nodes = [new(exact, time, 100), new(exact, time, 100)];

        var admitted = 0;
        for (var i = 0; i < 1000; i++)
        {
            admitted += (await nodes[i % 2].DecideAsync("k", Limit, 1, TestContext.Current.CancellationToken)).Allowed ? 1 : 0;
        }

        // All at one instant: the exact store grants at most the burst; reservations left unused are at most a batch per node.
        Assert.InRange(admitted, 100 - (2 * LocalBatchStore.BatchPermits(Limit)), 100);
        Assert.True(nodes.Sum(node => node.RoundTrips) < 1000 / 2, "batching saves round trips");
    }

    [Fact]
    public async Task NearTheLimit_FallsBackToExactSingleHitDecisions()
    {
        var time = new FakeTimeProvider();
        var exact = new LocalRateLimitStore(time, 100);
        var small = new LimitSpec(RateLimitAlgorithm.TokenBucket, 15, TimeSpan.FromSeconds(1));
        var store = new LocalBatchStore(exact, time, 100);

        var admitted = 0;
        for (var i = 0; i < 20; i++)
        {
            admitted += (await store.DecideAsync("k", small, 1, TestContext.Current.CancellationToken)).Allowed ? 1 : 0;
        }

        // Batch of 1 (15 / 10): exact.
        Assert.Equal(15, admitted);
    }

    [Fact]
    public async Task ExpiredReservation_IsNotSpent()
    {
        var time = new FakeTimeProvider();
        var exact = new LocalRateLimitStore(time, 100);
        var store = new LocalBatchStore(exact, time, 100);
        await store.DecideAsync("k", Limit, 1, TestContext.Current.CancellationToken);
        Assert.Equal(1, store.RoundTrips);

        // Ten permits take 100 ms to grant; after that the leftover reservation is stale.
        time.Advance(TimeSpan.FromMilliseconds(101));
        await store.DecideAsync("k", Limit, 1, TestContext.Current.CancellationToken);
        Assert.Equal(2, store.RoundTrips);
    }

    [Fact]
    public async Task FastLimit_ReservationOutlivesTheTimeToGrantABatch()
    {
        // A million per second grants a batch of 100 in 100 µs; the reservation still lasts 100 ms,
        // so a node does not burn a fresh batch on every request.
        var time = new FakeTimeProvider();
        var fast = new LimitSpec(RateLimitAlgorithm.TokenBucket, 1_000_000, TimeSpan.FromSeconds(1));
        var store = new LocalBatchStore(new LocalRateLimitStore(time, 100), time, 100);
        for (var i = 0; i < 100; i++)
        {
            Assert.True((await store.DecideAsync("k", fast, 1, TestContext.Current.CancellationToken)).Allowed);
            time.Advance(TimeSpan.FromMilliseconds(0.5));
        }

        Assert.Equal(1, store.RoundTrips);
    }
}
