using Blueprint.Gateway.LoadBalancing;
using Blueprint.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Yarp.ReverseProxy.Configuration;
using Yarp.ReverseProxy.LoadBalancing;

namespace Blueprint.Gateway;

/// <summary>
/// The gateway module: YARP's reverse proxy with routes and clusters in YARP's own configuration
/// shape under <c>Gateway:ReverseProxy</c> (reloaded when the configuration changes), plus
/// Blueprint's load-balancing policies (<c>ConsistentHash</c>, <c>WeightedRoundRobin</c>) beside
/// YARP's (<c>RoundRobin</c>, <c>LeastRequests</c>, <c>PowerOfTwoChoices</c>, <c>Random</c>,
/// <c>FirstAlphabetical</c>) and YARP's active and passive health checks.
/// </summary>
public sealed class GatewayModule : IBlueprintModule
{
    /// <summary>Where the proxy configuration lives.</summary>
    public const string ProxySection = "Gateway:ReverseProxy";

    /// <inheritdoc />
    public string Name => "gateway";

    /// <inheritdoc />
    public string Description => "Reverse proxy and API gateway on YARP: routes, clusters, load balancing (incl. consistent hashing and weights), active and passive health checks.";

    /// <inheritdoc />
    public IReadOnlyList<string> CheatSheetRows { get; } = ["Load Balancing", "Proxy vs Reverse Proxy", "API Gateway"];

    /// <inheritdoc />
    public void AddServices(IHostApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.AddReverseProxy().LoadFromConfig(builder.Configuration.GetSection(ProxySection));
        builder.Services.AddSingleton<ILoadBalancingPolicy, ConsistentHashPolicy>();
        builder.Services.AddSingleton<ILoadBalancingPolicy, WeightedRoundRobinPolicy>();
    }

    /// <inheritdoc />
    public void MapEndpoints(IEndpointRouteBuilder endpoints)
    {
        try
        {
            endpoints.MapReverseProxy();
        }
        catch (InvalidOperationException e) when (e.InnerException is AggregateException errors)
        {
            // YARP validates the whole configuration and collects every error: report them all, plainly.
            throw new StartupProblemException(
                $"{ProxySection} is invalid: {string.Join("; ", errors.InnerExceptions.Select(error => error.Message))}", e);
        }
    }

    /// <inheritdoc />
    public IEnumerable<ModuleEndpoint> DescribeEndpoints(IServiceProvider services)
    {
        var config = services.GetRequiredService<IProxyConfigProvider>().GetConfig();
        yield return new ModuleEndpoint("Reverse proxy", $"{config.Routes.Count} routes, {config.Clusters.Count} clusters",
            config.Routes.Count == 0 ? $"configure {ProxySection}:Routes and :Clusters (YARP's shape)" : "");
    }

    /// <inheritdoc />
    public IEnumerable<ModulePort> DescribePorts(IServiceProvider services) => [];
}
