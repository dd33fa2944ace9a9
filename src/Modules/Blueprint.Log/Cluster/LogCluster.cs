using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Collections.Immutable;
using Blueprint.Hosting;
using Blueprint.Log.Broker;
using Blueprint.Log.Kafka;
using Blueprint.Raft.Hosting;
using Microsoft.Extensions.Logging;

namespace Blueprint.Log.Cluster;

/// <summary>
/// This broker's part in a replicated log cluster, as Kafka's KRaft combined mode: every broker is a voter of the
/// metadata quorum (a <see cref="RaftHost"/> driving <see cref="MetadataStateMachine"/>), registers itself, heartbeats
/// to the controller (the quorum's leader), and makes its local partitions follow the metadata — leading some, fetching
/// the others from their leaders. The controller fences a broker whose heartbeats stop, which moves its leaderships to
/// other members of each ISR; a partition's leader drops followers that fall behind from the ISR and takes them back once
/// they catch up.
/// </summary>
public sealed partial class LogCluster : IAsyncDisposable
{
    /// <summary>The service key of the metadata quorum's <see cref="RaftHost"/>.</summary>
    public const string HostKey = "log";

    private const string HeartbeatKind = "log-heartbeat";
    private static readonly TimeSpan ProposeTimeout = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan ControllerPeriod = TimeSpan.FromMilliseconds(200);

    /// <summary>How long a caller waits for its committed change to be applied (and opened) on this broker.</summary>
    private static readonly TimeSpan ApplyWait = TimeSpan.FromSeconds(5);

    /// <summary>How long one catch-up read (ReadIndex) may take before the start retries it.</summary>
    private static readonly TimeSpan CatchUpAttempt = TimeSpan.FromSeconds(5);

    /// <summary>How often the local partitions are checked against the metadata even when nothing was applied.</summary>
    private static readonly TimeSpan ReconcilePeriod = TimeSpan.FromSeconds(1);

    /// <summary>The pause before a retry (a proposal without a leader, a failed reconcile).</summary>
    private static readonly TimeSpan RetryBackoff = TimeSpan.FromMilliseconds(100);

    private readonly RaftHost host;
    private readonly MetadataStateMachine machine;
    private readonly LogOptions options;
    private readonly TimeProvider time;
    private readonly ILoggerFactory loggers;
    private readonly ILogger logger;
    private readonly ConcurrentDictionary<int, DateTimeOffset> lastHeartbeat = new();
    private readonly ConcurrentDictionary<(string Topic, int Partition), bool> isrChanges = new();
    private readonly Dictionary<(string Topic, int Partition), ReplicaFetcher> fetchers = [];
    private readonly CancellationTokenSource stopping = new();
    private readonly ChangeSignal reconciled = new();
    private readonly List<Task> loops = [];
    private readonly IReadOnlyDictionary<int, (string Host, int Port)> dialOverrides;
    private readonly Microsoft.Extensions.Hosting.IHostApplicationLifetime? lifetime;
    private LogBroker? broker;
    private volatile bool caughtUp;
    private volatile bool leaving;
    private Task? handover;

    /// <summary>Creates the cluster part of a broker; nothing runs before <see cref="StartAsync"/>.</summary>
    public LogCluster(RaftHost host, MetadataStateMachine machine, LogOptions options, TimeProvider time, ILoggerFactory loggers, Microsoft.Extensions.Hosting.IHostApplicationLifetime? lifetime = null)
    {
        this.lifetime = lifetime;
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(loggers);
        this.host = host;
        this.machine = machine;
        this.options = options;
        this.time = time;
        this.loggers = loggers;
        logger = loggers.CreateLogger<LogCluster>();
        dialOverrides = options.ParseReplicaDialOverrides();
    }

    /// <summary>This broker's id.</summary>
    public int BrokerId => options.BrokerId;

    /// <summary>The latest metadata this broker applied.</summary>
    public MetadataImage Image => machine.Image;

    /// <summary>The controller's broker id (the metadata quorum's leader), or -1 while there is none.</summary>
    public int ControllerId => host.LeaderId > 0 ? host.LeaderId : -1;

