using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Hosting;

namespace Blueprint.Hosting;

/// <summary>
/// One Blueprint module: a project under <c>src/Modules</c> that registers its services, maps its
/// endpoints and describes what it listens on. The node composes the enabled modules; adding a
/// module touches its own project plus one line in the node's module list.
/// </summary>
public interface IBlueprintModule
{
    /// <summary>The short name used by <c>--modules</c> and in configuration, for example <c>kv</c>.</summary>
    string Name { get; }

    /// <summary>One sentence saying what the module is.</summary>
    string Description { get; }

    /// <summary>The rows of the system-design cheat sheet this module makes real.</summary>
    IReadOnlyList<string> CheatSheetRows { get; }

    /// <summary>The modules this one needs running in the same node (for example the KV that holds its state).</summary>
    IReadOnlyList<string> Requires => [];

    /// <summary>Registers options, services, hosted services and health checks.</summary>
    void AddServices(IHostApplicationBuilder builder);

    /// <summary>
    /// Adds middleware at the very front of the node's pipeline, before error handling and routing:
    /// only for a hot path that must cost little more than the server itself. Most modules add none.
    /// </summary>
    void UseFrontMiddleware(IApplicationBuilder app)
    {
    }

    /// <summary>Maps the module's HTTP endpoints, if it has any.</summary>
    void MapEndpoints(IEndpointRouteBuilder endpoints);

    /// <summary>The endpoints the running module offers (ports, URLs), for the banner and the home page.</summary>
    IEnumerable<ModuleEndpoint> DescribeEndpoints(IServiceProvider services);

    /// <summary>The TCP ports the module will listen on, checked before anything starts.</summary>
    IEnumerable<ModulePort> DescribePorts(IServiceProvider services);
}

/// <summary>A TCP port a module listens on.</summary>
/// <param name="Protocol">What speaks there, for example <c>RESP</c>.</param>
/// <param name="Port">The port.</param>
/// <param name="Flag">The command-line flag that changes it, for example <c>--resp-port</c>.</param>
public sealed record ModulePort(string Protocol, int Port, string Flag);

/// <summary>An endpoint a module offers.</summary>
/// <param name="Name">What it is, for example <c>RESP</c>.</param>
/// <param name="Address">Where it is, for example <c>redis://127.0.0.1:6379</c>.</param>
/// <param name="Hint">A command or path that shows it working, or empty.</param>
public sealed record ModuleEndpoint(string Name, string Address, string Hint = "");
