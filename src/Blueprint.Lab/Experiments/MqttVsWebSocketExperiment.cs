using System.Diagnostics;

using Blueprint.Lab.Experiments.Messaging;
using Blueprint.Lab.Experiments.Notify;
using Blueprint.Lab.Processes;

namespace Blueprint.Lab.Experiments;

/// <summary>
/// Small telemetry readings over MQTT 5 (MQTTnet's client to MQTTnet's broker, QoS 0 and 1) against WebSocket frames
/// (.NET's <c>ClientWebSocket</c> to a hub on Kestrel that forwards each frame from a publisher to every subscriber).
/// Both servers run in the lab process, so the comparison is of the protocols and not of two processes; the notify
/// module's broker is the same MQTTnet server. Every connection goes through a counting TCP relay on loopback, first
/// clean (bytes and latency per message), then, on the publisher's link, with added latency and resets at random
/// moments (delivery ratio and latency when the link breaks).
/// </summary>
public sealed partial class MqttVsWebSocketExperiment : AsyncExperiment
{
    private const string ExperimentName = "mqtt-vs-websocket";

    /// <summary>Readings sent before measuring, to warm up the code paths.</summary>
    private const int WarmUpMessages = 20;

    /// <summary>The lowest and highest pause between two resets of the lossy link, in milliseconds.</summary>
    private const int ResetPauseMinMs = 100;

    private const int ResetPauseMaxMs = 400;

    /// <summary>The reading size in the lossy-link runs.</summary>
    private const int LossyReadingBytes = 32;

    private static readonly TimeSpan RunDeadline = TimeSpan.FromMinutes(5);

    /// <summary>How long one reading may take to arrive on the clean link.</summary>
    private static readonly TimeSpan ArrivalDeadline = TimeSpan.FromSeconds(5);

    /// <summary>How long the relays must be quiet before their counters are read (the last acknowledgements crossed).</summary>
    private static readonly TimeSpan Settle = TimeSpan.FromMilliseconds(200);

    /// <summary>The latency the lossy link adds each way.</summary>
    private static readonly TimeSpan LossyLatency = TimeSpan.FromMilliseconds(10);

    /// <summary>The pause before a sender retries after the link broke.</summary>
    private static readonly TimeSpan RetryPause = TimeSpan.FromMilliseconds(5);

    /// <summary>How long a lossy run waits for late arrivals once nothing more arrives.</summary>
    private static readonly TimeSpan Quiet = TimeSpan.FromSeconds(1);

    private static readonly TelemetryVariant[] WireVariants =
        [TelemetryVariant.MqttQos0, TelemetryVariant.MqttQos1, TelemetryVariant.WebSocketRaw, TelemetryVariant.WebSocketEnvelope];

    private static readonly TelemetryVariant[] LossyVariants =
        [TelemetryVariant.MqttQos0, TelemetryVariant.MqttQos1, TelemetryVariant.WebSocketEnvelope];

    /// <inheritdoc/>
    public override string Name => ExperimentName;

    /// <inheritdoc/>
    public override string Description => "Small telemetry over MQTT 5 (QoS 0, QoS 1) vs WebSocket frames: bytes on the wire and latency per message through a counting relay, then delivery over a slow link that breaks.";

    /// <inheritdoc/>
    protected override async Task<ExperimentResult> RunAsync(ExperimentOptions options, IProgress<double> progress)
    {
        ArgumentNullException.ThrowIfNull(options);
        Sizes sizes = options.Quick ? Sizes.Quick : Sizes.Full;
        using CancellationTokenSource deadline = new(RunDeadline);
        CancellationToken cancellationToken = deadline.Token;
        await using TelemetryServers servers = await TelemetryServers.StartAsync(cancellationToken).ConfigureAwait(false);
        ProgressSteps steps = new(progress, (WireVariants.Length * sizes.ReadingBytes.Length) + LossyVariants.Length);

        List<WireRow> wire = [];
        foreach (TelemetryVariant variant in WireVariants)
        {
            foreach (int size in sizes.ReadingBytes)
            {
                wire.Add(await MeasureWireAsync(servers, variant, size, sizes.WireMessages, cancellationToken).ConfigureAwait(false));
                steps.Step();
            }
        }

        List<LossyRow> lossy = [];
        foreach (TelemetryVariant variant in LossyVariants)
        {
            lossy.Add(await MeasureLossyAsync(servers, variant, sizes, new Random(options.Seed + (int)variant), cancellationToken).ConfigureAwait(false));
            steps.Step();
        }

        return Report(sizes, wire, lossy);
    }

    private static int ServerPort(TelemetryServers servers, TelemetryVariant variant) =>
        Telemetry.IsMqtt(variant) ? servers.MqttPort : servers.WebSocketPort;

