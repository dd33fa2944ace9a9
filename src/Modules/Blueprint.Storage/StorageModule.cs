using System.Globalization;
using Blueprint.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;

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
    public void AddServices(IHostApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.AddValidatedOptions<StorageOptions>(StorageOptions.Section);
        builder.Services.TryAddSingleton(TimeProvider.System);
    }

    /// <inheritdoc />
    public void MapEndpoints(IEndpointRouteBuilder endpoints)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
    }
}
