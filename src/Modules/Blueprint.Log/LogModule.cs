using System.Globalization;
using Blueprint.Hosting;
using Blueprint.Log.Broker;
using Blueprint.Log.Cluster;
using Blueprint.Log.Http;
using Blueprint.Log.Kafka;
using Blueprint.Raft.Hosting;
using Blueprint.Raft.Hosting.Wal;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Blueprint.Log;

/// <summary>The log module: a durable, partitioned log on the Kafka wire protocol, with consumer groups.</summary>
public sealed class LogModule : IBlueprintModule
{
    /// <summary>The module's name.</summary>
    public const string ModuleName = "log";

    /// <inheritdoc />
    public string Name => ModuleName;

    /// <inheritdoc />
    public string Description => "Durable partitioned log on the Kafka wire protocol: segments, retention, compaction, consumer groups; kcat and librdkafka clients work unchanged.";

    /// <inheritdoc />
    public IReadOnlyList<string> CheatSheetRows { get; } = ["Kafka protocol", "Message queue", "Pub/Sub", "Event-driven architecture"];

    /// <summary>The Kafka protocol port.</summary>
    public static readonly ModuleListener KafkaListener = new()
    {
        Name = "Kafka",
        Title = "Kafka protocol",
        ConfigKey = $"{LogOptions.Section}:{nameof(LogOptions.KafkaPort)}",
        DefaultPort = 9092,
        Protocol = ListenerProtocol.Tcp,
        Flag = "--kafka-port",
        Description = "Kafka protocol port of the log module",
        Scheme = "kafka",
        Hint = (_, host, port) => $"kcat -b {host}:{port.ToString(CultureInfo.InvariantCulture)} -L",
        ConnectionHandler = services => services.GetRequiredService<KafkaConnectionHandler>(),
    };

    /// <summary>The metadata quorum's Raft peer port (h2c), open only in a cluster.</summary>
    public static readonly ModuleListener RaftListener = new()
    {
        Name = "Log metadata quorum",
        ConfigKey = $"{LogOptions.Section}:{nameof(LogOptions.RaftPort)}",
        DefaultPort = 9093,
        Protocol = ListenerProtocol.H2c,
        Flag = "--log-raft-port",
        Description = "Raft peer port of the log's metadata quorum (only with --controller-quorum-voters)",
        Scheme = "http",
        When = services => services.GetRequiredService<IOptions<LogOptions>>().Value.IsClustered,
    };

    /// <inheritdoc />
    public IReadOnlyList<ModuleListener> Listeners { get; } = [KafkaListener, RaftListener];

    /// <inheritdoc />
    public IReadOnlyList<ModuleFlag> Flags { get; } =
    [
        new("--log-fsync", $"{LogOptions.Section}:{nameof(LogOptions.Fsync)}", "batch (default: a produce is acknowledged after an fsync covering it) or interval."),
        new("--broker-id", $"{LogOptions.Section}:{nameof(LogOptions.BrokerId)}", "This broker's id (Kafka's node.id; default 1)."),
        new("--controller-quorum-voters", $"{LogOptions.Section}:{nameof(LogOptions.ControllerQuorumVoters)}", "Every broker of a replicated cluster as id@host:raftport, comma separated (Kafka's controller.quorum.voters); default: this broker alone."),
    ];

    /// <inheritdoc />
    public ClusterMemberPlan? PlanClusterMember(ClusterMember member)
    {
        ArgumentNullException.ThrowIfNull(member);
        static string Text(int value) => value.ToString(CultureInfo.InvariantCulture);
        var voters = string.Join(',', Enumerable.Range(1, member.Count).Select(i => $"{Text(i)}@{member.Host}:{Text(member.Port(RaftListener, i))}"));
        var kafka = member.Port(KafkaListener, member.Index);
        return new ClusterMemberPlan(
            [
                "--broker-id", Text(member.Index),
                "--kafka-port", Text(kafka),
                "--log-raft-port", Text(member.Port(RaftListener, member.Index)),
                "--controller-quorum-voters", voters,
            ],
            $"kafka {member.Host}:{Text(kafka)}",
            kafka);
    }

