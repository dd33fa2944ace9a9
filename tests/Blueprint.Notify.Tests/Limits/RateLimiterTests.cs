using Blueprint.Hosting;
using Blueprint.Kv;
using Blueprint.Notify.Limits;
using Blueprint.RateLimit;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace Blueprint.Notify.Tests.Limits;

/// <summary>The limiter's decisions on their own (the node decides locally without the ratelimit module's store).</summary>
public sealed class RateLimiterTests
{
    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Theory]
    [InlineData(false)] // decided in process
    [InlineData(true)] // decided by the ratelimit module's store on the KV
    public async Task ADeliveryTheChannelDefers_DoesNotSpendTheUsersPermit_AtEveryRecheck(bool onTheKv)
    {
        var time = new FakeTimeProvider(DateTimeOffset.UnixEpoch + TimeSpan.FromDays(20_000));
        var options = Options.Create(new NotifyOptions { UserChannelLimits = "email=2/1h", ChannelLimits = "email=1/1h" });
        await using var node = onTheKv ? await TestNode.StartAsync(new ModuleCatalog([new KvModule(), new RateLimitModule()]), null, null, null, Token) : null;
        await using var local = new ServiceCollection().BuildServiceProvider();
        var limiter = new NotifyRateLimiter(options, node?.Node.Services ?? local, time, NullLogger<NotifyRateLimiter>.Instance);
        var waitMax = TimeSpan.FromHours(2);

        Assert.True((await limiter.CheckDeliveryAsync("alice", "email", waitMax, Token)).Allowed);
        // The channel is spent: every re-check of the next delivery is deferred by the channel, never by alice's own
        // limit, which one more delivery would reach only if each re-check spent one of her permits.
        for (var recheck = 0; recheck < 4; recheck++)
        {
            var verdict = await limiter.CheckDeliveryAsync("alice", "email", waitMax, Token);
            Assert.False(verdict.Allowed);
            Assert.Equal("the email channel is over its limit 1/1h", verdict.Reason);
        }

        if (!onTheKv)
        {
            // The KV's store keeps its own clock; in process, an hour later the channel has a permit and alice one left.
            time.Advance(TimeSpan.FromHours(1));
            Assert.True((await limiter.CheckDeliveryAsync("alice", "email", waitMax, Token)).Allowed);
        }
    }
}
