using Blueprint.Hosting;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace Blueprint.Kv.Cluster;

/// <summary>
/// Runs <see cref="ClusterPlanner"/> on this node's servers: every <c>Kv:ClusterCheckIntervalMs</c> it reads
/// <c>CLUSTER NODES</c> from the members, this node's primary and replica, and the primary that replica follows, then
/// applies the planner's actions. Each command has the node's KV timeout; a server that does not answer is simply absent
/// from the look, and one not reached for <c>Kv:ClusterNodeTimeoutMs</c> is a failover candidate.
/// </summary>
internal sealed partial class KvClusterAgent(
    IOptions<KvOptions> kvOptions,
    IOptions<NodeOptions> nodeOptions,
    TimeProvider timeProvider,
    ILogger<KvClusterAgent> logger) : BackgroundService
{
    private static readonly TimeSpan RepeatAfter = TimeSpan.FromSeconds(2);
    private readonly Dictionary<ClusterEndpoint, long> _lastReached = [];
    private readonly Dictionary<string, long> _lastApplied = [];
    private ConnectionMultiplexer? _admin;

    /// <summary>How long one server may take to answer a look: well within the node timeout, so a dead server shows as one.</summary>
    private TimeSpan LookTimeout => TimeSpan.FromMilliseconds(Math.Min(kvOptions.Value.TimeoutMs, kvOptions.Value.ClusterNodeTimeoutMs / 2));

    /// <summary>This node's primary server.</summary>
    public ClusterEndpoint Primary => new(nodeOptions.Value.ClientHost, kvOptions.Value.Port);

    /// <summary>This node's replica server, if any.</summary>
    public ClusterEndpoint? Replica => kvOptions.Value.ReplicaPort == 0 ? null : new ClusterEndpoint(nodeOptions.Value.ClientHost, kvOptions.Value.ReplicaPort);

    /// <summary>The members the cluster was formed with; this node alone when none are configured.</summary>
    public IReadOnlyList<ClusterEndpoint> Members =>
        ClusterEndpoint.TryParseList(kvOptions.Value.ClusterMembers ?? "", out var members, out _) ? members : [Primary];

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var options = kvOptions.Value;
        var known = Members.Append(Primary).Concat(Replica is { } replica ? [replica] : []).Distinct().ToList();
        var configuration = new ConfigurationOptions
        {
            AllowAdmin = true,
            AbortOnConnectFail = false,
            ConnectTimeout = options.TimeoutMs,
            SyncTimeout = options.TimeoutMs,
            AsyncTimeout = options.TimeoutMs,
            ConnectRetry = 1,
            ClientName = "blueprint-cluster-agent",
        };
        foreach (var endpoint in known)
        {
            configuration.EndPoints.Add(endpoint.Host, endpoint.Port);
        }

        try
        {
            _admin = await ConnectionMultiplexer.ConnectAsync(configuration).ConfigureAwait(false);
            using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(options.ClusterCheckIntervalMs), timeProvider);
            var started = timeProvider.GetTimestamp();
            foreach (var endpoint in known)
            {
                _lastReached[endpoint] = started;
            }

            do
            {
                await StepAsync(_admin, stoppingToken).ConfigureAwait(false);
            }
            while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false));
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        finally
        {
            if (_admin is not null)
            {
                await _admin.CloseAsync().ConfigureAwait(false);
                _admin.Dispose();
            }
        }
    }

    /// <summary>One look and the actions it calls for.</summary>
    private async Task StepAsync(ConnectionMultiplexer admin, CancellationToken cancellationToken)
    {
        var members = Members;
        var views = new Dictionary<ClusterEndpoint, IReadOnlyList<KvClusterNode>>();
        await Task.WhenAll(members.Append(Primary).Concat(Replica is { } replica ? [replica] : []).Distinct()
            .Select(endpoint => LookAsync(admin, endpoint, views, cancellationToken))).ConfigureAwait(false);

        // The primary this node's replica follows may be a server outside the members (a replica that took over).
        if (Replica is { } own && views.TryGetValue(own, out var replicaView)
            && replicaView.FirstOrDefault(node => node.Myself)?.PrimaryId is { } followed
            && replicaView.FirstOrDefault(node => node.Id == followed) is { } primary
            && !views.ContainsKey(primary.Endpoint))
        {
            _lastReached.TryAdd(primary.Endpoint, timeProvider.GetTimestamp());
            await LookAsync(admin, primary.Endpoint, views, cancellationToken).ConfigureAwait(false);
        }

        var timeout = TimeSpan.FromMilliseconds(kvOptions.Value.ClusterNodeTimeoutMs);
        var unreachable = _lastReached
            .Where(entry => !views.ContainsKey(entry.Key) && timeProvider.GetElapsedTime(entry.Value) >= timeout)
            .Select(entry => entry.Key)
            .ToHashSet();
        foreach (var action in ClusterPlanner.Decide(new ClusterObservation(members, Primary, Replica, views, unreachable)))
        {
            await ApplyAsync(admin, action, cancellationToken).ConfigureAwait(false);
        }
    }

    private async Task LookAsync(ConnectionMultiplexer admin, ClusterEndpoint endpoint, Dictionary<ClusterEndpoint, IReadOnlyList<KvClusterNode>> views, CancellationToken cancellationToken)
    {
        try
        {
            var server = admin.GetServer(endpoint.Host, endpoint.Port);
            var reply = await server.ExecuteAsync("CLUSTER", "NODES").WaitAsync(LookTimeout, timeProvider, cancellationToken).ConfigureAwait(false);
            lock (views)
            {
                views[endpoint] = KvClusterNode.ParseNodes(reply.ToString());
                _lastReached[endpoint] = timeProvider.GetTimestamp();
            }
        }
        catch (Exception e) when (e is RedisException or TimeoutException or ArgumentException or InvalidOperationException)
        {
            // A server that does not answer within the look's timeout is absent from this look.
            LogUnanswered(logger, endpoint, e.Message);
        }
    }

    private async Task ApplyAsync(ConnectionMultiplexer admin, ClusterAction action, CancellationToken cancellationToken)
    {
        // Gossip takes a moment to show an action's effect: the same action is not repeated before then.
        var command = string.Join(' ', action.Arguments);
        var key = $"{action.On} {command}";
        if (_lastApplied.TryGetValue(key, out var last) && timeProvider.GetElapsedTime(last) < RepeatAfter)
        {
            return;
        }

        _lastApplied[key] = timeProvider.GetTimestamp();
        try
        {
            if (action is TakeoverAction takeover)
            {
                LogTakeover(logger, action.On, takeover.FailedPrimaryId);
            }

            var server = admin.GetServer(action.On.Host, action.On.Port);
            await server.ExecuteAsync("CLUSTER", action.Arguments).WaitAsync(cancellationToken).ConfigureAwait(false);
            LogApplied(logger, action.On, command);
        }
        catch (Exception e) when (e is RedisException or TimeoutException or ArgumentException or InvalidOperationException)
        {
            LogActionFailed(logger, action.On, command, e.Message);
        }
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "KV cluster: {Endpoint} did not answer CLUSTER NODES: {Reason}")]
    private static partial void LogUnanswered(ILogger logger, ClusterEndpoint endpoint, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "KV cluster: {Endpoint} ran CLUSTER {Command}")]
    private static partial void LogApplied(ILogger logger, ClusterEndpoint endpoint, string command);

    [LoggerMessage(Level = LogLevel.Warning, Message = "KV cluster: {Endpoint} takes over the slots of unreachable primary {PrimaryId}")]
    private static partial void LogTakeover(ILogger logger, ClusterEndpoint endpoint, string primaryId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "KV cluster: {Endpoint} could not run CLUSTER {Command}: {Reason}")]
    private static partial void LogActionFailed(ILogger logger, ClusterEndpoint endpoint, string command, string reason);
}