    /// <summary>Whether this broker has caught up with the metadata since it started and made its partitions follow it.</summary>
    public bool IsCaughtUp => caughtUp;

    /// <summary>Registers the heartbeat handler, starts the quorum member and the broker's loops.</summary>
    public async Task StartAsync(LogBroker owner, CancellationToken cancellationToken)
    {
        broker = owner;
        host.RegisterLeaderHandler(HeartbeatKind, OnHeartbeatAsync);
        await host.StartAsync(cancellationToken).ConfigureAwait(false);
        var token = stopping.Token;
        loops.Add(Task.Run(() => HeartbeatLoopAsync(token), CancellationToken.None));
        loops.Add(Task.Run(() => ControllerLoopAsync(token), CancellationToken.None));
        loops.Add(Task.Run(() => ReconcileLoopAsync(token), CancellationToken.None));
        loops.Add(Task.Run(() => IsrLoopAsync(token), CancellationToken.None));
        lifetime?.ApplicationStopping.Register(() => handover ??= Task.Run(HandOverAsync));
    }

    /// <summary>
    /// Proposes a metadata change and returns its result; retries while the quorum has no leader, for up to ten seconds,
    /// then answers <see cref="ErrorCode.RequestTimedOut"/>.
    /// </summary>
    public async Task<MetadataResult> ProposeAsync(MetadataCommand command, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(command);
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, stopping.Token);
        deadline.CancelAfter(ProposeTimeout);
        var bytes = command.Encode();
        while (true)
        {
            Exception failure;
            try
            {
                return MetadataResult.Decode(await host.ProposeAsync(bytes, deadline.Token).ConfigureAwait(false));
            }
            catch (Exception e) when (e is RaftUnavailableException or RaftProposalDroppedException or RaftOverloadedException or RaftOutcomeUnknownException or OperationCanceledException)
            {
                cancellationToken.ThrowIfCancellationRequested();
                failure = e;
            }

            if (deadline.IsCancellationRequested || failure is RaftOutcomeUnknownException)
            {
                return TimedOut(failure);
            }

            try
            {
                await Task.Delay(RetryBackoff, time, deadline.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException e)
            {
                cancellationToken.ThrowIfCancellationRequested();
                return TimedOut(e);
            }
        }

        static MetadataResult TimedOut(Exception e) =>
            new(ErrorCode.RequestTimedOut, $"the metadata quorum did not commit the change in {ProposeTimeout.TotalSeconds:0} s: {e.Message}");
    }

    /// <summary>
    /// Waits (up to <see cref="ApplyWait"/>) until this broker's image satisfies <paramref name="condition"/> — after a
    /// proposal, for its apply here — and returns the image, satisfied or not.
    /// </summary>
    public async Task<MetadataImage> WaitForAsync(Func<MetadataImage, bool> condition, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(condition);
        await WaitUntilAsync(() => condition(Image), machine.ChangedAsync, cancellationToken).ConfigureAwait(false);
        return Image;
    }

    /// <summary>Waits (up to <see cref="ApplyWait"/>) until this broker has opened the topic the metadata holds; null if it has not.</summary>
    public async Task<Topic?> WaitOpenedAsync(string name, CancellationToken cancellationToken)
    {
        var local = broker ?? throw new InvalidOperationException("the cluster member has not started");
        Topic? topic = null;
        bool Opened() => local.Topics.TryGet(name, out topic) && Image.Topics.TryGetValue(name, out var assignment) && assignment.Id == topic.Id;
        return await WaitUntilAsync(Opened, () => reconciled.Next, cancellationToken).ConfigureAwait(false) ? topic : null;
    }

