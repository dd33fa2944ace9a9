using Blueprint.Gateway.LoadBalancing;
using Blueprint.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Configuration;
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
        builder.Services.AddReverseProxy().LoadFromConfig(ProxyConfiguration(builder.Configuration));
        builder.Services.AddSingleton<ILoadBalancingPolicy, ConsistentHashPolicy>();
        builder.Services.AddSingleton<ILoadBalancingPolicy, WeightedRoundRobinPolicy>();
    }

    /// <summary>
    /// Where routes and clusters come from: the file named by <c>Gateway:ConfigFile</c> (YARP's shape,
    /// <c>{"Routes": …, "Clusters": …}</c>), reloaded when it changes — an edit YARP finds invalid is
    /// logged and the last good configuration stays — or else the <c>Gateway:ReverseProxy</c> section.
    /// </summary>
    private static IConfiguration ProxyConfiguration(IConfiguration configuration)
    {
        var file = configuration[ConfigFileKey];
        if (string.IsNullOrWhiteSpace(file))
        {
            return configuration.GetSection(ProxySection);
        }

        var path = Path.GetFullPath(file);
        if (!File.Exists(path))
        {
            throw new StartupProblemException($"{ConfigFileKey} = '{file}': no such file ({path})");
        }

        return new ConfigurationBuilder().AddJsonFile(path, optional: false, reloadOnChange: true).Build();
    }

    /// <summary>The key naming a proxy configuration file.</summary>
    public const string ConfigFileKey = "Gateway:ConfigFile";

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
