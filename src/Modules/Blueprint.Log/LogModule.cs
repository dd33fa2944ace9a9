using System.Globalization;
using Blueprint.Hosting;
using Blueprint.Log.Broker;
using Blueprint.Log.Http;
using Blueprint.Log.Kafka;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
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

    /// <inheritdoc />
    public IReadOnlyList<ModuleListener> Listeners { get; } = [KafkaListener];

    /// <inheritdoc />
    public IReadOnlyList<ModuleFlag> Flags { get; } =
    [
        new("--log-fsync", $"{LogOptions.Section}:{nameof(LogOptions.Fsync)}", "batch (default: a produce is acknowledged after an fsync covering it) or interval."),
    ];

    /// <inheritdoc />
    public void AddServices(IHostApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var services = builder.Services;
        services.AddValidatedOptions<LogOptions>(LogOptions.Section);
        services.TryAddSingleton(TimeProvider.System);
        services.AddSingleton<LogBroker>();
        services.AddHostedService(provider => provider.GetRequiredService<LogBroker>());
        services.AddHostedService<RetentionService>();
        services.AddSingleton<ProducerIds>();
        services.AddSingleton<IEventLog, EventLog>();
        services.AddSingleton<KafkaRequestHandler>();
        services.AddSingleton<KafkaConnectionHandler>();
        services.AddHealthChecks().AddCheck<LogHealthCheck>(ModuleName, tags: [ServiceDefaults.ReadyTag]);
    }

    /// <inheritdoc />
    public void MapEndpoints(IEndpointRouteBuilder endpoints) => LogEndpoints.Map(endpoints);

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
