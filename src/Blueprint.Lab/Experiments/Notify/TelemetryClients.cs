using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Net.WebSockets;

using Blueprint.Lab.Processes;

using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

using MQTTnet;
using MQTTnet.Formatter;
using MQTTnet.Protocol;
using MQTTnet.Server;

namespace Blueprint.Lab.Experiments.Notify;

/// <summary>A sender of readings over one connection that it re-opens when the link broke.</summary>
internal interface ITelemetryPublisher : IAsyncDisposable
{
    /// <summary>Gets how many times it connected.</summary>
    int Connects { get; }

    /// <summary>Opens the connection unless it is open; retries until it is or <paramref name="cancellationToken"/> ends.</summary>
    Task EnsureConnectedAsync(CancellationToken cancellationToken);

    /// <summary>
    /// Sends one reading: returns once the client library has written it (MQTT QoS 0, WebSocket) or the broker has
    /// acknowledged it (QoS 1); throws when the link broke.
    /// </summary>
    Task SendAsync(byte[] reading, CancellationToken cancellationToken);
}

/// <summary>The two servers in the lab process: MQTTnet's broker and a WebSocket hub on Kestrel that forwards each frame from <c>/pub</c> to every <c>/sub</c>.</summary>
internal sealed class TelemetryServers : IAsyncDisposable
{
    private static readonly TimeSpan ConnectTimeout = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan SendTimeout = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan RetryPause = TimeSpan.FromMilliseconds(5);

    private readonly MqttServer _broker;
    private readonly LoopbackWebHost _hub;

    private TelemetryServers(MqttServer broker, int mqttPort, LoopbackWebHost hub)
    {
        _broker = broker;
        MqttPort = mqttPort;
        _hub = hub;
    }

    public int MqttPort { get; }

    public int WebSocketPort => _hub.Port;

    public static async Task<TelemetryServers> StartAsync(CancellationToken cancellationToken)
    {
        int mqttPort = LoopbackPorts.Next();
        MqttServerOptions options = new MqttServerOptionsBuilder()
            .WithDefaultEndpoint()
            .WithDefaultEndpointPort(mqttPort)
            .WithDefaultEndpointBoundIPAddress(IPAddress.Loopback)
            .WithDefaultEndpointBoundIPV6Address(IPAddress.None)
            .Build();
        MqttServer broker = new MqttServerFactory().CreateMqttServer(options);
        await broker.StartAsync().ConfigureAwait(false);
        WebSocketHub forwarding = new();
        LoopbackWebHost hub = await LoopbackWebHost.StartAsync(forwarding.Map, cancellationToken).ConfigureAwait(false);
        return new TelemetryServers(broker, mqttPort, hub);
    }

    /// <summary>A publisher of <paramref name="variant"/> that dials 127.0.0.1:<paramref name="port"/> (the server or a relay in front of it).</summary>
    public static ITelemetryPublisher Publisher(TelemetryVariant variant, int port) =>
        Telemetry.IsMqtt(variant) ? new MqttPublisher(variant, port) : new WebSocketPublisher(variant, port);

    /// <summary>Connects a subscriber of <paramref name="variant"/> that records into <paramref name="arrivals"/>.</summary>
    public static async Task<IAsyncDisposable> SubscribeAsync(TelemetryVariant variant, int port, Arrivals arrivals, CancellationToken cancellationToken)
    {
        if (Telemetry.IsMqtt(variant))
        {
            IMqttClient client = new MqttClientFactory().CreateMqttClient();
            client.ApplicationMessageReceivedAsync += e =>
            {
                arrivals.Add(Telemetry.Sequence(variant, Telemetry.ToArray(e.ApplicationMessage.Payload)));
                return Task.CompletedTask;
            };
            _ = await client.ConnectAsync(MqttOptions(port, "lab-sub"), cancellationToken).ConfigureAwait(false);
            MqttClientSubscribeOptions subscription = new MqttClientFactory().CreateSubscribeOptionsBuilder()
                .WithTopicFilter(Telemetry.Topic, Qos(variant))
                .Build();
            _ = await client.SubscribeAsync(subscription, cancellationToken).ConfigureAwait(false);
            return new MqttClientHandle(client);
        }

        ClientWebSocket socket = NewWebSocket();
        await socket.ConnectAsync(new Uri($"ws://127.0.0.1:{port.ToString(CultureInfo.InvariantCulture)}/sub"), cancellationToken).ConfigureAwait(false);
        return new WebSocketSubscription(socket, variant, arrivals);
    }

