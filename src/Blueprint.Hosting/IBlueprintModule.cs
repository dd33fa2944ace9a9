using System.CommandLine;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Hosting;

namespace Blueprint.Hosting;

/// <summary>
/// One Blueprint module: a project under <c>src/Modules</c> that registers its services, maps its endpoints,
/// declares its listeners and flags, and may add CLI verbs. The node composes the enabled modules; adding a
/// module is its own project plus one line in the node's <c>ModuleCatalog</c>. A module object holds no state
/// (state lives in the services it registers): one instance may describe several nodes.
/// </summary>
public interface IBlueprintModule : IVerbSource
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
    void MapEndpoints(IEndpointRouteBuilder endpoints)
    {
    }

    /// <summary>
    /// The ports the module listens on. The node opens each (on its bind address), checks it before the start,
    /// prints it in the banner and makes its flag; endpoints are pinned to one with <c>RequireLocalPort</c>.
    /// </summary>
    IReadOnlyList<ModuleListener> Listeners => [];

    /// <summary>The module's <c>blueprint run</c> flags other than its listeners' ports.</summary>
    IReadOnlyList<ModuleFlag> Flags => [];

    /// <summary>
    /// How the module runs on one member of a local cluster (<c>blueprint cluster up</c>): the member's flags for it, or
    /// null when the module does not take part in clusters. Ports come from <see cref="ClusterMember.Port"/>, so each
    /// member gets its own and every member can compute the others'.
    /// </summary>
    ClusterMemberPlan? PlanClusterMember(ClusterMember member) => null;

    /// <summary>What the running module offers besides its listeners (HTTP paths, external engines), for the banner and the dashboard.</summary>
    IEnumerable<ModuleEndpoint> DescribeEndpoints(IServiceProvider services) => [];

    /// <summary>The path of the module's own browser page (such as <c>/chat</c>), linked from the dashboard; null when it has none.</summary>
    string? PagePath => null;

    /// <inheritdoc />
    IEnumerable<Command> IVerbSource.CreateVerbs(ModuleCatalog catalog) => [];
}

/// <summary>Something that adds verbs to the <c>blueprint</c> command line: a module, or a tool such as <c>lab</c> or <c>sim</c>.</summary>
public interface IVerbSource
{
    /// <summary>Creates the verbs (top-level commands with their subcommands).</summary>
    /// <param name="catalog">Every module of this build, for verbs that work on a node's configuration or data.</param>
    IEnumerable<Command> CreateVerbs(ModuleCatalog catalog);
}

/// <summary>An endpoint a module offers.</summary>
/// <param name="Name">What it is, for example <c>RESP</c>.</param>
/// <param name="Address">Where it is, for example <c>redis://127.0.0.1:6379</c>.</param>
/// <param name="Hint">A command or path that shows it working, or empty.</param>
public sealed record ModuleEndpoint(string Name, string Address, string Hint = "");

/// <summary>Verb sources made from command factories, for tools that know nothing of the module contract.</summary>
public static class VerbSource
{
    /// <summary>A verb source whose verb <paramref name="create"/> makes.</summary>
    public static IVerbSource Of(Func<Command> create) => new FactoryVerbSource(create);

    private sealed class FactoryVerbSource(Func<Command> create) : IVerbSource
    {
        public IEnumerable<Command> CreateVerbs(ModuleCatalog catalog) => [create()];
    }
}
