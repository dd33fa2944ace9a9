using System.Diagnostics.Metrics;
using System.Net.Sockets;
using Blueprint.Hosting;
using Garnet;
using Garnet.common;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace Blueprint.Kv;

/// <summary>
/// Hosts Garnet in-process, speaking RESP on <c>Kv:Port</c>. Persistence is an append-only file
/// plus checkpoints under <c>&lt;data-dir&gt;/kv</c>, recovered at start. A graceful stop takes a
/// checkpoint (SAVE) before the server goes, so nothing acknowledged is lost.
/// </summary>
internal sealed partial class EmbeddedKvServer(
    IOptions<KvOptions> kvOptions,
    IOptions<NodeOptions> nodeOptions,
    DataDirectory dataDirectory,
    IKvConnection connection,
    TimeProvider timeProvider,
    ILoggerFactory loggerFactory,
    IMeterFactory meters,
    ILogger<EmbeddedKvServer> logger) : IHostedService, IDisposable
{
    /// <summary>The name of the observable counter of commands the embedded server processed.</summary>
    internal const string CommandsMetric = "blueprint.kv.commands";

    private GarnetServer? _server;
    private GarnetServer? _replica;
    private ITimer? _checkpoints;
    private int _checkpointRunning;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        var options = kvOptions.Value;
        var bind = nodeOptions.Value.Bind;
        _server = Start(BuildArguments(options, bind, options.Port, dataDirectory.For("kv")), "RESP", options.Port, "--resp-port");
        if (options.ReplicaPort != 0)
        {
            _replica = Start(BuildArguments(options, bind, options.ReplicaPort, dataDirectory.For("kv-replica")), "RESP replica", options.ReplicaPort, "--kv-replica-port");
        }

        // Garnet's own count (INFO stats total_commands_processed): each session counts its commands and the server's
        // monitor sums them every second (--metrics-sampling-freq 1), so reading it here costs nothing on the command path.
        meters.Create(ServiceDefaults.ServiceName).CreateObservableCounter(
            CommandsMetric,
            ObserveCommands,
            unit: "{command}",
            description: "Commands the embedded Garnet server processed (its INFO total_commands_processed, summed each second), by server (primary, replica).");
        LogStarted(logger, bind, options.Port, options.Persistence);
        if (options.Persistence && options.CheckpointIntervalSeconds > 0)
        {
            var interval = TimeSpan.FromSeconds(options.CheckpointIntervalSeconds);
            _checkpoints = timeProvider.CreateTimer(_ => _ = CheckpointAsync(), null, interval, interval);
        }

        return Task.CompletedTask;
    }

    private GarnetServer Start(string[] arguments, string name, int port, string flag)
    {
        try
        {
            // In a cluster Garnet warns, with a stack trace, at every gossip round that cannot reach a node that is down:
            // expected while a member is away, and the cluster agent reports what matters.
            var level = kvOptions.Value.Cluster ? LogLevel.Error : LogLevel.Warning;
            var server = new GarnetServer(arguments, new MinimumLevelLoggerFactory(loggerFactory, level), cleanupDir: false, authenticationSettingsOverride: null);
            server.Start();
            return server;
        }
        catch (GarnetException e) when (e.InnerException is SocketException { SocketErrorCode: SocketError.AddressAlreadyInUse })
        {
            throw StartupProblemException.PortInUse(name, nodeOptions.Value.Bind, port, flag, e);
        }
    }

    private IEnumerable<Measurement<long>> ObserveCommands()
    {
        if (_server is { } primary)
        {
            yield return new Measurement<long>(CommandsProcessed(primary), new KeyValuePair<string, object?>("server", "primary"));
        }

        if (_replica is { } replica)
        {
            yield return new Measurement<long>(CommandsProcessed(replica), new KeyValuePair<string, object?>("server", "replica"));
        }
    }

    /// <summary>Garnet's count of the commands <paramref name="server"/> processed, as of its last one-second sample.</summary>
    internal static long CommandsProcessed(GarnetServer server)
    {
        var item = server.Metrics.GetInfoMetrics(InfoMetricsType.STATS).FirstOrDefault(m => m.Name == "total_commands_processed");
        return long.TryParse(item.Value, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var count) ? count : 0;
    }

    /// <summary>Takes a background checkpoint unless one from this timer is still running.</summary>
    internal async Task CheckpointAsync()
    {
        if (Interlocked.Exchange(ref _checkpointRunning, 1) == 1)
        {
            return;
        }

        try
        {
            var multiplexer = await connection.GetAsync().ConfigureAwait(false);
            var server = multiplexer.GetServer(connection.Endpoint);
            await server.ExecuteAsync("BGSAVE").ConfigureAwait(false);
            LogPeriodicCheckpoint(logger);
        }
        catch (Exception e) when (e is RedisException or TimeoutException)
        {
            LogCheckpointFailed(logger, e);
        }
        finally
        {
            Volatile.Write(ref _checkpointRunning, 0);
        }
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (_checkpoints is not null)
        {
            await _checkpoints.DisposeAsync().ConfigureAwait(false);
            _checkpoints = null;
        }

        if (_server is null)
        {
            return;
        }

        if (kvOptions.Value.Persistence)
        {
            try
            {
                var multiplexer = await connection.GetAsync(cancellationToken).ConfigureAwait(false);
                var server = multiplexer.GetServer(connection.Endpoint);
                for (var attempt = 1; ; attempt++)
                {
                    try
                    {
                        await server.ExecuteAsync("SAVE").WaitAsync(cancellationToken).ConfigureAwait(false);
                        break;
                    }
                    catch (RedisServerException e) when (attempt < 50 && e.Message.Contains("in progress", StringComparison.OrdinalIgnoreCase))
                    {
                        // A periodic background checkpoint is still running: wait for it, then take the final one.
                        await Task.Delay(100, cancellationToken).ConfigureAwait(false);
                    }
                }

                LogCheckpointed(logger);
            }
            catch (Exception e) when (e is RedisException or OperationCanceledException or TimeoutException)
            {
                // The append-only file still holds every acknowledged write; recovery replays it.
                LogCheckpointFailed(logger, e);
            }
        }

        Dispose();
    }

    public void Dispose()
    {
        _checkpoints?.Dispose();
        _checkpoints = null;
        _replica?.Dispose();
        _replica = null;
        _server?.Dispose();
        _server = null;
    }

    /// <summary>The garnet-server flags for these options.</summary>
    internal static string[] BuildArguments(KvOptions options, string bind, int port, string directory)
    {
        var arguments = new List<string>
        {
            "--bind", bind,
            "--port", port.ToString(System.Globalization.CultureInfo.InvariantCulture),
            "--memory", options.MemorySize,
            "--index", options.IndexSize,
            // The main-log page must fit the small memory bound; the AOF page must be at least twice it.
            "--page", "4m",
            "--lua",
            // Garnet runs scripts without isolation unless asked; Redis semantics (a script is
            // atomic) need the transaction mode, or concurrent scripts interleave their reads and writes.
            "--lua-transaction-mode",
            // Sessions count their commands and a monitor sums them each second: blueprint.kv.commands reads the sum.
            "--metrics-sampling-freq", "1",
            "-q",
        };
        if (options.Cluster)
        {
            arguments.AddRange(
            [
                "--cluster",
                // Gossip every second, so a dead link shows within about a second (the failover vote reads it).
                "--gossip-delay", "1",
                "--cluster-timeout", Math.Max(1, options.ClusterNodeTimeoutMs / 1000).ToString(System.Globalization.CultureInfo.InvariantCulture),
            ]);
            if (!options.Persistence)
            {
                // Without a checkpoint directory Garnet keeps the cluster's configuration in the working directory.
                arguments.AddRange(["--checkpointdir", directory, "--device-type", "RandomAccess"]);
            }
        }

        if (options.Persistence)
        {
            arguments.AddRange(
            [
                "--aof",
                "--aof-memory", "32m",
                "--aof-page-size", "8m",
                "--aof-commit-freq", options.AofCommitFrequencyMs.ToString(System.Globalization.CultureInfo.InvariantCulture),
                "--checkpointdir", directory,
                "--recover",
                // The default native device needs a newer glibc than Debian 12 ships.
                "--device-type", "RandomAccess",
            ]);
        }

        return [.. arguments];
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Embedded KV (Garnet) listening on {Bind}:{Port}, persistence {Persistence}")]
    private static partial void LogStarted(ILogger logger, string bind, int port, bool persistence);

    [LoggerMessage(Level = LogLevel.Information, Message = "Embedded KV checkpoint taken")]
    private static partial void LogCheckpointed(ILogger logger);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Embedded KV periodic checkpoint started")]
    private static partial void LogPeriodicCheckpoint(ILogger logger);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Embedded KV checkpoint failed; the append-only file still holds every write and is replayed at next start")]
    private static partial void LogCheckpointFailed(ILogger logger, Exception exception);
}
