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
using Microsoft.AspNetCore.Server.Kestrel.Core;
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
        services.AddSingleton(provider => new RaftHost(
            HostOptions(provider),
            provider.GetRequiredService<IRaftStorage>(),
            provider.GetRequiredService<IRaftStateMachine>(),
            provider.GetRequiredService<ILoggerFactory>(),
            provider.GetRequiredService<TimeProvider>()));
        services.AddHostedService<RaftHostService>();
        services.AddSingleton<EtcdServer>();
        services.AddSingleton<IResponseHeaderSource>(provider => provider.GetRequiredService<EtcdServer>());
        services.AddSingleton<StreamGate>();
        services.AddSingleton<SelfChannel>();
        services.AddSingleton<LeaseKeeper>();
        services.AddHostedService(provider => provider.GetRequiredService<LeaseKeeper>());
        services.AddSingleton(provider => new WatchOptions());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<Microsoft.AspNetCore.Routing.MatcherPolicy, LocalPortMatcherPolicy>());
        services.AddHealthChecks().AddCheck<CoordinationHealthCheck>(CoordinationNames.Module, tags: [ServiceDefaults.ReadyTag]);

        var grpc = services.AddGrpc();
        services.AddOptions<Grpc.AspNetCore.Server.GrpcServiceOptions<KvService>>().Configure<IOptions<CoordinationOptions>>((grpcOptions, options) => grpcOptions.MaxReceiveMessageSize = MessageBytesMax(options.Value));
        services.AddOptions<Grpc.AspNetCore.Server.GrpcServiceOptions<LeaseService>>().Configure<IOptions<CoordinationOptions>>((grpcOptions, options) => grpcOptions.MaxReceiveMessageSize = MessageBytesMax(options.Value));
        services.AddOptions<Grpc.AspNetCore.Server.GrpcServiceOptions<WatchService>>().Configure<IOptions<CoordinationOptions>>((grpcOptions, options) => grpcOptions.MaxReceiveMessageSize = MessageBytesMax(options.Value));
        services.AddOptions<Grpc.AspNetCore.Server.GrpcServiceOptions<LockService>>().Configure<IOptions<CoordinationOptions>>((grpcOptions, options) => grpcOptions.MaxReceiveMessageSize = MessageBytesMax(options.Value));
        services.AddOptions<Grpc.AspNetCore.Server.GrpcServiceOptions<ElectionService>>().Configure<IOptions<CoordinationOptions>>((grpcOptions, options) => grpcOptions.MaxReceiveMessageSize = MessageBytesMax(options.Value));
        services.AddRaftPeerService();
        _ = grpc;

        services.AddOptions<KestrelServerOptions>().Configure<IOptions<NodeOptions>, IOptions<CoordinationOptions>>((kestrel, node, options) =>
        {
            try
            {
                kestrel.Listen(node.Value.BindAddress, options.Value.EtcdPort, listen => listen.Protocols = HttpProtocols.Http2);
                kestrel.Listen(node.Value.BindAddress, options.Value.RaftPort, listen => listen.Protocols = HttpProtocols.Http2);
            }
            catch (OptionsValidationException)
            {
                // Invalid options: the node's preflight reports them, all at once, before anything listens.
            }
        });
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

    /// <inheritdoc />
    public IEnumerable<ModuleEndpoint> DescribeEndpoints(IServiceProvider services)
    {
        ArgumentNullException.ThrowIfNull(services);
        var options = services.GetRequiredService<IOptions<CoordinationOptions>>().Value;
        var host = ClientHost(services.GetRequiredService<IOptions<NodeOptions>>().Value.Bind);
        var port = options.EtcdPort.ToString(CultureInfo.InvariantCulture);
        yield return new ModuleEndpoint("etcd v3 API (gRPC)", $"http://{host}:{port}", $"ETCDCTL_API=3 etcdctl --endpoints={host}:{port} put greeting hello");
        yield return new ModuleEndpoint("Raft peers", $"http://{host}:{options.RaftPort.ToString(CultureInfo.InvariantCulture)}", $"member {options.NodeId} of {options.InitialCluster ?? "a one-member cluster"}");
    }

    /// <inheritdoc />
    public IEnumerable<ModulePort> DescribePorts(IServiceProvider services)
    {
        ArgumentNullException.ThrowIfNull(services);
        var options = services.GetRequiredService<IOptions<CoordinationOptions>>().Value;
        yield return new ModulePort("etcd v3 gRPC", options.EtcdPort, "--etcd-port");
        yield return new ModulePort("Raft peers", options.RaftPort, "--raft-port");
    }

    /// <summary>The largest gRPC message on the etcd port: the largest request and room for its envelope.</summary>
    internal static int MessageBytesMax(CoordinationOptions options) => options.RequestBytesMax + (64 * 1024);

    internal static string ClientHost(string bind) => bind switch
    {
        "0.0.0.0" => "127.0.0.1",
        "::" => "[::1]",
        _ when bind.Contains(':', StringComparison.Ordinal) => $"[{bind}]",
        _ => bind,
    };

    private static IRaftStorage OpenStorage(IServiceProvider provider)
    {
        var options = provider.GetRequiredService<IOptions<CoordinationOptions>>().Value;
        var node = provider.GetRequiredService<IOptions<NodeOptions>>().Value;
        var directory = provider.GetRequiredService<DataDirectory>().For(Path.Combine(CoordinationNames.Module, options.NodeId));
        var members = options.ParseInitialCluster(ClientHost(node.Bind));
        IReadOnlyList<int> voters = options.InitialClusterState == "existing" ? [] : [.. members.Select(member => member.Id)];
        return FileRaftStorage.Open(directory, voters, new WalOptions { Fsync = options.Fsync });
    }

    private static RaftHostOptions HostOptions(IServiceProvider provider)
    {
        var options = provider.GetRequiredService<IOptions<CoordinationOptions>>().Value;
        var node = provider.GetRequiredService<IOptions<NodeOptions>>().Value;
        var host = ClientHost(node.Bind);
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
