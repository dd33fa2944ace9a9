using Blueprint.Storage.Local;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Blueprint.Storage;

/// <summary>
/// Hourly (and once at start): aborts multipart uploads older than <see cref="StorageOptions.AbandonedUploadHours"/> and
/// deletes blob files no row refers to (left by a crash between a blob's fsync and its row's commit).
/// </summary>
internal sealed partial class StorageMaintenance(LocalStore store, IOptions<StorageOptions> options, TimeProvider time, ILogger<StorageMaintenance> logger, StorageMetrics metrics) : BackgroundService
{
    /// <summary>The module's instruments, created with the node's start (they observe; nothing else holds them).</summary>
    public StorageMetrics Metrics { get; } = metrics;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromHours(1), time);
        do
        {
            try
            {
                var (uploads, blobs) = await store.SweepAsync(TimeSpan.FromHours(options.Value.AbandonedUploadHours), TimeSpan.FromHours(options.Value.TombstoneHours), stoppingToken).ConfigureAwait(false);
                if (uploads + blobs > 0)
                {
                    Swept(logger, uploads, blobs);
                }
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or Microsoft.Data.Sqlite.SqliteException)
            {
                SweepFailed(logger, e);
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false));
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "storage: aborted {Uploads} abandoned multipart uploads and deleted {Blobs} orphaned blob files")]
    private static partial void Swept(ILogger logger, int uploads, int blobs);

    [LoggerMessage(Level = LogLevel.Warning, Message = "storage: the sweep failed; it runs again in an hour")]
    private static partial void SweepFailed(ILogger logger, Exception exception);
}
