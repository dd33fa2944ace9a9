using System.Globalization;
using Blueprint.Gateway.LoadBalancing;
using Blueprint.Gateway.Resilience;
using Yarp.ReverseProxy.Configuration;

namespace Blueprint.Gateway;

/// <summary>
/// Checks the metadata Blueprint's extensions read — a cluster's <c>HashKey</c> and <c>Retries</c>,
/// a destination's <c>Weight</c> — as YARP checks its own fields: a bad value stops the first load
/// with its reason and makes a reload keep the last good configuration, instead of being silently
/// read as the default.
/// </summary>
internal sealed class GatewayConfigFilter : IProxyConfigFilter
{
    /// <summary>The largest destination weight.</summary>
    public const int WeightMax = 1000;

    public ValueTask<ClusterConfig> ConfigureClusterAsync(ClusterConfig cluster, CancellationToken cancel)
    {
        ArgumentNullException.ThrowIfNull(cluster);
        var problems = new List<string>();
        var prefix = $"Clusters:{cluster.ClusterId}";
        if (cluster.Metadata?.GetValueOrDefault(ConsistentHashPolicy.HashKeyMetadata) is { } hashKey && !ConsistentHashPolicy.IsValidSource(hashKey))
        {
            problems.Add($"{prefix}:Metadata:{ConsistentHashPolicy.HashKeyMetadata} = '{hashKey}': must be ip, header:NAME or cookie:NAME");
        }

        if (cluster.Metadata?.GetValueOrDefault(ProxyResilience.RetriesMetadata) is { } retries && !ProxyResilience.TryParseRetries(retries, out _))
        {
            problems.Add($"{prefix}:Metadata:{ProxyResilience.RetriesMetadata} = '{retries}': must be a whole number from 0 to {ResilienceOptions.RetriesMax}");
        }

        foreach (var (id, destination) in cluster.Destinations ?? new Dictionary<string, DestinationConfig>())
        {
            if (destination.Metadata?.GetValueOrDefault(WeightedRoundRobinPolicy.WeightMetadata) is { } weight
                && !(int.TryParse(weight, NumberStyles.None, CultureInfo.InvariantCulture, out var value) && value is >= 1 and <= WeightMax))
            {
                problems.Add($"{prefix}:Destinations:{id}:Metadata:{WeightedRoundRobinPolicy.WeightMetadata} = '{weight}': must be a whole number from 1 to {WeightMax}");
            }
        }

        return problems.Count == 0 ? ValueTask.FromResult(cluster) : throw new InvalidOperationException(string.Join("; ", problems));
    }

    public ValueTask<RouteConfig> ConfigureRouteAsync(RouteConfig route, ClusterConfig? cluster, CancellationToken cancel) => ValueTask.FromResult(route);
}
