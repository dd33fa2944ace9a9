using System.Diagnostics;
using Grpc.Core;
using HdrHistogram;

namespace Blueprint.EtcdLoad;

/// <summary>
/// N clients, each awaiting one operation at a time (the concurrency bound is the client count), for a
/// warm-up and then a measured window. An operation counts when it starts and completes inside the window;
/// its latency goes into the client's own histogram (merged at the end). An operation that fails — an
/// <see cref="RpcException"/>, or false from the operation — counts as an error and is not timed.
/// </summary>
internal static class ClosedLoop
{
    /// <summary>Latencies above this are recorded as this, in microseconds (the deadline is far lower).</summary>
    public const long LatencyMicrosecondsMax = 120_000_000;

    // After a failed call a client waits this long, so a member that refuses at once is not spun against.
    private static readonly TimeSpan ErrorBackoff = TimeSpan.FromMilliseconds(10);

    private const int Warming = 0;
    private const int Measuring = 1;
    private const int Stopped = 2;

    /// <summary>One operation of client <c>index</c>; false when it completed without doing what it should.</summary>
    public delegate Task<bool> Operation(int client, CancellationToken cancellationToken);

    public static async Task<LoadResult> RunAsync(int clients, TimeSpan warmup, TimeSpan duration, Operation operation, CancellationToken cancellationToken)
    {
        var phase = new StrongBox(Warming);
        var histograms = new LongHistogram[clients];
        var operations = new long[clients];
        var errors = new long[clients];
        var loops = new Task[clients];
        for (var i = 0; i < clients; i++)
        {
            var client = i;
            histograms[client] = new LongHistogram(LatencyMicrosecondsMax, 3);
            loops[client] = Task.Run(() => ClientAsync(client), cancellationToken);
        }

        await Task.Delay(warmup, cancellationToken);
        var started = Stopwatch.GetTimestamp();
        Volatile.Write(ref phase.Value, Measuring);
        await Task.Delay(duration, cancellationToken);
        Volatile.Write(ref phase.Value, Stopped);
        var elapsed = Stopwatch.GetElapsedTime(started);
        await Task.WhenAll(loops);

        var merged = new LongHistogram(LatencyMicrosecondsMax, 3);
        foreach (var histogram in histograms)
        {
            merged.Add(histogram);
        }

        var total = operations.Sum();
        return new LoadResult(
            clients,
            elapsed.TotalSeconds,
            total,
            errors.Sum(),
            total / elapsed.TotalSeconds,
            total > 0 ? merged.GetValueAtPercentile(50) : 0,
            total > 0 ? merged.GetValueAtPercentile(99) : 0);

        async Task ClientAsync(int client)
        {
            while (true)
            {
                var phaseAtStart = Volatile.Read(ref phase.Value);
                if (phaseAtStart == Stopped)
                {
                    return;
                }

                var start = Stopwatch.GetTimestamp();
                bool succeeded;
                try
                {
                    succeeded = await operation(client, cancellationToken);
                }
                catch (RpcException)
                {
                    succeeded = false;
                }

                var counts = phaseAtStart == Measuring && Volatile.Read(ref phase.Value) == Measuring;
                if (!succeeded)
                {
                    if (counts)
                    {
                        errors[client]++;
                    }

                    await Task.Delay(ErrorBackoff, cancellationToken);
                    continue;
                }

                if (counts)
                {
                    var microseconds = (long)Stopwatch.GetElapsedTime(start).TotalMicroseconds;
                    histograms[client].RecordValue(Math.Clamp(microseconds, 1, LatencyMicrosecondsMax));
                    operations[client]++;
                }
            }
        }
    }

    private sealed class StrongBox(int value)
    {
        public int Value = value;
    }
}
