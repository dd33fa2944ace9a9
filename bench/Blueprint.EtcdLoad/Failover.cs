using System.Diagnostics;
using System.Globalization;
using Blueprint.Coordination.Etcd.Rpc;
using Google.Protobuf;
using Grpc.Core;

namespace Blueprint.EtcdLoad;

/// <summary>
/// Leader failover: while a Put goes to every endpoint every <see cref="LoadOptions.WriteInterval"/> (each with
/// the short run deadline, at most <see cref="InFlightPerEndpointMax"/> outstanding per endpoint; a tick with
/// the endpoint full is skipped), the leader's process is killed with SIGKILL, and the result is the time from
/// just before the kill to the acknowledgement of the first Put issued after it, through any endpoint.
/// A Put issued before the kill never counts, even if its answer comes later.
/// </summary>
internal static class Failover
{
    /// <summary>Outstanding Puts per endpoint at most.</summary>
    public const int InFlightPerEndpointMax = 32;

    // Writes run this long before the kill, so every connection is up and the cluster is seen to accept them.
    private static readonly TimeSpan SteadyBeforeKill = TimeSpan.FromMilliseconds(500);

    /// <summary>The result printed: <c>RecoveryMilliseconds</c> null when no Put was acknowledged within the timeout.</summary>
    public sealed record Outcome(string Killed, int KilledPid, double? RecoveryMilliseconds, string? RecoveredVia, long FailedPutsAfterKill, long PutsBeforeKill);

    /// <summary>Reads the PID map: one <c>ENDPOINT PID</c> per line; throws <see cref="FormatException"/> on a bad line or a missing endpoint.</summary>
    public static Dictionary<Uri, int> ReadPidMap(string path, IReadOnlyList<Uri> endpoints)
    {
        var map = new Dictionary<Uri, int>();
        foreach (var line in File.ReadLines(path).Select(line => line.Trim()).Where(line => line.Length > 0))
        {
            var parts = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (parts.Length != 2 || !EndpointParser.TryParse(parts[0], out var endpoint)
                || !int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var pid) || pid <= 1)
            {
                throw new FormatException($"{path}: line '{line}' is not 'ENDPOINT PID'");
            }

            map[endpoint] = pid;
        }

        var missing = endpoints.Where(endpoint => !map.ContainsKey(endpoint)).Select(EndpointParser.Format).ToArray();
        return missing.Length == 0 ? map : throw new FormatException($"{path} has no PID for {string.Join(", ", missing)}");
    }

    public static async Task<Outcome> RunAsync(EtcdCluster cluster, LoadOptions options, Dictionary<Uri, int> pids, int leader, CancellationToken cancellationToken)
    {
        var endpoints = cluster.Endpoints;
        var leaderPid = pids[endpoints[leader]];
        var inFlight = new int[endpoints.Count];
        var firstAfterKill = new TaskCompletionSource<(long Timestamp, int Endpoint)>(TaskCreationOptions.RunContinuationsAsynchronously);
        long killedAt = long.MaxValue, putsBeforeKill = 0, failedAfterKill = 0, sequence = 0;
        var value = Workloads.Value(64);

        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var writer = Task.Run(async () =>
        {
            using var timer = new PeriodicTimer(options.WriteInterval);
            while (await timer.WaitForNextTickAsync(stop.Token).ConfigureAwait(false))
            {
                for (var endpoint = 0; endpoint < endpoints.Count; endpoint++)
                {
                    if (Interlocked.Increment(ref inFlight[endpoint]) > InFlightPerEndpointMax)
                    {
                        Interlocked.Decrement(ref inFlight[endpoint]);
                        continue;
                    }

                    _ = PutAsync(endpoint);
                }
            }
        }, stop.Token);

        async Task PutAsync(int endpoint)
        {
            var issuedAt = Stopwatch.GetTimestamp();
            var killed = Volatile.Read(ref killedAt);
            var key = ByteString.CopyFromUtf8(string.Create(CultureInfo.InvariantCulture, $"bench-failover/{Interlocked.Increment(ref sequence) % Workloads.KeySpaceMax:D5}"));
            try
            {
                await cluster.Kv(endpoint, 0).PutAsync(new PutRequest { Key = key, Value = value }, deadline: Workloads.Deadline(options), cancellationToken: stop.Token);
                var acknowledgedAt = Stopwatch.GetTimestamp();
                if (issuedAt >= killed)
                {
                    firstAfterKill.TrySetResult((acknowledgedAt, endpoint));
                }
                else
                {
                    Interlocked.Increment(ref putsBeforeKill);
                }
            }
            catch (RpcException)
            {
                if (issuedAt >= killed)
                {
                    Interlocked.Increment(ref failedAfterKill);
                }
            }
            catch (OperationCanceledException)
            {
                // The run is over.
            }
            finally
            {
                Interlocked.Decrement(ref inFlight[endpoint]);
            }
        }

        try
        {
            await Task.Delay(SteadyBeforeKill, cancellationToken);
            if (Interlocked.Read(ref putsBeforeKill) == 0)
            {
                throw new InvalidOperationException($"no Put was acknowledged in the {SteadyBeforeKill.TotalMilliseconds} ms before the kill: the cluster is not taking writes");
            }

            using var process = Process.GetProcessById(leaderPid);
            Volatile.Write(ref killedAt, Stopwatch.GetTimestamp());
            process.Kill();
            var killedTimestamp = Volatile.Read(ref killedAt);

            var finished = await Task.WhenAny(firstAfterKill.Task, Task.Delay(options.FailoverTimeout, cancellationToken));
            double? recoveryMilliseconds = null;
            string? recoveredVia = null;
            if (finished == firstAfterKill.Task)
            {
                var (acknowledgedAt, endpoint) = await firstAfterKill.Task;
                recoveryMilliseconds = Stopwatch.GetElapsedTime(killedTimestamp, acknowledgedAt).TotalMilliseconds;
                recoveredVia = EndpointParser.Format(endpoints[endpoint]);
            }

            return new Outcome(EndpointParser.Format(endpoints[leader]), leaderPid, recoveryMilliseconds, recoveredVia,
                Interlocked.Read(ref failedAfterKill), Interlocked.Read(ref putsBeforeKill));
        }
        finally
        {
            await stop.CancelAsync();
            try
            {
                await writer;
            }
            catch (OperationCanceledException)
            {
                // The writer's timer was cancelled.
            }

            // The cancelled Puts end at once; the channels are disposed only after them.
            var drainUntil = DateTime.UtcNow + options.Deadline + options.Deadline;
            while (Enumerable.Range(0, inFlight.Length).Any(i => Volatile.Read(ref inFlight[i]) > 0) && DateTime.UtcNow < drainUntil)
            {
                await Task.Delay(options.WriteInterval, CancellationToken.None);
            }
        }
    }
}
