using Blueprint.Hosting;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using OpenTelemetry.Trace;

namespace Blueprint.Kv;

/// <summary>The kv module: a Redis-compatible key-value engine (embedded Garnet, or an external Redis).</summary>
public sealed class KvModule : IBlueprintModule
{
    /// <inheritdoc />
    public string Name => "kv";

    /// <inheritdoc />
    public string Description => "Redis-compatible key-value store speaking RESP (embedded Garnet, or an external Redis).";

    /// <inheritdoc />
    public IReadOnlyList<string> CheatSheetRows { get; } = ["NoSQL (Key-Value)", "Redis", "Pub/Sub"];

    /// <inheritdoc />
    public void AddServices(IHostApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.AddValidatedOptions<KvOptions>(KvOptions.Section);
        builder.Services.TryAddSingleton(TimeProvider.System);
        builder.Services.AddSingleton<KvConnection>();
        builder.Services.AddSingleton<IKvConnection>(services => services.GetRequiredService<KvConnection>());
        var external = builder.Configuration[$"{KvOptions.Section}:{nameof(KvOptions.ConnectionString)}"];
        if (string.IsNullOrWhiteSpace(external))
        {
            builder.Services.AddHostedService<EmbeddedKvServer>();
        }

        builder.Services.AddHealthChecks().AddCheck<KvHealthCheck>("kv", tags: [ServiceDefaults.ReadyTag]);
        builder.Services.ConfigureOpenTelemetryTracerProvider(tracing => tracing
            .AddRedisInstrumentation()
            .ConfigureRedisInstrumentation((services, instrumentation) =>
                services.GetRequiredService<KvConnection>().Instrument(instrumentation)));
    }

    /// <inheritdoc />
    public void MapEndpoints(IEndpointRouteBuilder endpoints)
    {
    }

    /// <inheritdoc />
    public IEnumerable<ModuleEndpoint> DescribeEndpoints(IServiceProvider services)
    {
        var connection = services.GetRequiredService<IKvConnection>();
        var port = services.GetRequiredService<IOptions<KvOptions>>().Value.Port;
        yield return connection.IsEmbedded
            ? new ModuleEndpoint("RESP (embedded Garnet)", $"redis://{connection.Endpoint}", $"redis-cli -p {port} ping")
            : new ModuleEndpoint("RESP (external)", $"redis://{connection.Endpoint}");
    }

    /// <inheritdoc />
    public IEnumerable<ModulePort> DescribePorts(IServiceProvider services)
    {
        var options = services.GetRequiredService<IOptions<KvOptions>>().Value;
        if (!options.IsExternal)
        {
            yield return new ModulePort("RESP", options.Port, "--resp-port");
        }
    }
}
