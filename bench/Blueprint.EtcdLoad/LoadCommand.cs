using System.Text;
using System.Text.Json;

namespace Blueprint.EtcdLoad;

/// <summary>
/// Runs one command and prints one JSON line on stdout. Exit codes: 0 done, 1 the cluster failed the run
/// (no leader, no recovery, an RPC failure in setup), 2 bad input (one line on stderr).
/// </summary>
internal static class LoadCommand
{
    private const string Name = "Blueprint.EtcdLoad";

    public static async Task<int> RunAsync(string[] args)
    {
        if (args is ["--help" or "-h" or "help", ..])
        {
            Console.WriteLine(LoadOptions.Usage);
            return 0;
        }

        LoadOptions options;
        Dictionary<Uri, int>? pids = null;
        try
        {
            options = LoadOptions.Parse(args);
            if (options.PidMapPath is not null)
            {
                pids = Failover.ReadPidMap(options.PidMapPath, options.Endpoints);
            }
        }
        catch (Exception e) when (e is FormatException or IOException or UnauthorizedAccessException)
        {
            await Console.Error.WriteLineAsync($"{Name}: {e.Message} (see {Name} --help)");
            return 2;
        }

        using var interrupted = new CancellationTokenSource();
        Console.CancelKeyPress += (_, e) =>
        {
            e.Cancel = true;
            interrupted.Cancel();
        };

        try
        {
            return await RunAsync(options, pids, interrupted.Token);
        }
        catch (Exception e) when (e is Grpc.Core.RpcException or InvalidOperationException or ArgumentException)
        {
            // ArgumentException: Process.GetProcessById when the leader's PID is already gone.
            await Console.Error.WriteLineAsync($"{Name}: {options.Workload.ToString().ToLowerInvariant()} failed: {e.Message}");
            return 1;
        }
    }

    private static async Task<int> RunAsync(LoadOptions options, Dictionary<Uri, int>? pids, CancellationToken cancellationToken)
    {
        var connections = options.Workload is Workload.Status or Workload.Failover ? 1 : options.Connections;
        using var cluster = new EtcdCluster(options.Endpoints, connections);
        var waitTimeout = options.Workload == Workload.Status ? options.WaitTimeout : TimeSpan.FromSeconds(10);
        var statusDeadline = TimeSpan.FromSeconds(2);
        var leader = await cluster.WaitForLeaderAsync(waitTimeout, statusDeadline, cancellationToken);
        if (leader is not { } leaderIndex)
        {
            await Console.Error.WriteLineAsync($"{Name}: no leader: within {waitTimeout.TotalSeconds} s not every member answered Maintenance.Status with one leader that is among the endpoints");
            return 1;
        }

        var leaderEndpoint = EndpointParser.Format(options.Endpoints[leaderIndex]);
        switch (options.Workload)
        {
            case Workload.Status:
                var status = await cluster.StatusOrNullAsync(leaderIndex, statusDeadline, cancellationToken);
                Print(json =>
                {
                    json.WriteString("leader", leaderEndpoint);
                    json.WriteNumber("leader_id", status?.Header.MemberId ?? 0);
                    json.WriteString("version", status?.Version ?? "");
                    json.WriteNumber("members", options.Endpoints.Count);
                });
                return 0;

            case Workload.Failover:
                var outcome = await Failover.RunAsync(cluster, options, pids!, leaderIndex, cancellationToken);
                Print(json =>
                {
                    json.WriteString("workload", "failover");
                    json.WriteString("killed", outcome.Killed);
                    json.WriteNumber("killed_pid", outcome.KilledPid);
                    if (outcome.RecoveryMilliseconds is { } milliseconds)
                    {
                        json.WriteNumber("recovery_ms", Math.Round(milliseconds, 1));
                    }
                    else
                    {
                        json.WriteNull("recovery_ms");
                    }

                    json.WriteString("recovered_via", outcome.RecoveredVia);
                    json.WriteNumber("failed_puts_after_kill", outcome.FailedPutsAfterKill);
                    json.WriteNumber("puts_before_kill", outcome.PutsBeforeKill);
                    json.WriteNumber("interval_ms", options.WriteInterval.TotalMilliseconds);
                    json.WriteNumber("deadline_ms", options.Deadline.TotalMilliseconds);
                });
                if (outcome.RecoveryMilliseconds is null)
                {
                    await Console.Error.WriteLineAsync($"{Name}: failover: no Put was acknowledged within {options.FailoverTimeout.TotalSeconds} s of killing the leader");
                    return 1;
                }

                return 0;
        }

        var result = options.Workload switch
        {
            Workload.Put => await Workloads.PutAsync(cluster, options, leaderIndex, cancellationToken),
            Workload.Range => await Workloads.RangeAsync(cluster, options, leaderIndex, cancellationToken),
            Workload.Lock => await Workloads.LockAsync(cluster, options, leaderIndex, cancellationToken),
            _ => throw new InvalidOperationException($"workload {options.Workload} has no runner"),
        };
        Print(json =>
        {
            json.WriteString("workload", options.Workload switch
            {
                Workload.Range => options.Linearizable ? "range-linearizable" : "range-serializable",
                _ => options.Workload.ToString().ToLowerInvariant(),
            });
            json.WriteNumber("clients", result.Clients);
            json.WriteNumber("conns", connections);
            json.WriteNumber("endpoints", options.Endpoints.Count);
            json.WriteString("leader", leaderEndpoint);
            json.WriteNumber("seconds", Math.Round(result.Seconds, 3));
            json.WriteNumber("ops", result.Operations);
            json.WriteNumber("ops_per_s", Math.Round(result.OperationsPerSecond, 1));
            json.WriteNumber("p50_us", result.P50Microseconds);
            json.WriteNumber("p99_us", result.P99Microseconds);
            json.WriteNumber("errors", result.Errors);
        });
        return 0;
    }

    private static void Print(Action<Utf8JsonWriter> write)
    {
        using var stream = new MemoryStream();
        using (var json = new Utf8JsonWriter(stream))
        {
            json.WriteStartObject();
            write(json);
            json.WriteEndObject();
        }

        Console.WriteLine(Encoding.UTF8.GetString(stream.ToArray()));
    }
}
