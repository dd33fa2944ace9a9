using Blueprint.Cache;
using Blueprint.Caching.Patterns;
using Blueprint.Hosting;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;

namespace Blueprint.Caching;

/// <summary>
/// The cache module: the four caching patterns (cache-aside, read-through, write-through, write-behind) from
/// Blueprint.Cache over the kv module's engine and one SQL table, each with a demo endpoint that shows where a value
/// came from and what it cost the database; and the node's typed cache (<c>HybridCache</c>, section <c>Cache:Typed</c>).
/// </summary>
public sealed class CachingModule : IBlueprintModule
{
    /// <inheritdoc />
    public string Name => "cache";

    /// <inheritdoc />
    public string Description => "Caching patterns over the KV and SQL: cache-aside, read-through (single flight), write-through and write-behind (bounded, batched, coalesced), each with a demo endpoint and counters.";

    /// <inheritdoc />
    public IReadOnlyList<string> CheatSheetRows { get; } = ["Caching", "Cache-aside", "Read-through", "Write-through", "Write-behind"];

    /// <inheritdoc />
    public IReadOnlyList<string> Requires { get; } = ["kv", "sql"];

    /// <inheritdoc />
    public void AddServices(IHostApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.AddValidatedOptions<CachePatternsOptions>(CachePatternsOptions.Section);
        builder.Services.TryAddSingleton(TimeProvider.System);
        builder.Services.AddSingleton<PatternDemos>();
        builder.Services.AddHostedService(services => services.GetRequiredService<PatternDemos>());

        // The node's typed cache for modules (HybridCache: near cache kept coherent + the kv engine as L2).
        builder.Services.AddBlueprintCache(
            (services, token) => services.GetRequiredService<Blueprint.Kv.IKvConnection>().GetAsync(token),
            options => builder.Configuration.GetSection("Cache:Typed").Bind(options));
    }

    /// <inheritdoc />
    public void MapEndpoints(IEndpointRouteBuilder endpoints) => PatternEndpoints.Map(endpoints);

    /// <inheritdoc />
    public IEnumerable<ModuleEndpoint> DescribeEndpoints(IServiceProvider services)
    {
        yield return new ModuleEndpoint("Caching patterns", "GET|PUT|DELETE /cache/{pattern}/items/{key}, GET /cache/{pattern}/stats, GET /cache/db/items/{key}",
            "curl -s -X PUT localhost:8080/cache/write-behind/items/a -H 'Content-Type: application/json' -d '{\"value\":\"hello\"}'");
    }
}
