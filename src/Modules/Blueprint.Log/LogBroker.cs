using Blueprint.Hosting;
using Blueprint.Log.Broker;
using Blueprint.Log.Groups;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Blueprint.Log;

/// <summary>
/// The broker's state for the node's lifetime: the topics and the group coordinator, opened (and their logs recovered)
/// before the Kafka port accepts connections, and closed (flushed) after it stops.
/// </summary>
public sealed partial class LogBroker(
    IOptions<LogOptions> options, IOptions<NodeOptions> node, IServiceProvider services, TimeProvider time, ILoggerFactory loggers) : IHostedService, IAsyncDisposable
{
    private readonly ILogger logger = loggers.CreateLogger<LogBroker>();
    private TopicRegistry? topics;
    private GroupCoordinator? groups;

    // Nothing here touches options or the data directory before the start: the node validates every module's
    // options at once and reports all errors together, which a constructor throwing first would pre-empt.

    /// <summary>The broker's own directory under the node's data directory.</summary>
    public string Directory => services.GetRequiredService<DataDirectory>().For("log");

    /// <summary>The options.</summary>
    public LogOptions Options => options.Value;

    /// <summary>The host clients are told to connect to.</summary>
    public string AdvertisedHost => Options.AdvertisedHost ?? node.Value.ClientHost;

    /// <summary>The topics (once started).</summary>
    public TopicRegistry Topics => topics ?? throw new InvalidOperationException("the log broker has not started");

    /// <summary>The consumer groups (once started).</summary>
    public GroupCoordinator Groups => groups ?? throw new InvalidOperationException("the log broker has not started");

    /// <summary>The cluster id reported in Metadata (stable for this data directory).</summary>
    public string ClusterId { get; private set; } = "";

    /// <summary>Whether the broker has opened its state.</summary>
    public bool IsStarted => topics is not null && groups is not null;

    /// <inheritdoc />
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var root = Directory;
        ClusterId = await ReadClusterIdAsync(root, cancellationToken).ConfigureAwait(false);
        topics = await TopicRegistry.OpenAsync(Path.Combine(root, "topics"), Options, time, loggers.CreateLogger<TopicRegistry>()).ConfigureAwait(false);
        groups = GroupCoordinator.Open(
            Path.Combine(root, "groups"),
            new GroupCoordinatorOptions
            {
                InitialRebalanceDelay = TimeSpan.FromMilliseconds(Options.GroupInitialRebalanceDelayMs),
                MinSessionTimeout = TimeSpan.FromMilliseconds(Options.GroupMinSessionTimeoutMs),
                MaxSessionTimeout = TimeSpan.FromMilliseconds(Options.GroupMaxSessionTimeoutMs),
            },
            time,
            loggers.CreateLogger<GroupCoordinator>());
        LogOpened(logger, topics.All.Count, root);
    }

    /// <inheritdoc />
    public async Task StopAsync(CancellationToken cancellationToken) => await DisposeAsync().ConfigureAwait(false);

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        if (groups is { } openGroups)
        {
            groups = null;
            await openGroups.DisposeAsync().ConfigureAwait(false);
        }

        if (topics is { } openTopics)
        {
            topics = null;
            await openTopics.DisposeAsync().ConfigureAwait(false);
        }
    }

    private static async Task<string> ReadClusterIdAsync(string root, CancellationToken cancellationToken)
    {
        var path = Path.Combine(root, "cluster.id");
        if (File.Exists(path))
        {
            return (await File.ReadAllTextAsync(path, cancellationToken).ConfigureAwait(false)).Trim();
        }

        // Kafka's cluster ids are 16 random bytes in URL-safe base64 without padding.
        var id = Convert.ToBase64String(Guid.NewGuid().ToByteArray()).TrimEnd('=').Replace('+', '-').Replace('/', '_');
        await File.WriteAllTextAsync(path, id, cancellationToken).ConfigureAwait(false);
        return id;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "log opened: {Topics} topics in {Directory}")]
    private static partial void LogOpened(ILogger logger, int topics, string directory);
}
