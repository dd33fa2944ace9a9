using Blueprint.Hosting;
using Blueprint.Shortener.Access;
using Blueprint.Shortener.Caching;
using Blueprint.Shortener.Clicks;
using Blueprint.Shortener.Http;
using Blueprint.Shortener.Storage;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;

namespace Blueprint.Shortener;

/// <summary>The shortener module: short links with SQL as the truth, cache-aside on the KV, a Bloom filter in front and optional sharding.</summary>
public sealed class ShortenerModule : IBlueprintModule
{
    /// <inheritdoc />
    public string Name => "shortener";

    /// <inheritdoc />
    public string Description => "URL shortener: create, redirect, expire and count; SQL as the truth, near cache → KV → Bloom filter on the read path, click write-behind, sharding by consistent hashing.";

    /// <inheritdoc />
    public IReadOnlyList<string> CheatSheetRows { get; } = ["URL shortener (design problem)", "Caching", "Bloom filter", "Sharding", "Consistent hashing"];

    /// <inheritdoc />
    public IReadOnlyList<string> Requires { get; } = ["kv", "sql"];

    /// <inheritdoc />
    public IEnumerable<System.CommandLine.Command> CreateVerbs(ModuleCatalog catalog) => [ShortenerCommand.Create(catalog)];

    /// <inheritdoc />
    public void AddServices(IHostApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.AddValidatedOptions<ShortenerOptions>(ShortenerOptions.Section);
        builder.Services.TryAddSingleton(TimeProvider.System);
        builder.Services.AddSingleton<ShortenerMetrics>();
        builder.Services.AddSingleton<ShardRouter>();
        builder.Services.AddSingleton<LinkStore>();
        builder.Services.AddSingleton<ClickStore>();
        builder.Services.AddSingleton<LinkCache>();
        builder.Services.AddSingleton<ShortenerService>();
        builder.Services.AddSingleton<ApiKeyVerifier>();
        builder.Services.AddSingleton<AnonymousLimiter>();
        builder.Services.AddSingleton<ClickRecorder>();
        builder.Services.AddHostedService<ShortenerLifecycle>();
        builder.Services.AddHostedService(services => services.GetRequiredService<ClickRecorder>());
    }

    /// <inheritdoc />
    public void UseFrontMiddleware(IApplicationBuilder app)
    {
        ArgumentNullException.ThrowIfNull(app);
        // Hot redirects skip error handling and routing; with the node's own HTTP rate limits on, they must not.
        if (!app.ApplicationServices.GetRequiredService<IConfiguration>().GetValue<bool>("RateLimit:Http:Enabled"))
        {
            LinkEndpoints.UseHotRedirects(app);
        }
    }

    /// <inheritdoc />
    public void MapEndpoints(IEndpointRouteBuilder endpoints) => LinkEndpoints.Map(endpoints);

    /// <inheritdoc />
    public IEnumerable<ModuleEndpoint> DescribeEndpoints(IServiceProvider services)
    {
        yield return new ModuleEndpoint("Links API", "POST /api/links, GET /{code}",
            "blueprint shortener create-key, then: curl -s -X POST localhost:8080/api/links -H 'X-Api-Key: <key>' -H 'Content-Type: application/json' -d '{\"url\":\"https://example.com/a\"}'");
    }
}