    /// <summary>A follower out of the ISR caught up with a partition this broker leads: propose taking it back (once at a time).</summary>
    public void RequestIsrJoin(Partition partition, int follower)
    {
        ArgumentNullException.ThrowIfNull(partition);
        var role = partition.Role;
        if (role.Isr.Contains(follower))
        {
            return;
        }

        ProposeIsr(partition, role, [.. role.Isr, follower]);
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        if (stopping.IsCancellationRequested)
        {
            return;
        }

        await (handover ?? HandOverAsync()).ConfigureAwait(false);
        await stopping.CancelAsync().ConfigureAwait(false);
        await Task.WhenAll(loops).ConfigureAwait(false);
        foreach (var fetcher in fetchers.Values)
        {
            await fetcher.DisposeAsync().ConfigureAwait(false);
        }

        fetchers.Clear();
        await host.DisposeAsync().ConfigureAwait(false);
        stopping.Dispose();
    }

    /// <summary>
    /// Controlled shutdown, as Kafka's: fence ourselves first, so the leaderships move to other ISR members now rather
    /// than after a session timeout. It starts as soon as the node begins to stop, while the quorum's peers still hear
    /// us (<see cref="RaftPeerService.StopGrace"/>). Best effort: without a quorum the controller fences us later anyway.
    /// </summary>
    private async Task HandOverAsync()
    {
        leaving = true;
        if (!caughtUp || host.IsStopped)
        {
            return;
        }

        using var deadline = new CancellationTokenSource(RaftPeerService.StopGrace);
        try
        {
            await host.ProposeAsync(new FenceBroker(BrokerId).Encode(), deadline.Token).ConfigureAwait(false);
            LogHandedOver(logger, BrokerId);
        }
        catch (Exception e) when (e is RaftUnavailableException or RaftOutcomeUnknownException or RaftOverloadedException or RaftProposalDroppedException or OperationCanceledException)
        {
            LogShutdownFenceFailed(logger, e.Message);
        }
    }

