using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Threading.Channels;
using System.Xml.Linq;

using Blueprint.Lab.Experiments.Messaging;
using Blueprint.Lab.Processes;

using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace Blueprint.Lab.Experiments;

/// <summary>
/// Delivery latency of one topic's notifications as its fan-out grows: a <c>blueprint run --modules log,notify</c> node
/// process, topics and subscriptions made over its SNS-compatible API, every subscriber an <c>http</c> webhook on one
/// Kestrel receiver in the lab process (each confirmed by a GET on the SubscribeURL it was sent). A message is published
/// with SNS Publish; the time from the call to its first and to its last webhook arrival is measured per message.
/// </summary>
public sealed class NotificationFanOutExperiment : AsyncExperiment
{
    private const string ExperimentName = "notification-fanout";

    /// <summary>How many subscribe calls run at once.</summary>
    private const int SetupParallelism = 8;

    /// <summary>The tolerance of "grows linearly": time to last ÷ fan-out between the two largest fan-outs within this factor.</summary>
    private const double LinearFactor = 2.0;

    /// <summary>The tolerance of "stays flat": time to first at the largest fan-out within this factor of fan-out 1's.</summary>
    private const double FlatFactor = 3.0;

    private static readonly TimeSpan RunDeadline = TimeSpan.FromMinutes(10);

    /// <summary>How long every delivery of one message may take.</summary>
    private static readonly TimeSpan MessageDeadline = TimeSpan.FromSeconds(60);

    /// <inheritdoc/>
    public override string Name => ExperimentName;

    /// <inheritdoc/>
    public override string Description => "Publish → webhook delivery through a notify node as one topic's fan-out grows: time to first and to last delivery, deliveries/s.";

    /// <inheritdoc/>
    protected override async Task<ExperimentResult> RunAsync(ExperimentOptions options, IProgress<double> progress)
    {
        ArgumentNullException.ThrowIfNull(options);
        Sizes sizes = options.Quick ? Sizes.Quick : Sizes.Full;
        using CancellationTokenSource deadline = new(RunDeadline);
        CancellationToken cancellationToken = deadline.Token;
        using NotifyNodeProcess node = await NotifyNodeProcess.StartAsync(options.Environment, cancellationToken).ConfigureAwait(false);
        Receiver receiver = new();
        await using LoopbackWebHost host = await LoopbackWebHost.StartAsync(receiver.Map, cancellationToken).ConfigureAwait(false);
        using HttpClient sns = new() { BaseAddress = node.SnsAddress };
        ProgressSteps steps = new(progress, sizes.FanOuts.Length);
        List<Row> rows = [];
        foreach (int fanOut in sizes.FanOuts)
        {
            rows.Add(await MeasureAsync(sns, host, receiver, fanOut, sizes.Messages, cancellationToken).ConfigureAwait(false));
            steps.Step();
        }

        return Report(sizes, rows);
    }

    private static async Task<Row> MeasureAsync(HttpClient sns, LoopbackWebHost host, Receiver receiver, int fanOut, int messages, CancellationToken cancellationToken)
    {
        string topicArn = Element(await CallAsync(sns, cancellationToken, ("Action", "CreateTopic"), ("Name", $"fanout-{fanOut}")).ConfigureAwait(false), "TopicArn");
        await Parallel.ForEachAsync(Enumerable.Range(0, fanOut), new ParallelOptions { MaxDegreeOfParallelism = SetupParallelism, CancellationToken = cancellationToken }, async (i, token) =>
            _ = await CallAsync(sns, token, ("Action", "Subscribe"), ("TopicArn", topicArn), ("Protocol", "http"),
                ("Endpoint", new Uri(host.BaseAddress, $"hook/{fanOut}/{i}").ToString())).ConfigureAwait(false)).ConfigureAwait(false);

        // Each endpoint was sent a SubscriptionConfirmation with a SubscribeURL.
        using CancellationTokenSource confirming = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        confirming.CancelAfter(MessageDeadline);
        string[] urls = new string[fanOut];
        for (int i = 0; i < fanOut; i++)
        {
            urls[i] = await receiver.Confirmations.ReadAsync(confirming.Token).ConfigureAwait(false);
        }

        // Each is confirmed as a receiver would: a GET on its SubscribeURL (SNS's ConfirmSubscription with the token).
        foreach (string url in urls)
        {
            using HttpResponseMessage response = await sns.GetAsync(new Uri(url), cancellationToken).ConfigureAwait(false);
            string body = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
            _ = response.IsSuccessStatusCode ? body : throw new InvalidOperationException($"confirming {url} answered {(int)response.StatusCode}: {body}");
        }

        List<double> firstMs = [];
        List<double> lastMs = [];
        long delivered = 0;
        long duplicates = 0;
        for (int k = 0; k < messages; k++)
        {
            string text = $"{fanOut}:{k}";
            Deliveries deliveries = receiver.Expect(text, fanOut);
            long published = Stopwatch.GetTimestamp();
            _ = await CallAsync(sns, cancellationToken, ("Action", "Publish"), ("TopicArn", topicArn), ("Message", text)).ConfigureAwait(false);
            (long first, long last) = await deliveries.AllArrived.WaitAsync(MessageDeadline, cancellationToken).ConfigureAwait(false);
            firstMs.Add(Stopwatch.GetElapsedTime(published, first).TotalMilliseconds);
            lastMs.Add(Stopwatch.GetElapsedTime(published, last).TotalMilliseconds);
            delivered += deliveries.Subscribers;
            duplicates += deliveries.Duplicates;
        }

        // Late duplicates would arrive after the last first delivery; a short wait lets them show.
        await Task.Delay(TimeSpan.FromMilliseconds(200), cancellationToken).ConfigureAwait(false);
        duplicates = receiver.DuplicatesOf(fanOut);
        return new Row(fanOut, messages, (long)fanOut * messages, delivered, duplicates,
            Pacing.Percentile(firstMs, 0.50), Pacing.Percentile(firstMs, 0.99), Pacing.Percentile(lastMs, 0.50), Pacing.Percentile(lastMs, 0.99),
            delivered / (lastMs.Sum() / 1000));
    }

