namespace Blueprint.Gateway.Tests;

/// <summary>A gateway node with one route, <c>/{prefix}/…</c>, to one destination.</summary>
internal static class OneRouteGateway
{
    /// <summary>Starts the node; <paramref name="settings"/> adds ports and cluster settings (keys under <see cref="Cluster"/>).</summary>
    public static Task<TestNode> StartAsync(string prefix, string destination, Dictionary<string, string?> settings, string? dataDir = null)
    {
        settings["Node:Modules"] = "gateway";
        settings["Gateway:ReverseProxy:Routes:route:ClusterId"] = "cluster";
        settings["Gateway:ReverseProxy:Routes:route:Match:Path"] = $"/{prefix}/{{**rest}}";
        settings[$"{Cluster}:Destinations:d0:Address"] = destination;
        return TestNode.StartAsync(dataDir, settings, TestContext.Current.CancellationToken);
    }

    /// <summary>The configuration key of the route's cluster.</summary>
    public const string Cluster = "Gateway:ReverseProxy:Clusters:cluster";
}
