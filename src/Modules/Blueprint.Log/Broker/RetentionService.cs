using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Blueprint.Log.Broker;

/// <summary>Runs retention and compaction over every partition every <see cref="LogOptions.CleanupIntervalSeconds"/> (Kafka's log cleaner and retention check).</summary>
public sealed partial class RetentionService(LogBroker broker, TimeProvider time, ILogger<RetentionService> logger) : BackgroundService
{
    /// <summary>One pass over every partition; returns the bytes freed.</summary>
    public async Task<long> CleanOnceAsync(CancellationToken cancellationToken)
    {
        long freed = 0;
        foreach (var topic in broker.Topics.All)
        {
            foreach (var partition in topic.Partitions)
            {
                try
                {
                    freed += await partition.Log.CleanAsync(cancellationToken).ConfigureAwait(false);
                }
                catch (ObjectDisposedException)
                {
                    // The topic was deleted during the pass.
                }
                catch (IOException e)
                {
                    LogFailed(logger, topic.Name, partition.Index, e.Message);
                }
            }
        }

        return freed;
    }

    /// <inheritdoc />
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(broker.Options.CleanupIntervalSeconds), time);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false))
            {
                if (broker.IsStarted)
                {
                    var freed = await CleanOnceAsync(stoppingToken).ConfigureAwait(false);
                    if (freed > 0)
                    {
                        LogFreed(logger, freed);
                    }
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "log cleanup freed {Bytes} bytes")]
    private static partial void LogFreed(ILogger logger, long bytes);

    [LoggerMessage(Level = LogLevel.Warning, Message = "cleanup of {Topic}-{Partition} failed: {Reason}")]
    private static partial void LogFailed(ILogger logger, string topic, int partition, string reason);
}