    /// <inheritdoc />
    public void AddServices(IHostApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var services = builder.Services;
        services.AddValidatedOptions<LogOptions>(LogOptions.Section);
        services.TryAddSingleton(TimeProvider.System);
        services.AddSingleton<LogBroker>();
        services.AddSingleton<MetadataStateMachine>();
        services.TryAddSingleton<RaftMetrics>();
        services.AddKeyedSingleton(LogCluster.HostKey, (provider, _) =>
        {
            var host = CreateRaftHost(provider);
            provider.GetRequiredService<RaftMetrics>().Add(Name, host);
            return host;
        });
        services.AddSingleton(provider => new LogCluster(
            provider.GetRequiredKeyedService<RaftHost>(LogCluster.HostKey),
            provider.GetRequiredService<MetadataStateMachine>(),
            provider.GetRequiredService<IOptions<LogOptions>>().Value,
            provider.GetRequiredService<TimeProvider>(),
            provider.GetRequiredService<ILoggerFactory>(),
            provider.GetService<IHostApplicationLifetime>()));
        services.AddRaftPeerService();
        services.AddHostedService(provider => provider.GetRequiredService<LogBroker>());
        services.AddHostedService<RetentionService>();
        services.AddSingleton<ProducerIds>();
        services.AddSingleton<IEventLog, EventLog>();
        services.AddSingleton<KafkaRequestHandler>();
        services.AddSingleton<KafkaConnectionHandler>();
        services.AddHealthChecks().AddCheck<LogHealthCheck>(ModuleName, tags: [ServiceDefaults.ReadyTag]);
    }

    /// <inheritdoc />
    public void MapEndpoints(IEndpointRouteBuilder endpoints)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        LogEndpoints.Map(endpoints);
        var options = endpoints.ServiceProvider.GetRequiredService<IOptions<LogOptions>>().Value;
        if (options.IsClustered)
        {
            endpoints.MapRaftPeerService(LogCluster.HostKey).RequireLocalPort(options.RaftPort);
        }
    }

    /// <summary>The metadata quorum member of this broker: every voter a broker, its WAL in the log's directory.</summary>
    private static RaftHost CreateRaftHost(IServiceProvider provider)
    {
        var options = provider.GetRequiredService<IOptions<LogOptions>>().Value;
        var broker = provider.GetRequiredService<LogBroker>();
        var voters = options.ParseVoters();
        var hostOptions = new RaftHostOptions
        {
            NodeId = options.BrokerId,
            Name = $"broker-{options.BrokerId.ToString(CultureInfo.InvariantCulture)}",
            InitialMembers = [.. voters.Select(voter => new RaftMember(voter.Id, $"broker-{voter.Id.ToString(CultureInfo.InvariantCulture)}", [$"http://{voter.Host}:{voter.Port.ToString(CultureInfo.InvariantCulture)}"], []))],
            ClientUrls = [$"kafka://{broker.AdvertisedHost}:{options.KafkaPort.ToString(CultureInfo.InvariantCulture)}"],
            TickInterval = TimeSpan.FromMilliseconds(options.RaftTickMs),
        };
        var storage = FileRaftStorage.Open(Path.Combine(broker.Directory, "metadata"), hostOptions.BootstrapVoters(), new WalOptions { Fsync = true });
        return new RaftHost(hostOptions, storage, provider.GetRequiredService<MetadataStateMachine>(), provider.GetRequiredService<ILoggerFactory>(), provider.GetRequiredService<TimeProvider>());
    }

    /// <inheritdoc />
    public IEnumerable<ModuleEndpoint> DescribeEndpoints(IServiceProvider services)
    {
        ArgumentNullException.ThrowIfNull(services);
        var options = services.GetRequiredService<IOptions<LogOptions>>().Value;
        return
        [
            new ModuleEndpoint("Topics over HTTP", "GET /api/log/topics"),
            new ModuleEndpoint("Fsync", options.Fsync == "batch" ? "per batch (acknowledged after fsync)" : $"every {options.FsyncIntervalMs} ms"),
        ];
    }
}
