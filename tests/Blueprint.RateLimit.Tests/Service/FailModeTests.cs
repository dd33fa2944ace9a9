using Blueprint.RateLimit.Rules;
using Microsoft.Extensions.DependencyInjection;

namespace Blueprint.RateLimit.Tests.Service;

/// <summary>The KV stopped mid-run: each rule's fail mode decides; when it returns, decisions are exact again.</summary>
public sealed class FailModeTests
{
    private const string Rules = """
        domain: api
        descriptors:
          - key: open
            rate_limit: { unit: hour, requests_per_unit: 3 }
            fail_mode: open
          - key: closed
            rate_limit: { unit: hour, requests_per_unit: 3 }
            fail_mode: closed
        """;

    private static RateLimitRequest For(string key, string value = "k") => new("api", [[new DescriptorEntry(key, value)]]);

    [Fact]
    public async Task KvStopped_OpenRulesUseTheFallbackClosedRulesDeny_ThenRecover()
    {
        var peer = await RedisServerPeer.StartAsync();
        try
        {
            await RunAsync(peer);
        }
        finally
        {
            // Idempotent: the test stops the peer itself midway; a failure before that must not leak it.
            await peer.DisposeAsync();
        }
    }

    private static async Task RunAsync(RedisServerPeer peer)
    {
        var port = peer.Port;
        await using var node = await RateLimitNode.StartAsync(Rules, new Dictionary<string, string?>
        {
            ["Kv:ConnectionString"] = peer.Endpoint,
            ["Kv:TimeoutMs"] = "500",
            ["RateLimit:DecisionTimeoutMs"] = "1000",
            ["RateLimit:BreakAfterFailures"] = "2",
            ["RateLimit:BreakDurationMs"] = "500",
        });
        var service = node.Node.Services.GetRequiredService<RateLimitService>();
        var token = TestContext.Current.CancellationToken;

        var healthy = await service.CheckAsync(For("closed"), token);
        Assert.False(healthy.OverLimit);
        Assert.False(healthy.Statuses[0].Degraded);

        await peer.DisposeAsync();

        var closed = await service.CheckAsync(For("closed"), token);
        Assert.True(closed.OverLimit);
        Assert.True(closed.Statuses[0].Degraded);

        // Open: the per-node fallback admits up to the same limit, then limits.
        var admitted = 0;
        for (var i = 0; i < 5; i++)
        {
            var open = await service.CheckAsync(For("open"), token);
            Assert.True(open.Statuses[0].Degraded);
            admitted += open.OverLimit ? 0 : 1;
        }

        Assert.Equal(3, admitted);
        Assert.True(service.IsDegraded);

        await using var back = await RedisServerPeer.StartAsync(port);
        await Eventually.TrueAsync(
            async () => (await service.CheckAsync(For("open", "after-recovery"), token)).Statuses[0] is { Degraded: false, Code: DescriptorCode.Ok },
            TimeSpan.FromSeconds(30),
            () => $"decisions reach the KV again after it returns (service degraded: {service.IsDegraded})",
            token);
        Assert.False(service.IsDegraded);
    }
}
