using Blueprint.Hosting;
using Blueprint.Log.Broker;
using Blueprint.Log.Cluster;
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
    private LogCluster? cluster;
    private int metricsRegistered;

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

    /// <summary>The cluster id reported in Metadata (stable for this data directory; in a cluster, the metadata quorum's).</summary>
    public string ClusterId { get; private set; } = "";

    /// <summary>This broker's part in a replicated cluster, or null when it runs alone.</summary>
    public LogCluster? Cluster => cluster;

    /// <summary>Whether the broker has opened its state.</summary>
    public bool IsStarted => topics is not null && groups is not null;

    /// <summary>
    /// Creates a topic for the HTTP API and in-process users: on this broker alone, or in a cluster through the metadata
    /// quorum (replication factor -1: min(3, live brokers)), answering once this broker has opened it.
    /// </summary>
    public async Task<TopicCreation> CreateTopicAsync(string name, int partitions, short replicationFactor, IReadOnlyDictionary<string, string> configs, CancellationToken cancellationToken)
    {
        if (cluster is not { } member)
        {
            return await Topics.CreateAsync(name, partitions, replicationFactor, configs, validateOnly: false, cancellationToken).ConfigureAwait(false);
        }

        if (Topics.Refusal(name, ref partitions, replicationFactor, configs, MetadataStateMachine.MaxReplicationFactor) is { } refused)
        {
            return refused;
        }

        var result = await member.ProposeAsync(new CreateTopic(name, Guid.NewGuid(), partitions, replicationFactor, new Dictionary<string, string>(configs, StringComparer.Ordinal)), cancellationToken).ConfigureAwait(false);
        if (result.Error is not (Kafka.ErrorCode.None or Kafka.ErrorCode.TopicAlreadyExists))
        {
            return new TopicCreation(result.Error, result.Message, null);
        }

        var opened = await member.WaitOpenedAsync(name, cancellationToken).ConfigureAwait(false);
        return opened is null
            ? new TopicCreation(Kafka.ErrorCode.RequestTimedOut, $"topic '{name}' was created but this broker has not opened it yet", null)
            : new TopicCreation(result.Error, result.Message, opened);
    }

    /// <summary>Deletes a topic (through the metadata quorum in a cluster); false when there is none of that name.</summary>
    public async Task<bool> DeleteTopicAsync(string name, CancellationToken cancellationToken)
    {
        if (cluster is not { } member)
        {
            var deleted = await Topics.DeleteAsync(name, cancellationToken).ConfigureAwait(false);
            if (deleted)
            {
                Groups.DeleteTopicOffsets(name);
            }

            return deleted;
        }

        var result = await member.ProposeAsync(new DeleteTopic(name), cancellationToken).ConfigureAwait(false);
        return result.Error == Kafka.ErrorCode.None;
    }

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
        if (Interlocked.Exchange(ref metricsRegistered, 1) == 0)
        {
            LogMetrics.Register(services.GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>(), this);
        }

        if (Options.IsClustered)
        {
            var member = services.GetRequiredService<LogCluster>();
            await member.StartAsync(this, cancellationToken).ConfigureAwait(false);
            cluster = member;
            ClusterId = services.GetRequiredKeyedService<Raft.Hosting.RaftHost>(LogCluster.HostKey).ClusterId.ToString("x16", System.Globalization.CultureInfo.InvariantCulture);
        }
    }

    /// <inheritdoc />
    public async Task StopAsync(CancellationToken cancellationToken) => await DisposeAsync().ConfigureAwait(false);

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        if (cluster is { } member)
        {
            cluster = null;
            await member.DisposeAsync().ConfigureAwait(false);
        }

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
