using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Blueprint.Sql;

/// <summary>Ready when the database answers <c>SELECT 1</c>.</summary>
internal sealed class SqlHealthCheck(ISqlDatabase database) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        try
        {
            var connection = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
            await using (connection.ConfigureAwait(false))
            {
                await using var command = connection.CreateCommand();
                command.CommandText = "SELECT 1";
                await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false);
            }

            return HealthCheckResult.Healthy(database.Location);
        }
#pragma warning disable CA1031 // A health check reports every failure as unhealthy.
        catch (Exception e)
#pragma warning restore CA1031
        {
            return HealthCheckResult.Unhealthy($"{database.Location}: {e.Message}", e);
        }
    }
}
