using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Blueprint.Kv;

/// <summary>Ready when the engine answers PING.</summary>
internal sealed class KvHealthCheck(IKvConnection connection) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        try
        {
            var multiplexer = await connection.GetAsync(cancellationToken).ConfigureAwait(false);
            var latency = await multiplexer.GetDatabase().PingAsync().WaitAsync(cancellationToken).ConfigureAwait(false);
            return HealthCheckResult.Healthy($"PING {connection.Endpoint} in {latency.TotalMilliseconds:F2} ms");
        }
#pragma warning disable CA1031 // A health check reports every failure as unhealthy.
        catch (Exception e)
#pragma warning restore CA1031
        {
            return HealthCheckResult.Unhealthy($"PING {connection.Endpoint} failed: {e.Message}", e);
        }
    }
}
