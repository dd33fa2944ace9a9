using System.Diagnostics;
using Blueprint.RateLimit.Rules;
using Microsoft.Extensions.DependencyInjection;

namespace Blueprint.RateLimit.Tests.Service;

/// <summary>
/// Two nodes share one KV; 64 callers hammer one key through both. The distributed limit must be
/// exact: never more than the algorithm allows over the run, and (because the callers never let
/// the limiter idle) never noticeably less.
/// </summary>
/// <remarks>Runs alone: 64 callers on two cores must not compete with other test classes for the CPU.</remarks>
[Collection(nameof(ExactnessTests))]
public abstract class ExactnessTests
{
    private const int Callers = 64;
    private static readonly TimeSpan Run = TimeSpan.FromSeconds(1.5);

    /// <summary>The KV endpoint both nodes use, and how to release it.</summary>
    protected abstract Task<(string Endpoint, IAsyncDisposable Owner)> StartKvAsync();

    [Theory]
    [InlineData("token_bucket")]
    [InlineData("gcra")]
    public async Task BucketAlgorithms_TwoNodes64Callers_AdmitExactlyCapacityPlusRateTimesTime(string algorithm)
    {
        const long capacity = 300;
        const long ratePerSecond = 200;
        var (admitted, outer, inner) = await HammerAsync($$"""
            domain: api
            descriptors:
              - key: tenant
                rate_limit: { unit: second, requests_per_unit: {{ratePerSecond}} }
                burst: {{capacity}}
                algorithm: {{algorithm}}
            """);

        var upper = capacity + (ratePerSecond * outer.TotalSeconds) + 1;
        var lower = capacity + (ratePerSecond * inner.TotalSeconds) - 1;
        Assert.InRange(admitted, lower, upper);
        // t is the span in which callers were continuously asking (first reply to last request):
        // the limiter saw at least that much time, so it must have granted at least 99% of it.
        Assert.True(admitted >= 0.99 * (capacity + (ratePerSecond * inner.TotalSeconds)), $"admitted {admitted} of a possible {capacity + (ratePerSecond * inner.TotalSeconds):F0}");
    }

    [Fact]
    public async Task SlidingLog_TwoNodes64Callers_NeverAdmitsMoreThanTheLimitPerWindow()
    {
        const long limit = 400;
        var (admitted, outer, _) = await HammerAsync($$"""
            domain: api
            descriptors:
              - key: tenant
                rate_limit: { unit: second, requests_per_unit: {{limit}} }
                algorithm: sliding_log
            """);

        // Over a run shorter than two windows, at most two windows' worth; at least the first window's.
        Assert.True(outer < TimeSpan.FromSeconds(2), $"the run took {outer}");
        Assert.InRange(admitted, limit, 2 * limit);
    }

    private async Task<(long Admitted, TimeSpan Outer, TimeSpan Inner)> HammerAsync(string rules)
    {
        var (endpoint, owner) = await StartKvAsync();
        await using var ownerScope = owner;
        var shared = new Dictionary<string, string?> { ["Kv:ConnectionString"] = endpoint, ["RateLimit:DecisionTimeoutMs"] = "5000" };
        await using var first = await RateLimitNode.StartAsync(rules, shared);
        await using var second = await RateLimitNode.StartAsync(rules, shared);
        var services = new[] { first, second }.Select(node => node.Node.Services.GetRequiredService<RateLimitService>()).ToArray();
        var request = new RateLimitRequest("api", [[new DescriptorEntry("tenant", Guid.NewGuid().ToString("N"))]]);

        // Warm both connections so the measured run is all decisions.
        foreach (var service in services)
        {
            await service.CheckAsync(request with { Hits = 0 }, TestContext.Current.CancellationToken);
        }

        long admitted = 0;
        long firstReply = long.MaxValue;
        long lastSent = 0;
        var clock = Stopwatch.StartNew();
        var outerStart = TimeSpan.Zero;
        var tasks = Enumerable.Range(0, Callers).Select(caller => Task.Run(async () =>
        {
            var service = services[caller % services.Length];
            while (clock.Elapsed < Run)
            {
                var sent = clock.ElapsedTicks;
                var result = await service.CheckAsync(request, TestContext.Current.CancellationToken);
                var replied = clock.ElapsedTicks;
                InterlockedMin(ref firstReply, replied);
                InterlockedMax(ref lastSent, sent);
                if (!result.OverLimit)
                {
                    Interlocked.Increment(ref admitted);
                }
            }
        })).ToArray();
        await Task.WhenAll(tasks);
        var outer = clock.Elapsed - outerStart;
        var inner = TimeSpan.FromTicks((long)((lastSent - firstReply) * (TimeSpan.TicksPerSecond / (double)Stopwatch.Frequency)));
        return (admitted, outer, inner);
    }

    private static void InterlockedMin(ref long target, long value)
    {
        for (var seen = Volatile.Read(ref target); value < seen; seen = Volatile.Read(ref target))
        {
            if (Interlocked.CompareExchange(ref target, value, seen) == seen)
            {
                return;
            }
        }
    }

    private static void InterlockedMax(ref long target, long value)
    {
        for (var seen = Volatile.Read(ref target); value > seen; seen = Volatile.Read(ref target))
        {
            if (Interlocked.CompareExchange(ref target, value, seen) == seen)
            {
                return;
            }
        }
    }
}

public sealed class GarnetExactnessTests : ExactnessTests
{
    protected override async Task<(string Endpoint, IAsyncDisposable Owner)> StartKvAsync()
    {
        var kv = await TestNode.StartAsync(settings: new Dictionary<string, string?> { ["Node:Modules"] = "kv", ["Kv:Persistence"] = "false" }, cancellationToken: TestContext.Current.CancellationToken);
        return (kv.RespEndpoint, kv);
    }
}

public sealed class RedisServerExactnessTests : ExactnessTests
{
    protected override async Task<(string Endpoint, IAsyncDisposable Owner)> StartKvAsync()
    {
        var peer = await RedisServerPeer.StartAsync();
        return (peer.Endpoint, peer);
    }
}

[CollectionDefinition(nameof(ExactnessTests), DisableParallelization = true)]
public sealed class ExactnessTestsRunAlone;