    private static async Task<string> CallAsync(HttpClient sns, CancellationToken cancellationToken, params (string Key, string Value)[] form)
    {
        using FormUrlEncodedContent content = new(form.Select(pair => KeyValuePair.Create(pair.Key, pair.Value)));
        using HttpResponseMessage response = await sns.PostAsync(new Uri("/", UriKind.Relative), content, cancellationToken).ConfigureAwait(false);
        string body = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
        return response.IsSuccessStatusCode ? body : throw new InvalidOperationException($"SNS {form[0].Value} answered {(int)response.StatusCode}: {body}");
    }

    private static string Element(string xml, string name) =>
        XDocument.Parse(xml).Descendants().First(element => element.Name.LocalName == name).Value;

    private static ExperimentResult Report(Sizes sizes, IReadOnlyList<Row> rows)
    {
        Row smallest = rows[0];
        Row widest = rows[^1];
        Row below = rows[^2];
        double growth = widest.LastP50Ms / below.LastP50Ms;
        double fanOutRatio = widest.FanOut / (double)below.FanOut;
        double firstRatio = widest.FirstP50Ms / smallest.FirstP50Ms;
        string fanOuts = string.Join(", ", rows.Select(row => row.FanOut));

        List<Claim> claims =
        [
            new("every-subscriber-once", "A topic delivers each message to every confirmed subscriber.",
                $"for fan-outs {fanOuts}, {sizes.Messages} messages each: fan-out × messages webhook deliveries, none twice",
                string.Join("; ", rows.Select(row => $"{row.FanOut}: {Fmt.Int(row.Delivered)} of {Fmt.Int(row.Expected)}, {Fmt.Int(row.Duplicates)} duplicates")),
                rows.All(row => row.Delivered == row.Expected && row.Duplicates == 0)),
            new("last-grows-linearly", "Time to last delivery grows roughly linearly with fan-out.",
                $"p50 time to last delivery from fan-out {below.FanOut} to {widest.FanOut} grows by the fan-out's ratio ({Fmt.Num(fanOutRatio, 0)}×) within a factor {Fmt.Num(LinearFactor, 0)}",
                $"{Fmt.Num(below.LastP50Ms, 1)} ms → {Fmt.Num(widest.LastP50Ms, 1)} ms ({Fmt.Num(growth, 1)}×); deliveries/s {Fmt.Int((long)below.DeliveriesPerSecond)} → {Fmt.Int((long)widest.DeliveriesPerSecond)}",
                growth >= fanOutRatio / LinearFactor && growth <= fanOutRatio * LinearFactor),
            new("first-stays-flat", "Time to first delivery stays flat as fan-out grows.",
                $"p50 time to first delivery at fan-out {widest.FanOut} within {Fmt.Num(FlatFactor, 0)}× of fan-out {smallest.FanOut}'s",
                $"{Fmt.Num(smallest.FirstP50Ms, 1)} ms → {Fmt.Num(widest.FirstP50Ms, 1)} ms ({Fmt.Num(firstRatio, 1)}×)",
                firstRatio <= FlatFactor),
        ];

        ResultTable table = new($"Publish → webhook arrival, {sizes.Messages} messages per fan-out, one at a time",
            ["fan-out", "deliveries", "duplicates", "first p50 ms", "first p99 ms", "last p50 ms", "last p99 ms", "deliveries/s"],
            [.. rows.Select(row => (IReadOnlyList<string>)[
                Fmt.Int(row.FanOut), $"{Fmt.Int(row.Delivered)} of {Fmt.Int(row.Expected)}", Fmt.Int(row.Duplicates), Fmt.Num(row.FirstP50Ms, 1), Fmt.Num(row.FirstP99Ms, 1),
                Fmt.Num(row.LastP50Ms, 1), Fmt.Num(row.LastP99Ms, 1), Fmt.Int((long)row.DeliveriesPerSecond)])]);
        string summary = $"A blueprint node process (--modules log,notify, its default delivery concurrency) with one topic per fan-out ({fanOuts}); every "
            + "subscriber is an http webhook on one Kestrel receiver in the lab process, confirmed by a GET on its SubscribeURL. Each message is published "
            + "with SNS Publish and the next one only after every delivery arrived; times run from the Publish call (which returns once the message is "
            + "durable) to the first and to the last webhook request. Deliveries/s is the deliveries over the summed time to last delivery.";
        PlotSpec plot = new("Publish → delivery as fan-out grows", "subscribers", "ms (p50)",
        [
            new PlotSeries("time to first delivery", [.. rows.Select(row => (double)row.FanOut)], [.. rows.Select(row => row.FirstP50Ms)], Markers: true),
            new PlotSeries("time to last delivery", [.. rows.Select(row => (double)row.FanOut)], [.. rows.Select(row => row.LastP50Ms)], Markers: true),
        ]);
        return new ExperimentResult(ExperimentName, summary, claims, [table], plot);
    }

