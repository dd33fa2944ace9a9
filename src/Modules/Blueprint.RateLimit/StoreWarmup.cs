using Blueprint.Core.RateLimiting.Stores;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using StackExchange.Redis;

namespace Blueprint.RateLimit;

/// <summary>
/// Connects to the KV and loads every script at start, so the first real decision is one round
/// trip rather than a connect, a script load and a cold JIT racing the decision timeout. A KV that
/// is down at start is logged, not fatal: the rules' fail modes cover it.
/// </summary>
internal sealed partial class StoreWarmup(IRateLimitStore store, ILogger<StoreWarmup> logger) : IHostedService
{
    private static readonly TimeSpan WarmupTimeout = TimeSpan.FromSeconds(5);

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(WarmupTimeout);
        try
        {
            foreach (var algorithm in Enum.GetValues<RateLimitAlgorithm>())
            {
                // Zero hits consume nothing; the key expires on its own.
                await store.DecideAsync($"warmup:{algorithm}", new LimitSpec(algorithm, 1, TimeSpan.FromSeconds(1)), 0, timeout.Token).ConfigureAwait(false);
            }
        }
        catch (Exception e) when (e is RedisException or OperationCanceledException or TimeoutException)
        {
            LogWarmupFailed(logger, e.Message);
        }
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    [LoggerMessage(Level = LogLevel.Warning, Message = "Rate limiter could not reach the KV at start ({Reason}); decisions follow each rule's fail mode until it answers")]
    private static partial void LogWarmupFailed(ILogger logger, string reason);
}