    public async ValueTask DisposeAsync()
    {
        await _hub.DisposeAsync().ConfigureAwait(false);
        await _broker.StopAsync().ConfigureAwait(false);
        _broker.Dispose();
    }

    private static MqttQualityOfServiceLevel Qos(TelemetryVariant variant) =>
        variant == TelemetryVariant.MqttQos1 ? MqttQualityOfServiceLevel.AtLeastOnce : MqttQualityOfServiceLevel.AtMostOnce;

    /// <summary>MQTT 5, a clean start, no keep-alive pings during a run (they would add bytes that are not the messages').</summary>
    private static MqttClientOptions MqttOptions(int port, string role) =>
        new MqttClientOptionsBuilder()
            .WithTcpServer("127.0.0.1", port)
            .WithProtocolVersion(MqttProtocolVersion.V500)
            .WithClientId($"{role}-{Guid.NewGuid():N}")
            .WithCleanStart(true)
            .WithKeepAlivePeriod(TimeSpan.Zero)
            .WithTimeout(ConnectTimeout)
            .Build();

    /// <summary>A WebSocket client without keep-alive pings, for the same reason.</summary>
    private static ClientWebSocket NewWebSocket()
    {
        ClientWebSocket socket = new();
        socket.Options.KeepAliveInterval = TimeSpan.Zero;
        return socket;
    }

