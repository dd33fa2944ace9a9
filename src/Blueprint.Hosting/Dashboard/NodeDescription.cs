using System.Globalization;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Blueprint.Hosting.Dashboard;

/// <summary>What <c>GET /api/node</c> answers: the node's version, its links, its modules and its listeners.</summary>
/// <param name="Version">The node's version.</param>
/// <param name="Http">The node's HTTP address as a local client reaches it.</param>
/// <param name="Links">The node's own pages and endpoints (health, metrics, the API reference).</param>
/// <param name="Modules">The enabled modules, in the order the node composes them.</param>
/// <param name="Listeners">Every port the node listens on, its HTTP port first.</param>
public sealed record NodeDescription(
    string Version,
    string Http,
    IReadOnlyList<NodeLink> Links,
    IReadOnlyList<ModuleDescription> Modules,
    IReadOnlyList<ListenerDescription> Listeners)
{
    /// <summary>The node's own links, shown on the dashboard's Node section.</summary>
    public static readonly IReadOnlyList<NodeLink> NodeLinks =
    [
        new("API reference", "/api", "every HTTP endpoint, with a console to try them"),
        new("OpenAPI document", "/openapi/v1.json", "the HTTP API as OpenAPI 3"),
        new("Readiness", "/readyz", "every engine's health, as JSON"),
        new("Liveness", "/healthz", "200 while the process serves HTTP"),
        new("Prometheus metrics", "/metrics", "the node's metrics, for a scraper"),
    ];

    /// <summary>Describes the running node.</summary>
    internal static NodeDescription Of(IReadOnlyList<IBlueprintModule> modules, IReadOnlyList<ActiveListener> listeners, IServiceProvider services)
    {
        var options = services.GetRequiredService<IOptions<NodeOptions>>().Value;
        var http = HttpAddress(services, options);
        var described = modules.Select(module => new ModuleDescription(
                module.Name,
                module.Description,
                module.CheatSheetRows,
                module.Requires,
                module.PagePath,
                [.. BlueprintNode.Describe(module, listeners, services).Select(endpoint => new EndpointDescription(endpoint.Name, endpoint.Address, endpoint.Hint))]))
            .ToList();
        var ports = listeners.Select(active => new ListenerDescription(
                active.Module,
                active.Listener.Title ?? active.Listener.Name,
                $"{active.Listener.Scheme}://{options.ClientHost}:{active.Port.ToString(CultureInfo.InvariantCulture)}",
                active.Listener.Protocol.ToString(),
                active.Listener.Setting))
            .Prepend(new ListenerDescription("node", ModuleCatalog.HttpListener.Name, http, ModuleCatalog.HttpListener.Protocol.ToString(), ModuleCatalog.HttpListener.Setting))
            .ToList();
        return new NodeDescription(BlueprintVersion.Current, http, NodeLinks, described, ports);
    }

    /// <summary>The bound HTTP address (the real port when 0 was configured), with the host a local client uses.</summary>
    private static string HttpAddress(IServiceProvider services, NodeOptions options)
    {
        var bound = services.GetService<IServer>()?.Features.Get<IServerAddressesFeature>()?.Addresses.FirstOrDefault();
        var port = bound is not null && Uri.TryCreate(bound.Replace("0.0.0.0", "127.0.0.1", StringComparison.Ordinal).Replace("[::]", "[::1]", StringComparison.Ordinal), UriKind.Absolute, out var uri)
            ? uri.Port
            : options.HttpPort;
        return $"http://{options.ClientHost}:{port.ToString(CultureInfo.InvariantCulture)}/";
    }
}

/// <summary>A link the dashboard shows.</summary>
/// <param name="Name">What it is.</param>
/// <param name="Href">Its path on the node.</param>
/// <param name="Description">One line on what it shows.</param>
public sealed record NodeLink(string Name, string Href, string Description);

/// <summary>One enabled module.</summary>
/// <param name="Name">Its short name (<c>--modules</c>).</param>
/// <param name="Description">What it is.</param>
/// <param name="CheatSheetRows">The cheat-sheet rows it makes real.</param>
/// <param name="Requires">The modules it needs.</param>
/// <param name="Page">Its own browser page, or null.</param>
/// <param name="Endpoints">What it offers: its HTTP paths, then its listeners with their addresses.</param>
public sealed record ModuleDescription(
    string Name,
    string Description,
    IReadOnlyList<string> CheatSheetRows,
    IReadOnlyList<string> Requires,
    string? Page,
    IReadOnlyList<EndpointDescription> Endpoints);

/// <summary>One endpoint of a module (see <see cref="ModuleEndpoint"/>).</summary>
/// <param name="Name">What it is.</param>
/// <param name="Address">Where it is.</param>
/// <param name="Hint">A command or path that shows it working, or empty.</param>
public sealed record EndpointDescription(string Name, string Address, string Hint);

/// <summary>One port the node listens on.</summary>
/// <param name="Module">The module that declares it (<c>node</c> for the HTTP port).</param>
/// <param name="Name">What it is.</param>
/// <param name="Address">Its URL as a local client reaches it.</param>
/// <param name="Protocol">How Kestrel opens it (<see cref="ListenerProtocol"/>).</param>
/// <param name="Setting">The flag or configuration key that moves it.</param>
public sealed record ListenerDescription(string Module, string Name, string Address, string Protocol, string Setting);
