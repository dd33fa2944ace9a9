using System.Threading.RateLimiting;
using Blueprint.Core.RateLimiting.Stores;
using Microsoft.Extensions.Options;

namespace Blueprint.Shortener.Access;

/// <summary>
/// Limits anonymous creation per client IP. With the ratelimit module in the node, the limit is
/// shared by every node (a token bucket decided on the KV); without it, each node applies the
/// framework's token-bucket limiter on its own.
/// </summary>
internal sealed class AnonymousLimiter : IAsyncDisposable
{
    private readonly IRateLimitStore? _store;
    private readonly LimitSpec _spec;
    private readonly PartitionedRateLimiter<string> _local;

    public AnonymousLimiter(IOptions<ShortenerOptions> options, IServiceProvider services)
    {
        var perMinute = options.Value.AnonymousCreatesPerMinute;
        _store = (IRateLimitStore?)services.GetService(typeof(IRateLimitStore));
        _spec = new LimitSpec(RateLimitAlgorithm.TokenBucket, perMinute, TimeSpan.FromMinutes(1));
        _local = PartitionedRateLimiter.Create<string, string>(client => RateLimitPartition.GetTokenBucketLimiter(client, _ => new TokenBucketRateLimiterOptions
        {
            TokenLimit = perMinute,
            TokensPerPeriod = perMinute,
            ReplenishmentPeriod = TimeSpan.FromMinutes(1),
            QueueLimit = 0,
            AutoReplenishment = true,
        }));
    }

    /// <summary>Whether the client may create one more link now, and if not, how long to wait.</summary>
    public async ValueTask<(bool Allowed, TimeSpan RetryAfter)> TryAcquireAsync(string client, CancellationToken cancellationToken)
    {
        if (_store is not null)
        {
            var outcome = await _store.DecideAsync("shortener:anonymous:" + client, _spec, 1, cancellationToken).ConfigureAwait(false);
            return (outcome.Allowed, outcome.RetryAfter);
        }

        using var lease = _local.AttemptAcquire(client);
        return (lease.IsAcquired, lease.TryGetMetadata(MetadataName.RetryAfter, out var retry) ? retry : TimeSpan.FromSeconds(60.0 / _spec.RequestsPerUnit));
    }

    public ValueTask DisposeAsync() => _local.DisposeAsync();
}
