using Blueprint.Notify.Pipeline;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Blueprint.Notify;

/// <summary>Ready once the pipeline has loaded its state and runs.</summary>
internal sealed class NotifyHealthCheck(NotifyPipeline pipeline) : IHealthCheck
{
    /// <inheritdoc />
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        Task.FromResult(pipeline.IsRunning ? HealthCheckResult.Healthy("the notification pipeline runs") : HealthCheckResult.Unhealthy("the notification pipeline is not running"));
}
