using Blueprint.Core.RateLimiting.Stores;
using Blueprint.Hosting;
using Blueprint.Kv;
using Blueprint.RateLimit.AspNetCore;
using Blueprint.RateLimit.Grpc;
using Blueprint.RateLimit.Http;
using Blueprint.RateLimit.Rules;
using Blueprint.RateLimit.Store;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace Blueprint.RateLimit;

/// <summary>The ratelimit module: exact distributed rate limits decided by Lua scripts on the KV.</summary>
public sealed class RateLimitModule : IBlueprintModule
{
    /// <summary>The largest gRPC request message the RLS accepts: 64 KiB, as the HTTP check's body.</summary>
    public const int GrpcMessageBytesMax = 64 * 1024;

    /// <summary>
    /// Envoy's rate limit service (RLS v3) on its own HTTP/2-only (h2c) listener, as Envoy's rate limit cluster expects.
    /// It has no flag: <c>RateLimit:GrpcPort</c> sets it.
    /// </summary>
    public static readonly ModuleListener RlsListener = new()
    {
        Name = "gRPC (Envoy RLS v3)",
        ConfigKey = $"{RateLimitOptions.Section}:{nameof(RateLimitOptions.GrpcPort)}",
        DefaultPort = 8081,
        Protocol = ListenerProtocol.H2c,
        Scheme = "grpc",
        Hint = (_, host, port) =>
            $"envoy.service.ratelimit.v3.RateLimitService/ShouldRateLimit (h2c); point Envoy's rate limit cluster at {host}:{port.ToString(System.Globalization.CultureInfo.InvariantCulture)}",
    };

    /// <inheritdoc />
    public IReadOnlyList<ModuleListener> Listeners { get; } = [RlsListener];

    /// <inheritdoc />
    public string Name => "ratelimit";

    /// <inheritdoc />
    public string Description => "Distributed rate limits (token bucket, GCRA, sliding log/counter, fixed window, leaky bucket) decided atomically on the KV; HTTP check API and Envoy RLS v3 over gRPC.";

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
        // The rate-limiting middleware always runs with this module: endpoints (gateway routes) may name
        // the distributed policy; the node's own endpoints are limited globally only when RateLimit:Http:Enabled.
        builder.Services.AddRateLimiter(_ => { });
        builder.Services.AddHttpContextAccessor(); // the distributed route policy reads the client of the request it decides
        builder.Services.Configure<PipelineOptions>(pipeline => pipeline.RateLimiter = true);
        var global = builder.Configuration.GetValue<bool>($"{HttpRateLimitOptions.Section}:{nameof(HttpRateLimitOptions.Enabled)}");
        builder.Services.AddOptions<RateLimiterOptions>().Configure<IServiceProvider>((options, services) => options.UseBlueprintLimits(services, global));

        builder.Services.AddGrpc(grpc => grpc.MaxReceiveMessageSize = GrpcMessageBytesMax);
        builder.Services.AddSingleton<RlsService>();
    }

    /// <inheritdoc />
    public void MapEndpoints(IEndpointRouteBuilder endpoints)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        CheckEndpoint.Map(endpoints);

        // Only on the gRPC listener, whatever :authority the caller sends (Envoy sends its cluster's name);
        // never limited by the limits it decides.
        var grpcPort = endpoints.ServiceProvider.GetRequiredService<IOptions<RateLimitOptions>>().Value.GrpcPort;
        endpoints.MapGrpcService<RlsService>().RequireLocalPort(grpcPort).DisableRateLimiting();
    }

    /// <inheritdoc />
    public IEnumerable<ModuleEndpoint> DescribeEndpoints(IServiceProvider services)
    {
        yield return new ModuleEndpoint("HTTP check", "POST /v1/ratelimit/check",
            "curl -s -X POST localhost:8080/v1/ratelimit/check -d '{\"domain\":\"api\",\"descriptors\":[{\"entries\":[{\"key\":\"remote_address\",\"value\":\"10.0.0.1\"}]}]}'");
    }
}
