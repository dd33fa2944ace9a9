using System.Globalization;
using Blueprint.Coordination.Etcd;
using Blueprint.Coordination.Mvcc;
using Blueprint.Coordination.Watch;
using Blueprint.Core.Raft;
using Blueprint.Hosting;
using Blueprint.Raft.Hosting;
using Blueprint.Raft.Hosting.Wal;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Blueprint.Coordination;

/// <summary>The coordination module: etcd's v3 API (KV, Watch, Lease, Cluster, Maintenance, Lock, Election) on Blueprint's Raft.</summary>
public sealed class CoordinationModule : IBlueprintModule
{
    /// <inheritdoc />
    public string Name => CoordinationNames.Module;

    /// <inheritdoc />
    public string Description => "etcd v3-compatible coordination: MVCC key-value store, watch, lease, lock and election, replicated by Blueprint's Raft and kept in its own WAL.";

    /// <inheritdoc />
    public IReadOnlyList<string> CheatSheetRows { get; } = ["Consensus Algorithm", "Distributed Locking", "Leader Election", "CAP Theorem"];

    /// <summary>The etcd v3 gRPC API (h2c).</summary>
    public static readonly ModuleListener EtcdListener = new()
    {
        Name = "etcd v3 gRPC",
        Title = "etcd v3 API (gRPC)",
        ConfigKey = $"{CoordinationOptions.Section}:{nameof(CoordinationOptions.EtcdPort)}",
        DefaultPort = 2379,
        Protocol = ListenerProtocol.H2c,
        Flag = "--etcd-port",
        Description = "etcd v3 gRPC port of the coordination module",
        Hint = (_, host, port) => $"ETCDCTL_API=3 etcdctl --endpoints={host}:{port.ToString(CultureInfo.InvariantCulture)} put greeting hello",
    };

    /// <summary>The Raft peer transport (h2c), which other members dial.</summary>
    public static readonly ModuleListener RaftListener = new()
    {
        Name = "Raft peers",
        ConfigKey = $"{CoordinationOptions.Section}:{nameof(CoordinationOptions.RaftPort)}",
        DefaultPort = 2380,
        Protocol = ListenerProtocol.H2c,
        Flag = "--raft-port",
        Description = "Raft peer port of the coordination module",
        Hint = (services, _, _) =>
        {
            var options = services.GetRequiredService<IOptions<CoordinationOptions>>().Value;
            return $"member {options.NodeId} of {options.InitialCluster ?? "a one-member cluster"}";
        },
    };

    /// <inheritdoc />
    public IReadOnlyList<ModuleListener> Listeners { get; } = [EtcdListener, RaftListener];

    /// <inheritdoc />
    public IReadOnlyList<ModuleFlag> Flags { get; } =
    [
        new("--node-id", $"{CoordinationOptions.Section}:{nameof(CoordinationOptions.NodeId)}", "This member's name in --initial-cluster (default n1)."),
        new("--initial-cluster", $"{CoordinationOptions.Section}:{nameof(CoordinationOptions.InitialCluster)}", "Every member as name=http://host:raftport, comma separated, as etcd's flag (default: this node alone)."),
        new("--initial-cluster-state", $"{CoordinationOptions.Section}:{nameof(CoordinationOptions.InitialClusterState)}", "new (bootstrap) or existing (join a cluster this member was added to); default new."),
        new("--member-id", $"{CoordinationOptions.Section}:{nameof(CoordinationOptions.JoinMemberId)}", "With --initial-cluster-state existing: the id member add printed for this member (hex)."),
    ];

    /// <inheritdoc />
    public IEnumerable<System.CommandLine.Command> CreateVerbs(ModuleCatalog catalog) => [ClusterCommand.Create(catalog)];

