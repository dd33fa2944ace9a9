using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Blueprint.Log;

/// <summary>Ready once the broker has opened its topics and groups.</summary>
internal sealed class LogHealthCheck(LogBroker broker) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        Task.FromResult(broker.IsStarted
            ? HealthCheckResult.Healthy($"{broker.Topics.All.Count} topics")
            : HealthCheckResult.Unhealthy("the log is opening"));
}
