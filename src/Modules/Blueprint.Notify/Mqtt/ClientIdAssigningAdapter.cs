using System.Net;
using System.Security.Cryptography.X509Certificates;
using MQTTnet.Adapter;
using MQTTnet.Diagnostics.Logger;
using MQTTnet.Formatter;
using MQTTnet.Packets;
using MQTTnet.Server;
using MQTTnet.Server.Internal.Adapter;

namespace Blueprint.Notify.Mqtt;

/// <summary>
/// MQTTnet's TCP listener with one fix for MQTT 3.1.1: a client that connects with an empty client id and a clean
/// session (what mosquitto_pub and mosquitto_sub do by default) gets an id from the broker, as the specification lets a
/// server do [MQTT-3.1.3-6]; MQTTnet alone refuses it ("identifier rejected"). An empty id with a persistent session
/// is still refused, as the specification requires [MQTT-3.1.3-8]. MQTT 5 clients get theirs through
/// <c>AssignedClientIdentifier</c> at validation, which also tells them the id.
/// </summary>
internal sealed class ClientIdAssigningAdapter : IMqttServerAdapter
{
    private readonly MqttTcpServerAdapter _tcp = new();

    /// <summary>Wires the TCP listener's connections through the id assignment.</summary>
    public ClientIdAssigningAdapter() =>
        _tcp.ClientHandler = channel => ClientHandler is { } handler ? handler(new Channel(channel)) : Task.CompletedTask;

    /// <inheritdoc />
    public Func<IMqttChannelAdapter, Task>? ClientHandler { get; set; }

    /// <summary>A new client id the broker gives a client that sent none.</summary>
    public static string NewClientId() => $"auto-{Guid.NewGuid():N}";

    /// <inheritdoc />
    public Task StartAsync(MqttServerOptions options, IMqttNetLogger logger) => _tcp.StartAsync(options, logger);

    /// <inheritdoc />
    public Task StopAsync() => _tcp.StopAsync();

    /// <inheritdoc />
    public void Dispose() => _tcp.Dispose();

    /// <summary>One connection: the inner channel, with the CONNECT packet's empty id filled in when allowed.</summary>
    private sealed class Channel(IMqttChannelAdapter inner) : IMqttChannelAdapter
    {
        private bool _connectSeen;

        public long BytesReceived => inner.BytesReceived;

        public long BytesSent => inner.BytesSent;

        public X509Certificate2 ClientCertificate => inner.ClientCertificate;

        public EndPoint RemoteEndPoint => inner.RemoteEndPoint;

        public EndPoint LocalEndPoint => inner.LocalEndPoint;

        public bool IsSecureConnection => inner.IsSecureConnection;

        public MqttPacketFormatterAdapter PacketFormatterAdapter => inner.PacketFormatterAdapter;

        public Task ConnectAsync(CancellationToken cancellationToken) => inner.ConnectAsync(cancellationToken);

        public Task DisconnectAsync(CancellationToken cancellationToken) => inner.DisconnectAsync(cancellationToken);

        public async Task<MqttPacket> ReceivePacketAsync(CancellationToken cancellationToken)
        {
            var packet = await inner.ReceivePacketAsync(cancellationToken).ConfigureAwait(false);
            if (!_connectSeen && packet is MqttConnectPacket connect)
            {
                _connectSeen = true;
                if (string.IsNullOrEmpty(connect.ClientId) && connect.CleanSession && inner.PacketFormatterAdapter.ProtocolVersion == MqttProtocolVersion.V311)
                {
                    connect.ClientId = NewClientId();
                }
            }

            return packet;
        }

        public void ResetStatistics() => inner.ResetStatistics();

        public Task SendPacketAsync(MqttPacket packet, CancellationToken cancellationToken) => inner.SendPacketAsync(packet, cancellationToken);

        public void Dispose() => inner.Dispose();
    }
}