    private sealed record Sizes(int[] FanOuts, int Messages)
    {
        public static readonly Sizes Full = new([1, 10, 100, 1_000], 20);

        public static readonly Sizes Quick = new([1, 10, 50], 5);
    }

    private sealed record Row(
        int FanOut, int Messages, long Expected, long Delivered, long Duplicates, double FirstP50Ms, double FirstP99Ms, double LastP50Ms, double LastP99Ms,
        double DeliveriesPerSecond);

    /// <summary>The arrivals of one message: who got it, when the first and the last came.</summary>
    private sealed class Deliveries(int expected)
    {
        private readonly ConcurrentDictionary<int, byte> _subscribers = new();
        private readonly TaskCompletionSource<(long First, long Last)> _all = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private long _first;
        private long _duplicates;

        public Task<(long First, long Last)> AllArrived => _all.Task;

        public int Subscribers => _subscribers.Count;

        public long Duplicates => Interlocked.Read(ref _duplicates);

        public void Add(int subscriber)
        {
            long now = Stopwatch.GetTimestamp();
            _ = Interlocked.CompareExchange(ref _first, now, 0);
            if (!_subscribers.TryAdd(subscriber, 0))
            {
                _ = Interlocked.Increment(ref _duplicates);
            }
            else if (_subscribers.Count == expected)
            {
                _ = _all.TrySetResult((Interlocked.Read(ref _first), now));
            }
        }
    }

    /// <summary>The webhook endpoints: confirmations queued for the experiment to confirm, notifications counted per message.</summary>
    private sealed class Receiver
    {
        private readonly ConcurrentDictionary<string, Deliveries> _messages = new();
        private readonly Channel<string> _confirmations = Channel.CreateUnbounded<string>();

        public ChannelReader<string> Confirmations => _confirmations.Reader;

        public Deliveries Expect(string message, int subscribers) => _messages[message] = new Deliveries(subscribers);

        public long DuplicatesOf(int fanOut) =>
            _messages.Where(pair => pair.Key.StartsWith($"{fanOut.ToString(CultureInfo.InvariantCulture)}:", StringComparison.Ordinal)).Sum(pair => pair.Value.Duplicates);

        public void Map(WebApplication app) => app.MapPost("/hook/{fanOut:int}/{subscriber:int}", ReceiveAsync);

        private async Task<IResult> ReceiveAsync(int fanOut, int subscriber, HttpRequest request)
        {
            using JsonDocument body = await JsonDocument.ParseAsync(request.Body).ConfigureAwait(false);
            string type = request.Headers["x-amz-sns-message-type"].ToString();
            if (type == "SubscriptionConfirmation")
            {
                _ = _confirmations.Writer.TryWrite(body.RootElement.GetProperty("SubscribeURL").GetString() ?? "");
            }
            else if (type == "Notification" && _messages.TryGetValue(body.RootElement.GetProperty("Message").GetString() ?? "", out Deliveries? deliveries))
            {
                deliveries.Add(subscriber);
            }

            return Results.Ok();
        }
    }
}
