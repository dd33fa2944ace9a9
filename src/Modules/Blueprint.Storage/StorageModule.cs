using System.Globalization;
using Blueprint.Core.Clocks;
using Blueprint.Hosting;
using Blueprint.Storage.Cluster;
using Blueprint.Storage.Local;
using Blueprint.Storage.S3;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Blueprint.Storage;

/// <summary>
/// The storage module: object storage that speaks S3 on its own port — buckets, objects with ranges and user metadata,
/// multipart uploads, SigV4 (header and presigned) — kept on disk with per-block checksums verified on every read.
/// </summary>
public sealed class StorageModule : IBlueprintModule
{
    /// <summary>The module's name.</summary>
    public const string ModuleName = "storage";

    /// <inheritdoc />
    public string Name => ModuleName;

    /// <inheritdoc />
    public string Description => "Object storage that speaks S3: buckets, objects, ranges, multipart uploads and SigV4, on disk with per-block checksums.";

    /// <inheritdoc />
    public IReadOnlyList<string> CheatSheetRows { get; } = ["Distributed cloud storage", "NFS / FTP vs S3", "Disaster recovery (S3 backups)"];

    /// <summary>The S3 API.</summary>
    public static readonly ModuleListener S3Listener = new()
    {
        Name = "S3",
        Title = "S3 API",
        ConfigKey = $"{StorageOptions.Section}:{nameof(StorageOptions.S3Port)}",
        DefaultPort = 9000,
        Protocol = ListenerProtocol.Http1,
        Flag = "--s3-port",
        Description = "S3 API port of the storage module",
        Hint = (_, host, port) => $"aws --endpoint-url http://{host}:{port.ToString(CultureInfo.InvariantCulture)} s3 ls (after blueprint storage create-key)",
    };

    /// <inheritdoc />
    public IReadOnlyList<ModuleListener> Listeners { get; } = [S3Listener];

    /// <inheritdoc />
    public IReadOnlyList<ModuleFlag> Flags { get; } =
    [
        new("--storage-node-id", Key(nameof(StorageOptions.NodeId)), "This node's id among the storage nodes (default n1)."),
        new("--storage-peers", Key(nameof(StorageOptions.Peers)), "The other storage nodes: id=http://host:s3port, separated by commas."),
        new("--storage-cluster-secret", Key(nameof(StorageOptions.ClusterSecret)), "The secret storage peers present to each other (the same on every node; required with --storage-peers)."),
        new("--storage-replicas", Key(nameof(StorageOptions.Replicas)), "N: copies of each object (default 3, at most the node count)."),
        new("--storage-read-quorum", Key(nameof(StorageOptions.ReadQuorum)), "R: replicas a read waits for (default 2)."),
        new("--storage-write-quorum", Key(nameof(StorageOptions.WriteQuorum)), "W: replicas a write waits for (default 2)."),
        new("--storage-root-access-key", Key(nameof(StorageOptions.RootAccessKey)), "An S3 access key id accepted besides created keys (with --storage-root-secret-key)."),
        new("--storage-root-secret-key", Key(nameof(StorageOptions.RootSecretKey)), "The secret of --storage-root-access-key."),
    ];

    /// <summary>
    /// Every member runs a storage node with its own S3 port and the others as peers (ids n1, n2, …); the cluster secret
    /// is made once per <c>cluster up</c> and given to every member.
    /// </summary>
    public ClusterMemberPlan? PlanClusterMember(ClusterMember member)
    {
        ArgumentNullException.ThrowIfNull(member);
        static string Text(int value) => value.ToString(CultureInfo.InvariantCulture);
        var port = member.Port(S3Listener, member.Index);
        var peers = string.Join(',', Enumerable.Range(1, member.Count).Where(i => i != member.Index)
            .Select(i => $"n{Text(i)}=http://{member.Host}:{Text(member.Port(S3Listener, i))}"));
        List<string> arguments = ["--s3-port", Text(port), "--storage-node-id", $"n{Text(member.Index)}"];
        if (member.Count > 1)
        {
            arguments.AddRange(["--storage-peers", peers, "--storage-cluster-secret", ClusterUpSecret.Value]);
        }

        return new ClusterMemberPlan(arguments, $"s3 http://{member.Host}:{Text(port)}", port);
    }

    private static readonly Lazy<string> ClusterUpSecret = new(() => Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(24)));

    private static string Key(string option) => $"{StorageOptions.Section}:{option}";

    /// <inheritdoc />
    public IEnumerable<System.CommandLine.Command> CreateVerbs(ModuleCatalog catalog) => [StorageCommand.Create(catalog)];

    /// <inheritdoc />
    public void AddServices(IHostApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var services = builder.Services;
        services.AddValidatedOptions<StorageOptions>(StorageOptions.Section);
        services.TryAddSingleton(TimeProvider.System);
        services.AddSingleton(provider => new LocalStore(
            provider.GetRequiredService<DataDirectory>().For(ModuleName),
            provider.GetRequiredService<TimeProvider>(),
            provider.GetRequiredService<ILoggerFactory>().CreateLogger("Blueprint.Storage")));
        services.AddSingleton<StorageKeys>();
        services.AddSingleton(provider => new HybridLogicalClock(provider.GetRequiredService<TimeProvider>()));
        services.AddSingleton<StorageTopology>();
        services.AddSingleton<PeerClient>();
        services.AddSingleton<ReplicaPusher>();
        services.AddSingleton<RepairQueue>();
        services.AddHostedService(provider => provider.GetRequiredService<RepairQueue>());
        services.AddSingleton<AntiEntropy>();
        services.AddHostedService(provider => provider.GetRequiredService<AntiEntropy>());
        services.AddSingleton<ObjectService>();
        services.AddSingleton<ReplicaApi>();
        services.AddSingleton<S3Api>();
        services.AddSingleton<StorageMetrics>();
        services.AddHostedService<StorageMaintenance>();
    }

    /// <summary>
    /// Every request on the S3 port is S3's (even <c>GET /</c>, ListBuckets), so the API takes that port's requests at
    /// the front of the pipeline, before routing could hand one to another module's endpoint.
    /// </summary>
    public void UseFrontMiddleware(IApplicationBuilder app)
    {
        ArgumentNullException.ThrowIfNull(app);
        // Resolved at the first request, not while the node is composed: invalid options are reported by the start's validation.
        var services = app.ApplicationServices;
        var api = new Lazy<(int Port, S3Api Api)>(() => (services.GetRequiredService<IOptions<StorageOptions>>().Value.S3Port, services.GetRequiredService<S3Api>()));
        app.Use(next => context => context.Connection.LocalPort == api.Value.Port ? api.Value.Api.HandleAsync(context) : next(context));
    }

    /// <inheritdoc />
    public IEnumerable<ModuleEndpoint> DescribeEndpoints(IServiceProvider services) =>
    [
        new ModuleEndpoint("Access keys", "blueprint storage create-key", "aws configure set aws_access_key_id <key>; aws configure set aws_secret_access_key <secret>"),
    ];
}