    private static async Task<WireRow> MeasureWireAsync(TelemetryServers servers, TelemetryVariant variant, int size, int messages, CancellationToken cancellationToken)
    {
        int port = ServerPort(servers, variant);
        await using LoopbackRelay publisherLink = LoopbackRelay.Start(port);
        await using LoopbackRelay subscriberLink = LoopbackRelay.Start(port);
        Arrivals arrivals = new();
        await using IAsyncDisposable subscriber = await TelemetryServers.SubscribeAsync(variant, subscriberLink.Port, arrivals, cancellationToken).ConfigureAwait(false);
        await using ITelemetryPublisher publisher = TelemetryServers.Publisher(variant, publisherLink.Port);
        await publisher.EnsureConnectedAsync(cancellationToken).ConfigureAwait(false);
        await QuietAsync(publisherLink, subscriberLink, cancellationToken).ConfigureAwait(false);
        long setup = Total(publisherLink) + Total(subscriberLink);

        // Warm-up: the first may be sent before the hub has registered the subscriber, so a lost one is not waited for.
        for (int i = 0; i < WarmUpMessages; i++)
        {
            _ = await SendAndWaitAsync(publisher, arrivals, i, size, cancellationToken).ConfigureAwait(false);
        }

        await QuietAsync(publisherLink, subscriberLink, cancellationToken).ConfigureAwait(false);
        long[] before = [publisherLink.UpstreamBytes, publisherLink.DownstreamBytes, subscriberLink.DownstreamBytes, subscriberLink.UpstreamBytes];
        List<double> latenciesUs = new(messages);
        for (int i = WarmUpMessages; i < WarmUpMessages + messages; i++)
        {
            double? latency = await SendAndWaitAsync(publisher, arrivals, i, size, cancellationToken).ConfigureAwait(false);
            latenciesUs.Add(latency ?? throw new TimeoutException($"{Telemetry.Label(variant)}: reading {i} did not arrive within {ArrivalDeadline.TotalSeconds:F0} s on a clean link"));
        }

        await QuietAsync(publisherLink, subscriberLink, cancellationToken).ConfigureAwait(false);
        long[] after = [publisherLink.UpstreamBytes, publisherLink.DownstreamBytes, subscriberLink.DownstreamBytes, subscriberLink.UpstreamBytes];
        double[] perMessage = [.. after.Zip(before, (a, b) => (a - b) / (double)messages)];
        return new WireRow(variant, size, setup, perMessage[0], perMessage[1], perMessage[2], perMessage[3],
            Pacing.Percentile(latenciesUs, 0.50), Pacing.Percentile(latenciesUs, 0.99), arrivals.Duplicates);
    }

    private static long Total(LoopbackRelay relay) => relay.UpstreamBytes + relay.DownstreamBytes;

    /// <summary>
    /// Waits until neither relay has forwarded a byte for <see cref="Settle"/> (the last acknowledgements crossed, the
    /// counters final), or <see cref="ArrivalDeadline"/> passed.
    /// </summary>
    private static async Task QuietAsync(LoopbackRelay publisherLink, LoopbackRelay subscriberLink, CancellationToken cancellationToken)
    {
        long waited = Stopwatch.GetTimestamp();
        long bytes = Total(publisherLink) + Total(subscriberLink);
        long since = Stopwatch.GetTimestamp();
        while (Stopwatch.GetElapsedTime(since) < Settle && Stopwatch.GetElapsedTime(waited) < ArrivalDeadline)
        {
            await Task.Delay(Settle / 10, cancellationToken).ConfigureAwait(false);
            long now = Total(publisherLink) + Total(subscriberLink);
            if (now != bytes)
            {
                bytes = now;
                since = Stopwatch.GetTimestamp();
            }
        }
    }

    /// <summary>Sends one reading and waits for it: its latency in microseconds, or null when it did not arrive in time.</summary>
    private static async Task<double?> SendAndWaitAsync(ITelemetryPublisher publisher, Arrivals arrivals, int sequence, int size, CancellationToken cancellationToken)
    {
        Task<long> arrived = arrivals.WaitFor(sequence);
        long sent = Stopwatch.GetTimestamp();
        await publisher.SendAsync(Telemetry.Reading(sequence, size), cancellationToken).ConfigureAwait(false);
        try
        {
            long at = await arrived.WaitAsync(ArrivalDeadline, cancellationToken).ConfigureAwait(false);
            return Stopwatch.GetElapsedTime(sent, at).TotalMicroseconds;
        }
        catch (TimeoutException)
        {
            return null;
        }
    }

