using System.Buffers;
using System.Buffers.Binary;
using System.Diagnostics;
using System.Globalization;
using Blueprint.Bench;
using HdrHistogram;
using MQTTnet;
using MQTTnet.Formatter;
using MQTTnet.Protocol;

namespace Blueprint.MqttLoad;

/// <summary>What one fan-out run measured.</summary>
/// <param name="Published">Publishes sent in the measured window.</param>
/// <param name="Expected">Their deliveries if none is lost: <paramref name="Published"/> × subscribers.</param>
/// <param name="Delivered">Deliveries of those publishes that arrived (up to the drain's end).</param>
/// <param name="DeliveriesPerSecond">Every subscriber's receipts within the measured window, per second: the fan-out throughput.</param>
/// <param name="PublishesPerSecond">Publishes sent in the measured window, per second.</param>
/// <param name="P50Microseconds">Median time from send to receipt of the window's publishes.</param>
/// <param name="P99Microseconds">99th percentile of it.</param>
/// <param name="MaxMicroseconds">The longest of it.</param>
/// <param name="Errors">Publishes that failed or were not acknowledged with success.</param>
/// <param name="FirstError">The first failure's text, or null.</param>
internal sealed record FanOutResult(
    long Published, long Expected, long Delivered, double DeliveriesPerSecond, double PublishesPerSecond,
    long P50Microseconds, long P99Microseconds, long MaxMicroseconds, long Errors, string? FirstError);

/// <summary>
/// One publisher and many subscribers on one topic, each its own MQTT connection: the subscribers connect and subscribe
/// first, the publisher runs for the warm-up and the measured window, then the run waits (at most <see cref="Drain"/>)
/// for the window's deliveries still on their way.
/// </summary>
internal static class FanOut
{
    /// <summary>How long the run waits after the publisher stops for deliveries still on their way.</summary>
    public static readonly TimeSpan Drain = TimeSpan.FromSeconds(10);

    /// <summary>Runs the load.</summary>
    public static async Task<FanOutResult> RunAsync(LoadOptions options, CancellationToken cancellationToken)
    {
        var factory = new MqttClientFactory();
        var run = $"{Environment.ProcessId.ToString(CultureInfo.InvariantCulture)}-{Stopwatch.GetTimestamp().ToString(CultureInfo.InvariantCulture)}";
        var subscribers = new List<Subscriber>();
        var publisher = factory.CreateMqttClient();
        try
        {
            for (var i = 0; i < options.Subscribers; i++)
            {
                var subscriber = new Subscriber(factory.CreateMqttClient());
                subscribers.Add(subscriber);
                await subscriber.Client.ConnectAsync(ClientOptions(options, $"bench-sub-{i}-{run}"), cancellationToken).ConfigureAwait(false);
                var subscription = factory.CreateSubscribeOptionsBuilder()
                    .WithTopicFilter(options.Topic, (MqttQualityOfServiceLevel)options.Qos)
                    .Build();
                await subscriber.Client.SubscribeAsync(subscription, cancellationToken).ConfigureAwait(false);
            }

            await publisher.ConnectAsync(ClientOptions(options, $"bench-pub-{run}"), cancellationToken).ConfigureAwait(false);
            var start = Stopwatch.GetTimestamp();
            var from = start + (long)(options.Warmup.TotalSeconds * Stopwatch.Frequency);
            var to = from + (long)(options.Duration.TotalSeconds * Stopwatch.Frequency);
            foreach (var subscriber in subscribers)
            {
                subscriber.Window.Set(from, to);
            }

            using var publishing = new Publisher(publisher, options);
            await publishing.RunAsync(start, from, to, cancellationToken).ConfigureAwait(false);

            var expected = publishing.PublishedInWindow * options.Subscribers;
            var drainUntil = Stopwatch.GetTimestamp() + (long)(Drain.TotalSeconds * Stopwatch.Frequency);
            while (subscribers.Sum(subscriber => subscriber.DeliveredOfWindow) < expected && Stopwatch.GetTimestamp() < drainUntil)
            {
                await Task.Delay(10, cancellationToken).ConfigureAwait(false);
            }

            var latency = MeasuredWindow.NewHistogram();
            foreach (var subscriber in subscribers)
            {
                subscriber.Window.AddLatencyTo(latency);
            }

            var seconds = options.Duration.TotalSeconds;
            return new FanOutResult(
                publishing.PublishedInWindow,
                expected,
                subscribers.Sum(subscriber => subscriber.DeliveredOfWindow),
                subscribers.Sum(subscriber => subscriber.ReceivedInWindow) / seconds,
                publishing.PublishedInWindow / seconds,
                latency.TotalCount > 0 ? latency.GetValueAtPercentile(50) : 0,
                latency.TotalCount > 0 ? latency.GetValueAtPercentile(99) : 0,
                latency.TotalCount > 0 ? latency.GetMaxValue() : 0,
                publishing.Errors,
                publishing.FirstError);
        }
        finally
        {
            foreach (var client in subscribers.Select(subscriber => subscriber.Client).Append(publisher))
            {
                if (client.IsConnected)
                {
                    await client.DisconnectAsync(new MqttClientDisconnectOptions(), CancellationToken.None).ConfigureAwait(false);
                }

                client.Dispose();
            }
        }
    }

