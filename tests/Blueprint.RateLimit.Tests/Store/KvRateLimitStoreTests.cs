using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Blueprint.Core.RateLimiting;
using Blueprint.Core.RateLimiting.Stores;
using Blueprint.RateLimit.Store;
using StackExchange.Redis;

namespace Blueprint.RateLimit.Tests.Store;

/// <summary>
/// The KV store against each engine: every script must decide exactly as its pure core on random traces, survive a
/// flushed script cache, expire its keys, and use the server clock when no time is given. A difference between
/// the engines is a Lua 5.1 / 5.4 portability bug.
/// </summary>
public abstract class KvRateLimitStoreTests<TEngine>(TEngine engine) : IClassFixture<TEngine>
    where TEngine : KvEngine
{
    /// <summary>A realistic epoch in microseconds, so the scripts work with numbers near 2^50.</summary>
    private const long Epoch = 1_700_000_000_000_000;

    /// <summary>The differential traces use a long margin so a key never expires (in real time) mid-trace.</summary>
    private const long TraceMarginMilliseconds = 600_000;

    private const int Steps = 300;

    private static readonly int[] Seeds = [1, 2, 3];

    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    [Theory]
    [MemberData(nameof(StoreTestData.Algorithms), MemberType = typeof(StoreTestData))]
    public async Task Script_DecidesExactlyAsThePureCore(RateLimitAlgorithm algorithm)
    {
        engine.RequireAvailable();
        var store = new KvRateLimitStore(engine.Connection, "rl-test:", TraceMarginMilliseconds);
        LimitSpec[] limits =
        [
            new(algorithm, 10, TimeSpan.FromSeconds(1), BurstPermits: 5),
            new(algorithm, 7, TimeSpan.FromSeconds(3)),
            new(algorithm, 100, TimeSpan.FromMinutes(1), BurstPermits: 30),
            .. algorithm == RateLimitAlgorithm.SlidingLog ? [new LimitSpec(algorithm, 2_500, TimeSpan.FromMinutes(1))] : Array.Empty<LimitSpec>(),
        ];
        foreach (var limit in limits)
        {
            foreach (var seed in Seeds)
            {
                var trace = Trace(limit, seed, Steps);
                var (mismatch, allowed, denied) = await CompareAsync(store, limit, trace, seed, skew: 0);
                Assert.True(mismatch is null, mismatch);

                // A trace that never denies (or never admits) would prove little.
                Assert.True(allowed > 0 && denied > 0, $"{limit} seed {seed}: {allowed} allowed, {denied} denied");
            }
        }
    }

    [Fact]
    public async Task DifferentialCheck_CatchesAWrongModel()
    {
        engine.RequireAvailable();
        var store = new KvRateLimitStore(engine.Connection, "rl-test:", TraceMarginMilliseconds);
        var limit = new LimitSpec(RateLimitAlgorithm.TokenBucket, 10, TimeSpan.FromSeconds(1), BurstPermits: 5);
        var (mismatch, _, _) = await CompareAsync(store, limit, Trace(limit, seed: 1, Steps), seed: 1, skew: 1);
        Assert.NotNull(mismatch);
    }

    [Fact]
    public async Task ScriptFlush_NextDecisionReloadsTheScript()
    {
        engine.RequireAvailable();
        var store = new KvRateLimitStore(engine.Connection);
        var limit = new LimitSpec(RateLimitAlgorithm.Gcra, 3, TimeSpan.FromHours(1));
        var key = NewKey();
        var database = engine.Redis.GetDatabase();
        var sha = ScriptSha1(RateLimitAlgorithm.Gcra);
        Assert.True((await store.DecideAsync(key, limit, 1, Cancel)).Allowed);
        Assert.Equal(1, (long)(await database.ExecuteAsync("SCRIPT", "EXISTS", sha))[0]);

        await database.ExecuteAsync("SCRIPT", "FLUSH");
        Assert.Equal(0, (long)(await database.ExecuteAsync("SCRIPT", "EXISTS", sha))[0]);

        var second = await store.DecideAsync(key, limit, 1, Cancel);
        Assert.True(second.Allowed);
        Assert.Equal(1, second.RemainingPermits);
        Assert.Equal(1, (long)(await database.ExecuteAsync("SCRIPT", "EXISTS", sha))[0]);
    }

    [Theory]
    [MemberData(nameof(StoreTestData.Algorithms), MemberType = typeof(StoreTestData))]
    public async Task Decision_SetsTtlWithinResetAfterPlusMargin(RateLimitAlgorithm algorithm)
    {
        engine.RequireAvailable();
        var store = new KvRateLimitStore(engine.Connection, "rl-test:");
        var limit = new LimitSpec(algorithm, 4, TimeSpan.FromSeconds(10));
        var key = NewKey();
        var outcome = await store.DecideAsync(key, limit, 2, Cancel);
        Assert.True(outcome.Allowed);

        var ttl = await engine.Redis.GetDatabase().KeyTimeToLiveAsync("rl-test:" + key);
        Assert.NotNull(ttl);
        var bound = TimeSpan.FromMilliseconds(Math.Ceiling(outcome.ResetAfter.TotalMilliseconds) + KvRateLimitStore.DefaultTtlMarginMilliseconds);
        Assert.InRange(ttl.Value, TimeSpan.FromTicks(1), bound);
    }

    [Fact]
    public async Task IdleKey_Disappears()
    {
        engine.RequireAvailable();

        // 1 000 permits per second: one permit is back after 1 ms, so with a 1 ms margin the key lives about 2 ms.
        var store = new KvRateLimitStore(engine.Connection, "rl-test:", ttlMarginMilliseconds: 1);
        var limit = new LimitSpec(RateLimitAlgorithm.TokenBucket, 1_000, TimeSpan.FromSeconds(1), BurstPermits: 1);
        var key = NewKey();
        Assert.True((await store.DecideAsync(key, limit, 1, Cancel)).Allowed);

        var database = engine.Redis.GetDatabase();
        await Eventually.TrueAsync(
            async () => !await database.KeyExistsAsync("rl-test:" + key),
            TimeSpan.FromSeconds(10),
            () => $"the idle key rl-test:{key} still exists",
            Cancel);
    }

    [Fact]
    public async Task ServerClock_TokenBucketOfFiveAdmitsFiveOfTen()
    {
        engine.RequireAvailable();
        var store = new KvRateLimitStore(engine.Connection);
        var limit = new LimitSpec(RateLimitAlgorithm.TokenBucket, 5, TimeSpan.FromHours(1));
        var key = NewKey();
        int admitted = 0;
        for (int i = 0; i < 10; i++)
        {
            if ((await store.DecideAsync(key, limit, 1, Cancel)).Allowed)
            {
                admitted++;
            }
        }

        Assert.Equal(5, admitted);
    }

    [Theory]
    [MemberData(nameof(StoreTestData.Algorithms), MemberType = typeof(StoreTestData))]
    public async Task ConcurrentDecisions_AreAtomic(RateLimitAlgorithm algorithm)
    {
        engine.RequireAvailable();

        // Two clients, as two nodes: one connection alone is served in order and would hide a non-atomic script.
        await using var other = await engine.ConnectAsync();
        KvRateLimitStore[] stores =
        [
            new(engine.Connection, "rl-test:", TraceMarginMilliseconds),
            new(engine.ConnectionOver(other), "rl-test:", TraceMarginMilliseconds),
        ];
        var limit = new LimitSpec(algorithm, 50, TimeSpan.FromHours(1));
        var key = NewKey();
        long now = Epoch;
        var decisions = new Task<RateLimitOutcome>[400];
        for (int i = 0; i < decisions.Length; i++)
        {
            var store = stores[i % 2];
            decisions[i] = Task.Run(async () => await store.DecideAsync(key, limit, 1, now, Cancel), Cancel);
        }

        int admitted = 0;
        foreach (var outcome in await Task.WhenAll(decisions))
        {
            admitted += outcome.Allowed ? 1 : 0;
        }

        // At one instant every algorithm admits exactly its limit; a lost update would admit more.
        Assert.Equal(50, admitted);
    }

    [Fact]
    public async Task Hits_OutsideZeroToHitsMax_Throw()
    {
        engine.RequireAvailable();
        var store = new KvRateLimitStore(engine.Connection);
        var limit = new LimitSpec(RateLimitAlgorithm.Gcra, 10, TimeSpan.FromSeconds(1), BurstPermits: 3);
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(async () => await store.DecideAsync(NewKey(), limit, -1, Cancel));
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(async () => await store.DecideAsync(NewKey(), limit, 4, Cancel));
        Assert.True((await store.DecideAsync(NewKey(), limit, 3, Cancel)).Allowed);
    }

    /// <summary>The SHA-1 the server files the embedded script under.</summary>
    private static string ScriptSha1(RateLimitAlgorithm algorithm)
    {
#pragma warning disable CA5350 // SHA-1 is how Redis names scripts.
        return Convert.ToHexStringLower(SHA1.HashData(Encoding.UTF8.GetBytes(KvRateLimitStore.ScriptText(algorithm))));
#pragma warning restore CA5350
    }

    private static string NewKey() => Guid.NewGuid().ToString("N");

    /// <summary>
    /// A seeded trace of (time, hits): equal timestamps, small and window-sized steps, bursts, long idle gaps and
    /// times going backwards, with hits from 0 to the most one decision may ask for.
    /// </summary>
    private static (long Now, int Hits)[] Trace(LimitSpec limit, int seed, int steps)
    {
#pragma warning disable CA5394 // A seeded, reproducible trace, not security.
        var random = new Random(seed);
        long interval = limit.MicrosecondsPerPermit;
        long window = limit.UnitMicroseconds;
        int hitsMax = (int)limit.HitsMax;
        var trace = new (long, int)[steps];
        long now = Epoch + random.NextInt64(window);
        for (int i = 0; i < steps; i++)
        {
            int kind = random.Next(100);
            now += kind switch
            {
                < 20 => 0,
                < 55 => random.NextInt64(1, (2 * interval) + 1),
                < 70 => random.NextInt64(1, window + 1),
                < 75 => random.NextInt64(window, 50 * window),
                < 85 => -random.NextInt64(1, (2 * interval) + 1),
                _ => 0,
            };
            int roll = random.Next(100);
            int hits = kind >= 85 ? random.Next(1, hitsMax + 1) : roll switch
            {
                < 60 => 1,
                < 75 => 0,
                _ => random.Next(0, hitsMax + 1),
            };
            trace[i] = (now, hits);
        }
#pragma warning restore CA5394

        return trace;
    }

    /// <summary>Runs <paramref name="trace"/> through the script and the core; describes the first difference (or null) and counts the decisions.</summary>
    private static async Task<(string? Mismatch, int Allowed, int Denied)> CompareAsync(KvRateLimitStore store, LimitSpec limit, (long Now, int Hits)[] trace, int seed, long skew)
    {
        var key = NewKey();
        var core = CoreModel.For(limit, trace[0].Now, skew);
        int allowed = 0;
        int denied = 0;
        for (int i = 0; i < trace.Length; i++)
        {
            var (now, hits) = trace[i];
            var expected = core.Decide(now, hits);
            var actual = await store.DecideAsync(key, limit, hits, now, Cancel);
            long retry = actual.RetryAfter.Ticks / TimeSpan.TicksPerMicrosecond;
            long reset = actual.ResetAfter.Ticks / TimeSpan.TicksPerMicrosecond;
            if (actual.Allowed != expected.Allowed || actual.RemainingPermits != expected.RemainingPermits
                || retry != expected.RetryAfterTicks || reset != expected.ResetAfterTicks)
            {
                return (string.Create(
                    CultureInfo.InvariantCulture,
                    $"{limit} seed {seed} step {i} (now {now}, hits {hits}): core {expected.Allowed}/{expected.RemainingPermits}/{expected.RetryAfterTicks}/{expected.ResetAfterTicks}, script {actual.Allowed}/{actual.RemainingPermits}/{retry}/{reset}"), allowed, denied);
            }

            if (actual.Allowed)
            {
                allowed++;
            }
            else
            {
                denied++;
            }
        }

        return (null, allowed, denied);
    }
}

/// <summary>The store on the embedded Garnet (Lua 5.4).</summary>
public sealed class GarnetKvRateLimitStoreTests(GarnetEngine engine) : KvRateLimitStoreTests<GarnetEngine>(engine);

/// <summary>The store on a real redis-server (Lua 5.1).</summary>
public sealed class RedisServerKvRateLimitStoreTests(RedisServerEngine engine) : KvRateLimitStoreTests<RedisServerEngine>(engine);

/// <summary>Theory data shared by the engine-specific classes.</summary>
public static class StoreTestData
{
    /// <summary>Every algorithm, in the order of priority.</summary>
    public static TheoryData<RateLimitAlgorithm> Algorithms =>
    [
        RateLimitAlgorithm.TokenBucket,
        RateLimitAlgorithm.Gcra,
        RateLimitAlgorithm.SlidingLog,
        RateLimitAlgorithm.SlidingWindowCounter,
        RateLimitAlgorithm.FixedWindow,
        RateLimitAlgorithm.LeakyBucket,
    ];
}
