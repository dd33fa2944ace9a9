using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Blueprint.Hosting.Dashboard;

/// <summary>
/// The node's dashboard at <c>/</c>: a static page, its style sheet and its scripts, embedded in this assembly (no CDN,
/// nothing fetched from elsewhere) and served from memory under <see cref="AssetPrefix"/>; and the JSON it reads about
/// the node, <c>GET /api/node</c>, and about lab results, <c>GET /api/lab</c>. Metrics and traces come from the telemetry
/// module's APIs when it runs.
/// </summary>
internal static class DashboardEndpoints
{
    /// <summary>Where the page's own files are served.</summary>
    public const string AssetPrefix = "/dashboard";

    /// <summary>The dashboard's requests, which the node does not trace (its polling would fill the trace store).</summary>
    public static readonly IReadOnlyList<string> UntracedPathPrefixes = ["/api/node", "/api/lab", AssetPrefix];

    /// <summary>The page's files (the <c>LogicalName</c> prefix in the project file).</summary>
    private static readonly EmbeddedWebFiles Files = new(typeof(DashboardEndpoints).Assembly, "Blueprint.Hosting.Dashboard.Web.");

    public static void Map(WebApplication app, IReadOnlyList<IBlueprintModule> modules, Func<IServiceProvider, IReadOnlyList<ActiveListener>> listeners)
    {
        app.MapGet("/", (HttpContext context) => Files.Serve(context, "index.html")).ExcludeFromDescription();
        app.MapGet(AssetPrefix + "/{file}", (string file, HttpContext context) => Files.Serve(context, file)).ExcludeFromDescription();

        var api = app.MapGroup("/api").WithTags("node");
        api.MapGet("/node", (HttpContext context) => TypedResults.Ok(NodeDescription.Of(modules, listeners(context.RequestServices), context.RequestServices)))
            .WithSummary("The node: version, modules with their endpoints and cheat-sheet rows, listeners, links.")
            .WithDescription("What the dashboard's Node section shows. Health is at /readyz.");
        api.MapGet("/lab", (LabResults lab) => TypedResults.Ok(new LabListing(lab.Directory, lab.List())))
            .WithSummary("Lab results: name, title, summary and verdict of each report in Node:LabResultsDir.")
            .WithDescription("Empty when the directory does not exist. `blueprint lab <name>` writes a result there.");
        api.MapGet("/lab/{name}", Results<Ok<LabReport>, ProblemHttpResult> (string name, LabResults lab) =>
            {
                if (LabResults.RefuseName(name) is { } reason)
                {
                    return BadName(reason);
                }

                return lab.Read(name) is { } result
                    ? TypedResults.Ok(new LabReport(result.Summary, result.Markdown, result.Summary.HasPlot ? $"/api/lab/{name}/plot" : null))
                    : NoResult(name, lab);
            })
            .WithSummary("One lab result: its summary, its report as markdown, and its plot's path.");
        api.MapGet("/lab/{name}/plot", Results<PhysicalFileHttpResult, ProblemHttpResult> (string name, LabResults lab, HttpContext context) =>
            {
                if (LabResults.RefuseName(name) is { } reason)
                {
                    return BadName(reason);
                }

                if (lab.PlotPath(name) is not { } path)
                {
                    return NoResult(name, lab);
                }

                context.Response.Headers.CacheControl = "no-cache";
                return TypedResults.PhysicalFile(path, "image/png", enableRangeProcessing: false);
            })
            .WithSummary("One lab result's plot (PNG).");
    }

    /// <summary>Registers what the endpoints use and leaves the dashboard's requests untraced.</summary>
    public static void AddServices(IServiceCollection services)
    {
        services.AddSingleton(provider => new LabResults(provider.GetRequiredService<IOptions<NodeOptions>>().Value.LabResultsDir));
        services.Configure<TracingFilterOptions>(filter => filter.UntracedPathPrefixes.AddRange(UntracedPathPrefixes));
    }

    private static ProblemHttpResult BadName(string reason) =>
        TypedResults.Problem(title: "invalid lab result name", detail: reason, statusCode: StatusCodes.Status400BadRequest);

    private static ProblemHttpResult NoResult(string name, LabResults lab) =>
        TypedResults.Problem(title: "no such lab result", detail: $"no lab result '{name}' in {lab.Directory}", statusCode: StatusCodes.Status404NotFound);
}

/// <summary>What <c>GET /api/lab</c> answers.</summary>
/// <param name="Directory">The directory read (<c>Node:LabResultsDir</c>), absolute.</param>
/// <param name="Results">Its results, by name.</param>
public sealed record LabListing(string Directory, IReadOnlyList<LabResultSummary> Results);

/// <summary>What <c>GET /api/lab/{name}</c> answers.</summary>
/// <param name="Summary">The result as the listing shows it.</param>
/// <param name="Markdown">The report, as markdown.</param>
/// <param name="Plot">The path of its plot, or null.</param>
public sealed record LabReport(LabResultSummary Summary, string Markdown, string? Plot);