    /// <summary>Under <paramref name="gate"/>, calls <paramref name="connect"/> until <paramref name="open"/>, pausing after each failure.</summary>
    private static async Task ConnectUntilOpenAsync(SemaphoreSlim gate, Func<bool> open, Func<CancellationToken, Task> connect, CancellationToken cancellationToken)
    {
        await gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            while (!open())
            {
                try
                {
                    await connect(cancellationToken).ConfigureAwait(false);
                }
                catch (Exception e) when (Telemetry.IsLinkFailure(e) && !cancellationToken.IsCancellationRequested)
                {
                    await Task.Delay(RetryPause, cancellationToken).ConfigureAwait(false);
                }
            }
        }
        finally
        {
            _ = gate.Release();
        }
    }

    private sealed class MqttClientHandle(IMqttClient client) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync()
        {
            if (client.IsConnected)
            {
                await client.DisconnectAsync(new MqttClientDisconnectOptions(), CancellationToken.None).ConfigureAwait(false);
            }

            client.Dispose();
        }
    }

    private sealed class MqttPublisher(TelemetryVariant variant, int port) : ITelemetryPublisher
    {
        private readonly IMqttClient _client = new MqttClientFactory().CreateMqttClient();
        private readonly SemaphoreSlim _gate = new(1, 1);
        private int _connects;

        public int Connects => Volatile.Read(ref _connects);

        public Task EnsureConnectedAsync(CancellationToken cancellationToken) =>
            ConnectUntilOpenAsync(_gate, () => _client.IsConnected, async token =>
            {
                _ = await _client.ConnectAsync(MqttOptions(port, "lab-pub"), token).ConfigureAwait(false);
                _ = Interlocked.Increment(ref _connects);
            }, cancellationToken);

        public async Task SendAsync(byte[] reading, CancellationToken cancellationToken)
        {
            MqttApplicationMessage message = new MqttApplicationMessageBuilder()
                .WithTopic(Telemetry.Topic)
                .WithPayload(reading)
                .WithQualityOfServiceLevel(Qos(variant))
                .Build();
            using CancellationTokenSource timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(SendTimeout);
            _ = await _client.PublishAsync(message, timeout.Token).ConfigureAwait(false);
        }

        public async ValueTask DisposeAsync()
        {
            await new MqttClientHandle(_client).DisposeAsync().ConfigureAwait(false);
            _gate.Dispose();
        }
    }

    private sealed class WebSocketPublisher(TelemetryVariant variant, int port) : ITelemetryPublisher
    {
        private readonly SemaphoreSlim _gate = new(1, 1);
        private ClientWebSocket _socket = NewWebSocket();
        private int _connects;

        public int Connects => Volatile.Read(ref _connects);

        public Task EnsureConnectedAsync(CancellationToken cancellationToken) =>
            ConnectUntilOpenAsync(_gate, () => _socket.State == WebSocketState.Open, async token =>
            {
                _socket.Dispose();
                _socket = NewWebSocket();
                await _socket.ConnectAsync(new Uri($"ws://127.0.0.1:{port.ToString(CultureInfo.InvariantCulture)}/pub"), token).ConfigureAwait(false);
                _ = Interlocked.Increment(ref _connects);
            }, cancellationToken);

        public async Task SendAsync(byte[] reading, CancellationToken cancellationToken)
        {
            byte[] frame = Telemetry.Frame(variant, reading);
            WebSocketMessageType type = variant == TelemetryVariant.WebSocketEnvelope ? WebSocketMessageType.Text : WebSocketMessageType.Binary;
            await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
            try
            {
                await _socket.SendAsync(frame, type, endOfMessage: true, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (Telemetry.IsLinkFailure(e))
            {
                // A failed write leaves ClientWebSocket's state Open (only a receive would see the close); abort it so
                // the next EnsureConnectedAsync dials again instead of writing to the broken connection forever.
                _socket.Abort();
                throw;
            }
            finally
            {
                _ = _gate.Release();
            }
        }

        public ValueTask DisposeAsync()
        {
            _socket.Dispose();
            _gate.Dispose();
            return ValueTask.CompletedTask;
        }
    }

    /// <summary>A subscriber's socket and the loop that reads it.</summary>
    private sealed class WebSocketSubscription : IAsyncDisposable
    {
        private readonly ClientWebSocket _socket;
        private readonly Task _reading;

        public WebSocketSubscription(ClientWebSocket socket, TelemetryVariant variant, Arrivals arrivals)
        {
            _socket = socket;
            _reading = WebSocketHub.ReadMessagesAsync(socket, (message, _) =>
            {
                arrivals.Add(Telemetry.Sequence(variant, message));
                return Task.CompletedTask;
            });
        }

        public async ValueTask DisposeAsync()
        {
            _socket.Abort();
            await _reading.ConfigureAwait(false);
            _socket.Dispose();
        }
    }

    /// <summary>The Kestrel side: each message read from a publisher is sent, as is, to every subscriber, one send at a time per subscriber.</summary>
    private sealed class WebSocketHub
    {
        private readonly ConcurrentDictionary<WebSocket, SemaphoreSlim> _subscribers = new();

        public static async Task ReadMessagesAsync(WebSocket socket, Func<byte[], WebSocketMessageType, Task> onMessage)
        {
            byte[] buffer = new byte[64 * 1024];
            try
            {
                int filled = 0;
                while (socket.State == WebSocketState.Open)
                {
                    ValueWebSocketReceiveResult result = await socket.ReceiveAsync(buffer.AsMemory(filled), CancellationToken.None).ConfigureAwait(false);
                    if (result.MessageType == WebSocketMessageType.Close)
                    {
                        return;
                    }

                    filled += result.Count;
                    if (result.EndOfMessage)
                    {
                        await onMessage(buffer[..filled], result.MessageType).ConfigureAwait(false);
                        filled = 0;
                    }
                }
            }
            catch (Exception e) when (Telemetry.IsLinkFailure(e))
            {
            }
        }

        public void Map(WebApplication app)
        {
            _ = app.UseWebSockets(new WebSocketOptions { KeepAliveInterval = TimeSpan.Zero });
            _ = app.Map("/sub", SubscribeAsync);
            _ = app.Map("/pub", PublishAsync);
        }

        private async Task SubscribeAsync(HttpContext context)
        {
            using WebSocket socket = await context.WebSockets.AcceptWebSocketAsync().ConfigureAwait(false);
            _subscribers[socket] = new SemaphoreSlim(1, 1);
            await ReadMessagesAsync(socket, (_, _) => Task.CompletedTask).ConfigureAwait(false);
            _ = _subscribers.TryRemove(socket, out _);
        }

        private async Task PublishAsync(HttpContext context)
        {
            using WebSocket socket = await context.WebSockets.AcceptWebSocketAsync().ConfigureAwait(false);
            await ReadMessagesAsync(socket, async (message, type) =>
            {
                foreach ((WebSocket subscriber, SemaphoreSlim gate) in _subscribers)
                {
                    await gate.WaitAsync().ConfigureAwait(false);
                    try
                    {
                        await subscriber.SendAsync(message, type, endOfMessage: true, CancellationToken.None).ConfigureAwait(false);
                    }
                    catch (Exception e) when (Telemetry.IsLinkFailure(e))
                    {
                    }
                    finally
                    {
                        _ = gate.Release();
                    }
                }
            }).ConfigureAwait(false);
        }
    }
}
