using Blueprint.Hosting;
using Blueprint.Kv;
using Blueprint.RateLimit.AspNetCore;
using Blueprint.RateLimit.Http;
using Blueprint.RateLimit.Rules;
using Blueprint.RateLimit.Store;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace Blueprint.RateLimit;

/// <summary>The ratelimit module: exact distributed rate limits decided by Lua scripts on the KV.</summary>
public sealed class RateLimitModule : IBlueprintModule
{
    /// <inheritdoc />
    public string Name => "ratelimit";

    /// <inheritdoc />
    public string Description => "Distributed rate limits (token bucket, GCRA, sliding log/counter, fixed window, leaky bucket) decided atomically on the KV; HTTP check API.";

    /// <inheritdoc />
    public IReadOnlyList<string> CheatSheetRows { get; } = ["Rate Limiting", "Rate limiter (design problem)", "Token vs leaky bucket"];

    /// <inheritdoc />
    public IReadOnlyList<string> Requires { get; } = ["kv"];

    /// <inheritdoc />
    public void AddServices(IHostApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.AddValidatedOptions<RateLimitOptions>(RateLimitOptions.Section);
        builder.Services.TryAddSingleton(TimeProvider.System);
        builder.Services.AddSingleton<RuleStore>();
        builder.Services.AddHostedService(services => services.GetRequiredService<RuleStore>());
        builder.Services.AddSingleton<IRateLimitStore>(services => new KvRateLimitStore(
            services.GetRequiredService<IKvConnection>(),
            services.GetRequiredService<IOptions<RateLimitOptions>>().Value.KeyPrefix));
        builder.Services.AddSingleton<RateLimitService>();
        builder.Services.AddHostedService<StoreWarmup>();
        builder.Services.AddValidatedOptions<HttpRateLimitOptions>(HttpRateLimitOptions.Section);
        builder.Services.AddSingleton<BlueprintHttpRateLimiter>();
        builder.Services.AddRateLimiter(_ => { });
        builder.Services.AddOptions<RateLimiterOptions>().Configure<IServiceProvider>((options, services) => options.UseBlueprintLimits(services));
    }

    /// <inheritdoc />
    public void MapEndpoints(IEndpointRouteBuilder endpoints)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        CheckEndpoint.Map(endpoints);

        // The node's own endpoints go through the distributed limits when RateLimit:Http:Enabled is set.
        if (endpoints is IApplicationBuilder app && endpoints.ServiceProvider.GetRequiredService<IOptions<HttpRateLimitOptions>>().Value.Enabled)
        {
            app.UseRateLimiter();
        }
    }

    /// <inheritdoc />
    public IEnumerable<ModuleEndpoint> DescribeEndpoints(IServiceProvider services)
    {
        yield return new ModuleEndpoint("HTTP check", "POST /v1/ratelimit/check",
            "curl -s -X POST localhost:8080/v1/ratelimit/check -d '{\"domain\":\"api\",\"descriptors\":[{\"entries\":[{\"key\":\"remote_address\",\"value\":\"10.0.0.1\"}]}]}'");
    }

    /// <inheritdoc />
    public IEnumerable<ModulePort> DescribePorts(IServiceProvider services) => [];
}