    /// <inheritdoc />
    public void AddServices(IHostApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var services = builder.Services;
        services.AddValidatedOptions<CoordinationOptions>(CoordinationOptions.Section);
        services.TryAddSingleton(TimeProvider.System);
        // The store's own limit must be the same on every replica, whatever each member's options say: it is the
        // largest RequestBytesMax allowed; the configured limit is enforced where requests enter (EtcdServer).
        services.AddSingleton(_ => new MvccStore(new MvccLimits { RequestBytesMax = CoordinationOptions.RequestBytesMaxAllowed }));
        services.AddSingleton<IRaftStateMachine>(provider => new MvccStateMachine(provider.GetRequiredService<MvccStore>()));
        services.AddSingleton<IRaftStorage>(provider => OpenStorage(provider));
        services.TryAddSingleton<RaftMetrics>();
        services.AddSingleton(provider =>
        {
            var host = new RaftHost(
                HostOptions(provider),
                provider.GetRequiredService<IRaftStorage>(),
                provider.GetRequiredService<IRaftStateMachine>(),
                provider.GetRequiredService<ILoggerFactory>(),
                provider.GetRequiredService<TimeProvider>());
            provider.GetRequiredService<RaftMetrics>().Add(Name, host);
            return host;
        });
        services.AddHostedService<RaftHostService>();
        services.AddSingleton<EtcdServer>();
        services.AddSingleton<IResponseHeaderSource>(provider => provider.GetRequiredService<EtcdServer>());
        services.AddSingleton<StreamGate>();
        services.AddSingleton<SelfChannel>();
        services.AddSingleton<LeaseKeeper>();
        services.AddHostedService(provider => provider.GetRequiredService<LeaseKeeper>());
        services.AddSingleton(provider => new WatchOptions());
        services.AddHealthChecks().AddCheck<CoordinationHealthCheck>(CoordinationNames.Module, tags: [ServiceDefaults.ReadyTag]);

        var grpc = services.AddGrpc();
        services.AddOptions<Grpc.AspNetCore.Server.GrpcServiceOptions<KvService>>().Configure<IOptions<CoordinationOptions>>((grpcOptions, options) => grpcOptions.MaxReceiveMessageSize = MessageBytesMax(options.Value));
        services.AddOptions<Grpc.AspNetCore.Server.GrpcServiceOptions<LeaseService>>().Configure<IOptions<CoordinationOptions>>((grpcOptions, options) => grpcOptions.MaxReceiveMessageSize = MessageBytesMax(options.Value));
        services.AddOptions<Grpc.AspNetCore.Server.GrpcServiceOptions<WatchService>>().Configure<IOptions<CoordinationOptions>>((grpcOptions, options) => grpcOptions.MaxReceiveMessageSize = MessageBytesMax(options.Value));
        services.AddOptions<Grpc.AspNetCore.Server.GrpcServiceOptions<LockService>>().Configure<IOptions<CoordinationOptions>>((grpcOptions, options) => grpcOptions.MaxReceiveMessageSize = MessageBytesMax(options.Value));
        services.AddOptions<Grpc.AspNetCore.Server.GrpcServiceOptions<ElectionService>>().Configure<IOptions<CoordinationOptions>>((grpcOptions, options) => grpcOptions.MaxReceiveMessageSize = MessageBytesMax(options.Value));
        services.AddRaftPeerService();
        _ = grpc;
    }

    /// <inheritdoc />
    public void MapEndpoints(IEndpointRouteBuilder endpoints)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        var options = endpoints.ServiceProvider.GetRequiredService<IOptions<CoordinationOptions>>().Value;
        var etcd = options.EtcdPort;
        var raft = options.RaftPort;
        endpoints.MapGrpcService<KvService>().RequireLocalPort(etcd);
        endpoints.MapGrpcService<WatchService>().RequireLocalPort(etcd);
        endpoints.MapGrpcService<LeaseService>().RequireLocalPort(etcd);
        endpoints.MapGrpcService<ClusterService>().RequireLocalPort(etcd);
        endpoints.MapGrpcService<MaintenanceService>().RequireLocalPort(etcd);
        endpoints.MapGrpcService<LockService>().RequireLocalPort(etcd);
        endpoints.MapGrpcService<ElectionService>().RequireLocalPort(etcd);
        endpoints.MapRaftPeerService().RequireLocalPort(raft);
    }

    /// <summary>The largest gRPC message on the etcd port: the largest request and room for its envelope.</summary>
    internal static int MessageBytesMax(CoordinationOptions options) => options.RequestBytesMax + (64 * 1024);

    private static IRaftStorage OpenStorage(IServiceProvider provider)
    {
        var options = provider.GetRequiredService<IOptions<CoordinationOptions>>().Value;
        var node = provider.GetRequiredService<IOptions<NodeOptions>>().Value;
        var directory = provider.GetRequiredService<DataDirectory>().For(Path.Combine(CoordinationNames.Module, options.NodeId));
        var members = options.ParseInitialCluster(node.ClientHost);
        IReadOnlyList<int> voters = options.InitialClusterState == "existing" ? [] : [.. members.Select(member => member.Id)];
        return FileRaftStorage.Open(directory, voters, new WalOptions { Fsync = options.Fsync });
    }

    private static RaftHostOptions HostOptions(IServiceProvider provider)
    {
        var options = provider.GetRequiredService<IOptions<CoordinationOptions>>().Value;
        var node = provider.GetRequiredService<IOptions<NodeOptions>>().Value;
        var host = node.ClientHost;
        var members = options.ParseInitialCluster(host);
        var self = members.Single(member => member.Name == options.NodeId);
        return new RaftHostOptions
        {
            // A joining member takes the id the cluster gave it (printed by member add), never its place in the list.
            NodeId = options.InitialClusterState == "existing" ? options.MemberId : self.Id,
            Name = self.Name,
            InitialMembers = [.. members.Select(member => new RaftMember(member.Id, member.Name, [member.PeerUrl], []))],
            ClientUrls = [options.AdvertiseClientUrl ?? $"http://{host}:{options.EtcdPort.ToString(CultureInfo.InvariantCulture)}"],
            Join = options.InitialClusterState == "existing",
            PeerDialUrls = options.ParsePeerDialUrls()
                .Where(pair => members.Any(member => member.Name == pair.Key))
                .ToDictionary(pair => members.Single(member => member.Name == pair.Key).Id, pair => pair.Value),
            TickInterval = TimeSpan.FromMilliseconds(options.TickMs),
            ElectionTimeoutTicks = options.ElectionTicks,
            SnapshotEveryEntries = options.SnapshotEveryEntries,
        };
    }

    /// <summary>Starts the Raft host with the node and stops it (persisting first) when the node stops.</summary>
    private sealed class RaftHostService(RaftHost host) : IHostedService
    {
        public Task StartAsync(CancellationToken cancellationToken) => host.StartAsync(cancellationToken);

        public async Task StopAsync(CancellationToken cancellationToken) => await host.DisposeAsync().ConfigureAwait(false);
    }
}
