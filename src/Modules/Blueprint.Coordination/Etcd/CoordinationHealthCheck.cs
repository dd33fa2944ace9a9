using System.Globalization;
using Blueprint.Raft.Hosting;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Blueprint.Coordination.Etcd;

/// <summary>Ready when this member knows a leader, as etcd's /health asks; otherwise writes and linearizable reads would fail.</summary>
internal sealed class CoordinationHealthCheck(RaftHost host) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        Task.FromResult(host.LeaderId == 0
            ? HealthCheckResult.Unhealthy($"member {host.Id.ToString(CultureInfo.InvariantCulture)} knows no leader in term {host.Term.ToString(CultureInfo.InvariantCulture)}")
            : HealthCheckResult.Healthy(string.Create(CultureInfo.InvariantCulture, $"member {host.Id}, leader {host.LeaderId}, term {host.Term}, applied {host.AppliedIndex}")));
}
