using System.Diagnostics;

using Blueprint.Lab.Experiments.Messaging;
using Blueprint.Lab.Experiments.Push;
using Blueprint.Lab.Processes;

namespace Blueprint.Lab.Experiments;

/// <summary>
/// One room's messages pushed to many clients three ways — a WebSocket frame each, a Server-Sent Event each, and long
/// polling (a held GET answered with every message since the client's last) — by one feed on Kestrel in the lab
/// process, at rising message rates. Every client connection goes through a counting TCP relay on loopback: bytes per
/// delivered message both ways, connections opened, polls per message; latency from publish to arrival (one process,
/// one clock); and the process's CPU per delivered message (server, clients and relay together, the same for all
/// three, so the differences are the transports').
/// </summary>
public sealed partial class LongPollingVsWebSocketsExperiment : AsyncExperiment
{
    private const string ExperimentName = "long-polling-vs-websockets";

    /// <summary>The characters of each message's body (the JSON around it adds about 40 bytes).</summary>
    private const int BodyBytes = 64;

    private static readonly TimeSpan RunDeadline = TimeSpan.FromMinutes(8);

    /// <summary>How long the last message may take to reach every client after the last publish.</summary>
    private static readonly TimeSpan DrainDeadline = TimeSpan.FromSeconds(30);

    /// <summary>How long every client has to receive the warm-up message.</summary>
    private static readonly TimeSpan ReadyDeadline = TimeSpan.FromSeconds(30);

    /// <summary>The publisher's pacing tick: every message due by then is published.</summary>
    private static readonly TimeSpan Tick = TimeSpan.FromMilliseconds(2);

    private static readonly PushTransport[] Transports = [PushTransport.WebSocket, PushTransport.ServerSentEvents, PushTransport.LongPolling];

    /// <inheritdoc/>
    public override string Name => ExperimentName;

    /// <inheritdoc/>
    public override string Description => "Long polling vs WebSockets (and SSE): bytes, latency, CPU and connections per delivered message as a room's message rate rises.";

    /// <inheritdoc/>
    protected override async Task<ExperimentResult> RunAsync(ExperimentOptions options, IProgress<double> progress)
    {
        ArgumentNullException.ThrowIfNull(options);
        Sizes sizes = options.Quick ? Sizes.Quick : Sizes.Full;
        using CancellationTokenSource deadline = new(RunDeadline);
        ProgressSteps steps = new(progress, Transports.Length * sizes.Rates.Length);
        List<Row> rows = [];
        foreach (double rate in sizes.Rates)
        {
            foreach (PushTransport transport in Transports)
            {
                rows.Add(await MeasureAsync(transport, rate, sizes, deadline.Token).ConfigureAwait(false));
                steps.Step();
            }
        }

        return Report(sizes, rows);
    }

    private static async Task<Row> MeasureAsync(PushTransport transport, double rate, Sizes sizes, CancellationToken cancellationToken)
    {
        PushFeed feed = new();
        await using LoopbackWebHost server = await LoopbackWebHost.StartAsync(feed.Map, cancellationToken).ConfigureAwait(false);
        await using LoopbackRelay relay = LoopbackRelay.Start(server.Port);
        List<PushClient> clients = new(sizes.Clients);
        try
        {
            for (int i = 0; i < sizes.Clients; i++)
            {
                clients.Add(await PushClient.ConnectAsync(transport, relay.Port, cancellationToken).ConfigureAwait(false));
            }

            // A first message shows every client is connected (the streams registered, every poll held).
            feed.Publish(Stopwatch.GetTimestamp(), BodyBytes);
            await Task.WhenAll(clients.Select(client => client.Receiver.Reached(0))).WaitAsync(ReadyDeadline, cancellationToken).ConfigureAwait(false);
            foreach (PushClient client in clients)
            {
                client.Receiver.MeasureFrom = 1;
            }

            int messages = (int)Math.Round(rate * sizes.Seconds);
            long upBefore = relay.UpstreamBytes, downBefore = relay.DownstreamBytes, pollsBefore = feed.Polls;
            int connectionsBefore = relay.Connections;
            TimeSpan cpuBefore = Process.GetCurrentProcess().TotalProcessorTime;
            long started = Stopwatch.GetTimestamp();
            for (int published = 0; published < messages;)
            {
                int due = Math.Min(messages, (int)(Stopwatch.GetElapsedTime(started).TotalSeconds * rate) + 1);
                while (published < due)
                {
                    feed.Publish(Stopwatch.GetTimestamp(), BodyBytes);
                    published++;
                }

                await Task.Delay(Tick, cancellationToken).ConfigureAwait(false);
            }

            int last = feed.Last;
            await Task.WhenAll(clients.Select(client => client.Receiver.Reached(last))).WaitAsync(DrainDeadline, cancellationToken).ConfigureAwait(false);
            TimeSpan cpu = Process.GetCurrentProcess().TotalProcessorTime - cpuBefore;
            long deliveries = (long)messages * sizes.Clients;
            List<double> latencies = [.. clients.SelectMany(client => client.Receiver.LatenciesUs())];
            return new Row(
                transport, rate, sizes.Clients, messages, latencies.Count,
                (relay.UpstreamBytes - upBefore) / (double)deliveries, (relay.DownstreamBytes - downBefore) / (double)deliveries,
                cpu.TotalMicroseconds / deliveries, (feed.Polls - pollsBefore) / (double)deliveries,
                relay.Connections - connectionsBefore, relay.Connections,
                Pacing.Percentile(latencies, 0.50) / 1000, Pacing.Percentile(latencies, 0.99) / 1000,
                clients.Sum(client => client.Receiver.Duplicates), clients.Sum(client => client.Receiver.Gaps), feed.Dropped);
        }
        finally
        {
            foreach (PushClient client in clients)
            {
                await client.DisposeAsync().ConfigureAwait(false);
            }
        }
    }

    private sealed record Sizes(double[] Rates, int Clients, double Seconds)
    {
        public static readonly Sizes Full = new([2, 20, 200, 1_000], 50, 5);

        public static readonly Sizes Quick = new([5, 1_000], 10, 1.5);
    }

    /// <summary>One transport at one rate: per delivered message, bytes each way, CPU and polls; connections; latency in ms.</summary>
    private sealed record Row(
        PushTransport Transport, double Rate, int Clients, int Messages, int Delivered, double UpBytes, double DownBytes, double CpuUs, double PollsPerMessage,
        int ConnectionsDuringRun, int Connections, double P50Ms, double P99Ms, long Duplicates, long Gaps, long Dropped)
    {
        public double Bytes => UpBytes + DownBytes;
    }
}
