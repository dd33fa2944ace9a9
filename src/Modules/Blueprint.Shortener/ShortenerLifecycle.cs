using Blueprint.Shortener.Caching;
using Blueprint.Shortener.Storage;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Blueprint.Shortener;

/// <summary>
/// Starts the module before the node serves: migrations on every database, the code generator,
/// the Bloom filter and the invalidation subscription. Then rebuilds the Bloom filter
/// periodically, which also sheds the bits of deleted codes.
/// </summary>
internal sealed partial class ShortenerLifecycle(
    ShardRouter store, ShortenerService service, LinkCache cache, IOptions<ShortenerOptions> options, TimeProvider time, ILogger<ShortenerLifecycle> logger)
    : BackgroundService
{
    public override async Task StartAsync(CancellationToken cancellationToken)
    {
        await store.MigrateAsync(cancellationToken).ConfigureAwait(false);
        await service.InitializeAsync(cancellationToken).ConfigureAwait(false);
        await cache.StartAsync(cancellationToken).ConfigureAwait(false);
        await base.StartAsync(cancellationToken).ConfigureAwait(false);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromMinutes(options.Value.BloomRebuildMinutes), time);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false))
            {
                try
                {
                    await cache.RebuildBloomAsync(stoppingToken).ConfigureAwait(false);
                }
                catch (Exception error) when (error is not OperationCanceledException)
                {
                    LogRebuildFailed(logger, error);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Periodic Bloom filter rebuild failed; the filter in use stays")]
    private static partial void LogRebuildFailed(ILogger logger, Exception error);
}