    /// <summary>Checks <paramref name="condition"/> at every <paramref name="next"/> signal until it holds or <see cref="ApplyWait"/> passes.</summary>
    private async Task<bool> WaitUntilAsync(Func<bool> condition, Func<Task> next, CancellationToken cancellationToken)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, stopping.Token);
        deadline.CancelAfter(ApplyWait);
        while (true)
        {
            var signal = next();
            if (condition())
            {
                return true;
            }

            try
            {
                await signal.WaitAsync(deadline.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                cancellationToken.ThrowIfCancellationRequested();
                return false;
            }
        }
    }

    private Task<byte[]> OnHeartbeatAsync(ReadOnlyMemory<byte> payload, CancellationToken cancellationToken)
    {
        if (payload.Length == 4)
        {
            lastHeartbeat[BinaryPrimitives.ReadInt32BigEndian(payload.Span)] = time.GetUtcNow();
        }

        return Task.FromResult(Array.Empty<byte>());
    }

    private async Task HeartbeatLoopAsync(CancellationToken cancellationToken)
    {
        var interval = TimeSpan.FromMilliseconds(options.BrokerHeartbeatIntervalMs);
        var self = new byte[4];
        BinaryPrimitives.WriteInt32BigEndian(self, BrokerId);
        var advertised = broker!.AdvertisedHost;
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                var registered = Image.Brokers.TryGetValue(BrokerId, out var me)
                    && !me.Fenced && me.Host == advertised && me.Port == options.KafkaPort;
                if (leaving)
                {
                    // Stopping: fenced on purpose, not to be registered again.
                }
                else if (!registered)
                {
                    var result = await ProposeAsync(new RegisterBroker(BrokerId, advertised, options.KafkaPort), cancellationToken).ConfigureAwait(false);
                    if (result.Error == ErrorCode.None)
                    {
                        LogRegistered(logger, BrokerId, advertised, options.KafkaPort);
                    }
                }
                else
                {
                    using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                    deadline.CancelAfter(interval * 2);
                    await host.ForwardToLeaderAsync(HeartbeatKind, self, deadline.Token).ConfigureAwait(false);
                }
            }
            catch (Exception e) when (!cancellationToken.IsCancellationRequested)
            {
                LogHeartbeatFailed(logger, e.Message);
            }

            try
            {
                await Task.Delay(interval, time, cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    private async Task ControllerLoopAsync(CancellationToken cancellationToken)
    {
        var session = TimeSpan.FromMilliseconds(options.BrokerSessionTimeoutMs);
        var leading = false;
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                var now = time.GetUtcNow();
                if (!host.IsLeader)
                {
                    leading = false;
                }
                else
                {
                    if (!leading)
                    {
                        // A new controller has seen no heartbeat yet: every broker gets a full session from now.
                        leading = true;
                        lastHeartbeat.Clear();
                    }

                    lastHeartbeat[BrokerId] = now;
                    foreach (var registered in Image.LiveBrokers)
                    {
                        var seen = lastHeartbeat.GetOrAdd(registered.Id, now);
                        if (now - seen > session)
                        {
                            LogFencing(logger, registered.Id, (long)(now - seen).TotalMilliseconds);
                            await ProposeAsync(new FenceBroker(registered.Id), cancellationToken).ConfigureAwait(false);
                        }
                    }
                }

                await Task.Delay(ControllerPeriod, time, cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                LogLoopFailed(logger, "controller", e);
            }
        }
    }

    private async Task ReconcileLoopAsync(CancellationToken cancellationToken)
    {
        // Before anything local follows the metadata, the image must be as new as the quorum's: a restarted broker
        // replaying an old image must not delete a topic it still needs or lead what another broker leads now.
        while (!cancellationToken.IsCancellationRequested && !caughtUp)
        {
            try
            {
                using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                deadline.CancelAfter(CatchUpAttempt);
                await host.ReadIndexAsync(deadline.Token).ConfigureAwait(false);
                caughtUp = true;
            }
            catch (Exception e) when (!cancellationToken.IsCancellationRequested)
            {
                LogWaitingForQuorum(logger, e.Message);
            }
        }

        while (!cancellationToken.IsCancellationRequested)
        {
            var changed = machine.ChangedAsync();
            try
            {
                await ReconcileAsync(Image, cancellationToken).ConfigureAwait(false);
                reconciled.Pulse();
                await Task.WhenAny(changed, Task.Delay(ReconcilePeriod, time, cancellationToken)).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                LogLoopFailed(logger, "reconcile", e);
                await Task.WhenAny(Task.Delay(RetryBackoff, time, cancellationToken)).ConfigureAwait(false);
            }
        }
    }

    private async Task ReconcileAsync(MetadataImage image, CancellationToken cancellationToken)
    {
        var local = broker!;
        var now = time.GetUtcNow();
        foreach (var assignment in image.Topics.Values)
        {
            var topic = await local.Topics.EnsureAsync(assignment.Name, assignment.Id, assignment.Partitions.Length, assignment.Configs, cancellationToken).ConfigureAwait(false);
            for (var index = 0; index < assignment.Partitions.Length; index++)
            {
                var wanted = assignment.Partitions[index];
                var partition = topic.Partitions[index];
                var role = new PartitionRole(wanted.Leader, wanted.LeaderEpoch, wanted.Replicas, wanted.Isr);
                var key = (assignment.Name, index);
                var follows = wanted.Leader >= 0 && wanted.Leader != BrokerId && wanted.Replicas.Contains(BrokerId);
                fetchers.TryGetValue(key, out var fetcher);
                if (fetcher is not null && (!follows || fetcher.Leader != wanted.Leader || fetcher.LeaderEpoch != wanted.LeaderEpoch))
                {
                    fetchers.Remove(key);
                    await fetcher.DisposeAsync().ConfigureAwait(false);
                    fetcher = null;
                }

                if (!Same(partition.Role, role))
                {
                    partition.SetRole(role, now);
                }

                if (follows && fetcher is null && image.Brokers.TryGetValue(wanted.Leader, out var leader))
                {
                    var (host, port) = dialOverrides.TryGetValue(leader.Id, out var dial) ? dial : (leader.Host, leader.Port);
                    fetchers[key] = ReplicaFetcher.Start(partition, BrokerId, leader.Id, wanted.LeaderEpoch, host, port, options, time, loggers.CreateLogger<ReplicaFetcher>());
                }
            }
        }

        foreach (var topic in local.Topics.All)
        {
            if (!image.Topics.TryGetValue(topic.Name, out var kept) || kept.Id != topic.Id)
            {
                foreach (var key in fetchers.Keys.Where(key => key.Topic == topic.Name).ToList())
                {
                    await fetchers[key].DisposeAsync().ConfigureAwait(false);
                    fetchers.Remove(key);
                }

                if (kept is null)
                {
                    await local.Topics.DeleteAsync(topic.Name, cancellationToken).ConfigureAwait(false);
                    local.Groups.DeleteTopicOffsets(topic.Name);
                }
            }
        }
    }

    private async Task IsrLoopAsync(CancellationToken cancellationToken)
    {
        var lag = TimeSpan.FromMilliseconds(options.ReplicaLagTimeMaxMs);
        var period = TimeSpan.FromMilliseconds(Math.Max(50, options.ReplicaLagTimeMaxMs / 4));
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(period, time, cancellationToken).ConfigureAwait(false);
                if (!caughtUp)
                {
                    continue;
                }

                var now = time.GetUtcNow();
                foreach (var topic in broker!.Topics.All)
                {
                    foreach (var partition in topic.Partitions)
                    {
                        var lagging = partition.LaggingFollowers(now, lag);
                        if (lagging.Count > 0)
                        {
                            var role = partition.Role;
                            LogShrinking(logger, topic.Name, partition.Index, lagging);
                            ProposeIsr(partition, role, [.. role.Isr.Except(lagging)]);
                        }
                    }
                }
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                LogLoopFailed(logger, "isr", e);
            }
        }
    }

    private void ProposeIsr(Partition partition, PartitionRole role, int[] isr)
    {
        var key = (partition.Topic.Name, partition.Index);
        if (role.Leader != BrokerId || !isrChanges.TryAdd(key, true))
        {
            return;
        }

        _ = Task.Run(async () =>
        {
            try
            {
                var result = await ProposeAsync(new AlterPartition(key.Name, key.Index, BrokerId, role.LeaderEpoch, isr), stopping.Token).ConfigureAwait(false);
                LogIsrChange(logger, key.Name, key.Index, isr, result.Error);
            }
            catch (OperationCanceledException)
            {
                // Stopping.
            }
            finally
            {
                isrChanges.TryRemove(key, out _);
            }
        });
    }

    private static bool Same(PartitionRole a, PartitionRole b) =>
        a.Leader == b.Leader && a.LeaderEpoch == b.LeaderEpoch && a.Replicas.SequenceEqual(b.Replicas) && a.Isr.SequenceEqual(b.Isr);

    [LoggerMessage(Level = LogLevel.Information, Message = "broker {Id} fenced itself to hand over its leaderships before stopping")]
    private static partial void LogHandedOver(ILogger logger, int id);

    [LoggerMessage(Level = LogLevel.Warning, Message = "could not hand over leaderships before stopping: {Reason}")]
    private static partial void LogShutdownFenceFailed(ILogger logger, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "broker {Id} registered as {Host}:{Port}")]
    private static partial void LogRegistered(ILogger logger, int id, string host, int port);

    [LoggerMessage(Level = LogLevel.Debug, Message = "heartbeat failed: {Reason}")]
    private static partial void LogHeartbeatFailed(ILogger logger, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "fencing broker {Id}: no heartbeat for {Milliseconds} ms")]
    private static partial void LogFencing(ILogger logger, int id, long milliseconds);

    [LoggerMessage(Level = LogLevel.Error, Message = "the {Loop} loop failed; it goes on")]
    private static partial void LogLoopFailed(ILogger logger, string loop, Exception exception);

    [LoggerMessage(Level = LogLevel.Information, Message = "waiting for the metadata quorum: {Reason}")]
    private static partial void LogWaitingForQuorum(ILogger logger, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Topic}-{Partition}: followers {Followers} fell behind; shrinking the ISR")]
    private static partial void LogShrinking(ILogger logger, string topic, int partition, IEnumerable<int> followers);

    [LoggerMessage(Level = LogLevel.Information, Message = "{Topic}-{Partition}: ISR change to [{Isr}]: {Error}")]
    private static partial void LogIsrChange(ILogger logger, string topic, int partition, IEnumerable<int> isr, ErrorCode error);
}
