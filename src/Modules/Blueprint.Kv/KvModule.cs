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

    /// <summary>The port of the replica server a cluster member runs beside its primary (<c>Kv:ReplicaPort</c>); off unless set.</summary>
    public static readonly ModuleListener ReplicaListener = new()
    {
        Name = "RESP replica",
        ConfigKey = $"{KvOptions.Section}:{nameof(KvOptions.ReplicaPort)}",
        DefaultPort = 0,
        OffWhenZero = true,
        Protocol = ListenerProtocol.ModuleBound,
        Flag = "--kv-replica-port",
        Description = "RESP port of this node's replica server in a KV cluster (it follows the next member's primary); 0 for none",
        Title = "RESP replica (embedded Garnet)",
        Scheme = "redis",
        Hint = (_, _, port) => $"redis-cli -p {port.ToString(System.Globalization.CultureInfo.InvariantCulture)} role",
        When = services => services.GetRequiredService<IOptions<KvOptions>>().Value is { IsExternal: false, ReplicaPort: > 0 },
    };

    /// <inheritdoc />
    public IReadOnlyList<ModuleListener> Listeners { get; } = [RespListener, ReplicaListener];

    /// <inheritdoc />
    public IReadOnlyList<ModuleFlag> Flags { get; } =
    [
        new("--kv-cluster", $"{KvOptions.Section}:{nameof(KvOptions.Cluster)}", "true runs the embedded KV as a Redis Cluster (16384 slots, MOVED/ASK, replicas, automatic failover); default false."),
        new("--kv-cluster-members", $"{KvOptions.Section}:{nameof(KvOptions.ClusterMembers)}", "The primaries the KV cluster starts with, host:port,host:port,... in order; member i owns the i-th slot range. A node not listed joins empty."),
    ];

    /// <inheritdoc />
    public IEnumerable<System.CommandLine.Command> CreateVerbs(ModuleCatalog catalog) => [Cluster.KvClusterCommand.Create()];

    /// <inheritdoc />
    public ClusterMemberPlan? PlanClusterMember(ClusterMember member)
    {
        ArgumentNullException.ThrowIfNull(member);
        static string Text(int value) => value.ToString(System.Globalization.CultureInfo.InvariantCulture);
        var members = string.Join(',', Enumerable.Range(1, member.Count).Select(i => $"{member.Host}:{Text(member.Port(RespListener, i))}"));
        var resp = member.Port(RespListener, member.Index);
        List<string> arguments = ["--resp-port", Text(resp), "--kv-cluster", "true", "--kv-cluster-members", members];
        var summary = $"redis {member.Host}:{Text(resp)}";
        if (member.Count > 1)
        {
            // Each member's replica server follows the next member's primary: on another node than the primary it backs.
            var replica = resp + 1;
            arguments.AddRange(["--kv-replica-port", Text(replica)]);
            summary += $" (replica {member.Host}:{Text(replica)} of n{Text((member.Index % member.Count) + 1)})";
        }

        return new ClusterMemberPlan(arguments, summary, resp);
    }

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
            if (bool.TryParse(builder.Configuration[$"{KvOptions.Section}:{nameof(KvOptions.Cluster)}"], out var cluster) && cluster)
            {
                builder.Services.AddHostedService<Cluster.KvClusterAgent>();
            }
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
