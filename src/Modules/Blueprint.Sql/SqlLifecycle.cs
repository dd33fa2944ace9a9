using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Blueprint.Sql;

/// <summary>Opens the database at start (so a bad path or server fails the start, not the first request) and checkpoints it at stop.</summary>
internal sealed partial class SqlLifecycle(SqlDatabase database, ILogger<SqlLifecycle> logger) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var connection = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        await connection.DisposeAsync().ConfigureAwait(false);
        LogOpened(logger, database.Location);
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        await database.CheckpointAsync(cancellationToken).ConfigureAwait(false);
        LogClosed(logger, database.Location);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "SQL database open at {Location}")]
    private static partial void LogOpened(ILogger logger, string location);

    [LoggerMessage(Level = LogLevel.Information, Message = "SQL database checkpointed and closed at {Location}")]
    private static partial void LogClosed(ILogger logger, string location);
}
