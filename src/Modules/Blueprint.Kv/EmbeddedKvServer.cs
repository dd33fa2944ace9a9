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
    ILogger<EmbeddedKvServer> logger) : IHostedService, IDisposable
{
    private GarnetServer? _server;
    private ITimer? _checkpoints;
    private int _checkpointRunning;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        var options = kvOptions.Value;
        var bind = nodeOptions.Value.Bind;
        var arguments = BuildArguments(options, bind, dataDirectory.For("kv"));
        try
        {
            var server = new GarnetServer(arguments, new MinimumLevelLoggerFactory(loggerFactory, LogLevel.Warning), cleanupDir: false, authenticationSettingsOverride: null);
            server.Start();
            _server = server;
        }
        catch (GarnetException e) when (e.InnerException is SocketException { SocketErrorCode: SocketError.AddressAlreadyInUse })
        {
            throw StartupProblemException.PortInUse("RESP", bind, options.Port, "--resp-port", e);
        }

        LogStarted(logger, bind, options.Port, options.Persistence);
        if (options.Persistence && options.CheckpointIntervalSeconds > 0)
        {
            var interval = TimeSpan.FromSeconds(options.CheckpointIntervalSeconds);
            _checkpoints = timeProvider.CreateTimer(_ => _ = CheckpointAsync(), null, interval, interval);
        }

        return Task.CompletedTask;
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
            var server = multiplexer.GetServer(multiplexer.GetEndPoints()[0]);
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
                var server = multiplexer.GetServer(multiplexer.GetEndPoints()[0]);
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
        _server?.Dispose();
        _server = null;
    }

    /// <summary>The garnet-server flags for these options.</summary>
    internal static string[] BuildArguments(KvOptions options, string bind, string directory)
    {
        var arguments = new List<string>
        {
            "--bind", bind,
            "--port", options.Port.ToString(System.Globalization.CultureInfo.InvariantCulture),
            "--memory", options.MemorySize,
            "--index", options.IndexSize,
            // The main-log page must fit the small memory bound; the AOF page must be at least twice it.
            "--page", "4m",
            "--lua",
            // Garnet runs scripts without isolation unless asked; Redis semantics (a script is
            // atomic) need the transaction mode, or concurrent scripts interleave their reads and writes.
            "--lua-transaction-mode",
            "-q",
        };
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
