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
        services.AddHostedService<StorageMaintenance>();
    }

    /// <summary>
    /// Every request on the S3 port is S3's (even <c>GET /</c>, ListBuckets), so the API takes that port's requests at
    /// the front of the pipeline, before routing could hand one to another module's endpoint.
    /// </summary>
    public void UseFrontMiddleware(IApplicationBuilder app)
    {
        ArgumentNullException.ThrowIfNull(app);
        var port = app.ApplicationServices.GetRequiredService<IOptions<StorageOptions>>().Value.S3Port;
        var api = app.ApplicationServices.GetRequiredService<S3Api>();
        app.Use(next => context => context.Connection.LocalPort == port ? api.HandleAsync(context) : next(context));
    }

    /// <inheritdoc />
    public IEnumerable<ModuleEndpoint> DescribeEndpoints(IServiceProvider services) =>
    [
        new ModuleEndpoint("Access keys", "blueprint storage create-key", "aws configure set aws_access_key_id <key>; aws configure set aws_secret_access_key <secret>"),
    ];
}