    private static async Task<LossyRow> MeasureLossyAsync(TelemetryServers servers, TelemetryVariant variant, Sizes sizes, Random random, CancellationToken cancellationToken)
    {
        int port = ServerPort(servers, variant);
        await using LoopbackRelay publisherLink = LoopbackRelay.Start(port);
        await using LoopbackRelay subscriberLink = LoopbackRelay.Start(port);
        publisherLink.Latency = LossyLatency;
        Arrivals arrivals = new();
        await using IAsyncDisposable subscriber = await TelemetryServers.SubscribeAsync(variant, subscriberLink.Port, arrivals, cancellationToken).ConfigureAwait(false);
        await using ITelemetryPublisher publisher = TelemetryServers.Publisher(variant, publisherLink.Port);
        await publisher.EnsureConnectedAsync(cancellationToken).ConfigureAwait(false);

        // The hub registers a subscriber just after its upgrade; one reading that arrives shows it is in place.
        int first = -1;
        _ = await SendAndWaitAsync(publisher, arrivals, first, LossyReadingBytes, cancellationToken).ConfigureAwait(false);

        int count = sizes.LossyMessages;
        long[] firstAttempt = new long[count];
        int failures = 0;
        using CancellationTokenSource stopResets = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        Task resetting = ResetAtRandomAsync(publisherLink, random, stopResets.Token);
        List<Task> sends = new(count);
        long started = Stopwatch.GetTimestamp();
        for (int i = 0; i < count; i++)
        {
            TimeSpan wait = TimeSpan.FromSeconds(i / sizes.LossyRatePerSecond) - Stopwatch.GetElapsedTime(started);
            if (wait > TimeSpan.FromMilliseconds(1))
            {
                await Task.Delay(wait, cancellationToken).ConfigureAwait(false);
            }

            firstAttempt[i] = Stopwatch.GetTimestamp();
            sends.Add(DeliverAsync(publisher, i, () => Interlocked.Increment(ref failures), cancellationToken));
        }

        await Task.WhenAll(sends).ConfigureAwait(false);
        await stopResets.CancelAsync().ConfigureAwait(false);
        await resetting.ConfigureAwait(false);
        while (arrivals.Distinct < count + 1 && Stopwatch.GetElapsedTime(arrivals.LastArrival) < Quiet)
        {
            await Task.Delay(TimeSpan.FromMilliseconds(20), cancellationToken).ConfigureAwait(false);
        }

        List<double> latenciesMs = [.. Enumerable.Range(0, count)
            .Where(arrivals.First.ContainsKey)
            .Select(i => Stopwatch.GetElapsedTime(firstAttempt[i], arrivals.First[i]).TotalMilliseconds)];
        return new LossyRow(variant, count, latenciesMs.Count, arrivals.Duplicates, publisherLink.Resets, publisher.Connects - 1, failures,
            Pacing.Percentile(latenciesMs, 0.50), Pacing.Percentile(latenciesMs, 0.99));
    }

    /// <summary>Sends one reading until a send succeeds: reconnecting after each failure, as any client of a link that breaks must.</summary>
    private static async Task DeliverAsync(ITelemetryPublisher publisher, int sequence, Action failed, CancellationToken cancellationToken)
    {
        byte[] reading = Telemetry.Reading(sequence, LossyReadingBytes);
        while (true)
        {
            try
            {
                await publisher.EnsureConnectedAsync(cancellationToken).ConfigureAwait(false);
                await publisher.SendAsync(reading, cancellationToken).ConfigureAwait(false);
                return;
            }
            catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
            {
                failed();
                await Task.Delay(RetryPause, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    private static async Task ResetAtRandomAsync(LoopbackRelay link, Random random, CancellationToken cancellationToken)
    {
        try
        {
            while (true)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(random.Next(ResetPauseMinMs, ResetPauseMaxMs + 1)), cancellationToken).ConfigureAwait(false);
                _ = link.ResetAll();
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    private sealed record Sizes(int[] ReadingBytes, int WireMessages, int LossyMessages, double LossyRatePerSecond)
    {
        public static readonly Sizes Full = new([16, 32, 64], 1_000, 2_000, 200);

        public static readonly Sizes Quick = new([16, 64], 100, 300, 200);
    }

    /// <summary>Bytes per reading on each hop (publisher to server and back, server to subscriber and back) and its latency.</summary>
    private sealed record WireRow(
        TelemetryVariant Variant, int Size, long SetupBytes, double PublisherUp, double PublisherDown, double SubscriberDown, double SubscriberUp,
        double P50Us, double P99Us, long Duplicates)
    {
        public double Total => PublisherUp + PublisherDown + SubscriberDown + SubscriberUp;
    }

    private sealed record LossyRow(
        TelemetryVariant Variant, int Sent, int Delivered, long Duplicates, int Resets, int Reconnects, int SendFailures, double P50Ms, double P99Ms)
    {
        public double Ratio => Delivered / (double)Sent;
    }
}