    private static MqttClientOptions ClientOptions(LoadOptions options, string clientId) =>
        new MqttClientOptionsBuilder()
            .WithTcpServer(options.Host, options.Port)
            .WithProtocolVersion(options.MqttVersion == 5 ? MqttProtocolVersion.V500 : MqttProtocolVersion.V311)
            .WithClientId(clientId)
            .WithCleanSession(true)
            .WithTimeout(TimeSpan.FromSeconds(30))
            .Build();

    /// <summary>One subscriber: counts what it receives and records the latency of the measured window's messages.</summary>
    private sealed class Subscriber
    {
        private long _receivedInWindow;
        private long _deliveredOfWindow;

        /// <summary>Wraps <paramref name="client"/> and counts its messages.</summary>
        public Subscriber(IMqttClient client)
        {
            Client = client;
            client.ApplicationMessageReceivedAsync += e =>
            {
                OnMessage(e.ApplicationMessage.Payload);
                return Task.CompletedTask;
            };
        }

        /// <summary>The connection.</summary>
        public IMqttClient Client { get; }

        /// <summary>The measured window and the latency of its messages.</summary>
        public MeasuredWindow Window { get; } = new();

        /// <summary>Messages received within the measured window (by receipt time).</summary>
        public long ReceivedInWindow => Interlocked.Read(ref _receivedInWindow);

        /// <summary>Messages received that were sent within the measured window.</summary>
        public long DeliveredOfWindow => Interlocked.Read(ref _deliveredOfWindow);

        private void OnMessage(ReadOnlySequence<byte> payload)
        {
            var now = Stopwatch.GetTimestamp();
            Span<byte> stamp = stackalloc byte[sizeof(long)];
            payload.Slice(0, sizeof(long)).CopyTo(stamp);
            var sent = BinaryPrimitives.ReadInt64LittleEndian(stamp);
            if (Window.Contains(now))
            {
                Interlocked.Increment(ref _receivedInWindow);
            }

            if (Window.Contains(sent))
            {
                Interlocked.Increment(ref _deliveredOfWindow);
                Window.Record(sent, now);
            }
        }
    }

    /// <summary>The publisher: flat out with a window of publishes in flight, or paced at a rate.</summary>
    private sealed class Publisher(IMqttClient client, LoadOptions options) : IDisposable
    {
        private readonly SemaphoreSlim _window = new(options.Window, options.Window);
        private long _publishedInWindow;
        private long _errors;
        private string? _firstError;

        /// <summary>Publishes whose send time fell in the measured window.</summary>
        public long PublishedInWindow => Interlocked.Read(ref _publishedInWindow);

        /// <summary>Failed publishes.</summary>
        public long Errors => Interlocked.Read(ref _errors);

        /// <summary>The first failure's text.</summary>
        public string? FirstError => Volatile.Read(ref _firstError);

        /// <summary>Publishes from <paramref name="start"/> until <paramref name="to"/>, then waits for those in flight.</summary>
        public Task RunAsync(long start, long from, long to, CancellationToken cancellationToken) =>
            Pacer.RunAsync(options.Rate, _window, options.Window, start, to, sequence => _ = PublishAsync(from, to), cancellationToken);

        private async Task PublishAsync(long from, long to)
        {
            try
            {
                var payload = new byte[options.PayloadBytes];
                var sent = Stopwatch.GetTimestamp();
                BinaryPrimitives.WriteInt64LittleEndian(payload, sent);
                if (sent >= from && sent < to)
                {
                    Interlocked.Increment(ref _publishedInWindow);
                }

                var message = new MqttApplicationMessageBuilder()
                    .WithTopic(options.Topic)
                    .WithPayload(payload)
                    .WithQualityOfServiceLevel((MqttQualityOfServiceLevel)options.Qos)
                    .Build();
                var result = await client.PublishAsync(message, CancellationToken.None).ConfigureAwait(false);
                if (!result.IsSuccess)
                {
                    Fail($"publish answered {result.ReasonCode}");
                }
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                Fail($"{e.GetType().Name}: {e.Message}");
            }
            finally
            {
                _window.Release();
            }
        }

        /// <inheritdoc />
        public void Dispose() => _window.Dispose();

        private void Fail(string error)
        {
            Interlocked.Increment(ref _errors);
            Interlocked.CompareExchange(ref _firstError, error, null);
        }
    }
}
