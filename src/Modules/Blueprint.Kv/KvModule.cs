using Blueprint.Hosting;
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

    /// <summary>The RESP port: bound by the embedded Garnet itself, and not opened at all with an external Redis.</summary>
    public static readonly ModuleListener RespListener = new()
    {
        Name = "RESP",
        ConfigKey = $"{KvOptions.Section}:{nameof(KvOptions.Port)}",
        DefaultPort = 6379,
        Protocol = ListenerProtocol.ModuleBound,
        Flag = "--resp-port",
        Description = "RESP (Redis protocol) port of the kv module",
        Title = "RESP (embedded Garnet)",
        Scheme = "redis",
        Hint = (_, _, port) => $"redis-cli -p {port.ToString(System.Globalization.CultureInfo.InvariantCulture)} ping",
        When = services => !services.GetRequiredService<IOptions<KvOptions>>().Value.IsExternal,
    };

    /// <inheritdoc />
    public IReadOnlyList<ModuleListener> Listeners { get; } = [RespListener];

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
    public IEnumerable<ModuleEndpoint> DescribeEndpoints(IServiceProvider services)
    {
        // The embedded server's port is a listener (printed by the node); an external Redis is not.
        var connection = services.GetRequiredService<IKvConnection>();
        if (!connection.IsEmbedded)
        {
            yield return new ModuleEndpoint("RESP (external)", $"redis://{connection.Endpoint}");
        }
    }
}
