using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Blueprint.Hosting;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using MQTTnet;
using MQTTnet.Formatter;
using MQTTnet.Protocol;
using MQTTnet.Server;

namespace Blueprint.Notify.Mqtt;

/// <summary>
/// The embedded MQTT broker (MQTTnet's server) on the node's bind address and <c>Notify:MqttPort</c>: MQTT 3.1.1 and 5,
/// QoS 0, 1 and 2, retained messages (kept in <c>&lt;data-dir&gt;/notify/mqtt/retained.json</c>, loaded at start),
/// persistent sessions (in memory while the broker runs), will messages, and users from <c>Notify:MqttUsers</c>.
/// The MQTT channel publishes through <see cref="PublishAsync"/>.
/// </summary>
internal sealed partial class MqttBroker(
    IOptions<NotifyOptions> options,
    IOptions<NodeOptions> nodeOptions,
    DataDirectory dataDirectory,
    ILoggerFactory loggerFactory) : IHostedService, IAsyncDisposable
{
    /// <summary>Messages queued for one client at most (QoS 0, 1 and 2 alike, online or away); past it the oldest queued message is dropped.</summary>
    public const int MaxPendingMessagesPerClient = 10_000;

    /// <summary>The largest payload a client may publish, in bytes: a larger PUBLISH closes its connection unprocessed.</summary>
    public const int MaxPayloadBytes = 1 << 20;

    /// <summary>The client id messages published by the node itself carry as their sender.</summary>
    public const string NodeClientId = "blueprint-notify";

    /// <summary>The retained-message file's path under the module's data directory.</summary>
    public const string RetainedFile = "mqtt/retained.json";

    private readonly ILogger _logger = loggerFactory.CreateLogger<MqttBroker>();
    private MqttServer? _server;
    private RetainedMessageFile? _retained;
    private Dictionary<string, byte[]> _users = [];

    /// <summary>Whether the broker is accepting connections and publishes.</summary>
    public bool IsRunning => _server is { IsStarted: true };

    /// <summary>The server, once started (tests look at its clients and sessions).</summary>
    internal MqttServer Server => _server ?? throw new InvalidOperationException("the MQTT broker has not started");

    /// <inheritdoc />
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var notify = options.Value;
        var node = nodeOptions.Value;
        _users = notify.Users()
            .GroupBy(user => user.Name, StringComparer.Ordinal)
            .ToDictionary(group => group.Key, group => Encoding.UTF8.GetBytes(group.Last().Password), StringComparer.Ordinal);
        var retained = new RetainedMessageFile(Path.Combine(dataDirectory.For(NotifyModule.ModuleName), RetainedFile))
        {
            Failed = e => LogRetainedWriteFailed(_logger, e),
        };
        _retained = retained;

        var address = node.BindAddress;
        var serverOptions = new MqttServerOptionsBuilder()
            .WithDefaultEndpoint()
            .WithDefaultEndpointPort(notify.MqttPort)
            .WithDefaultEndpointBoundIPAddress(address.AddressFamily == AddressFamily.InterNetwork ? address : IPAddress.None)
            .WithDefaultEndpointBoundIPV6Address(address.AddressFamily == AddressFamily.InterNetworkV6 ? address : IPAddress.None)
            .WithPersistentSessions(true)
            .WithMaxPendingMessagesPerClient(MaxPendingMessagesPerClient)
            .WithPendingMessagesOverflowStrategy(MqttPendingMessagesOverflowStrategy.DropOldestQueuedMessage)
            .Build();
        var server = new MqttServerFactory().CreateMqttServer(
            serverOptions, [new ClientIdAssigningAdapter()], new MqttNetLogger(loggerFactory.CreateLogger("MQTTnet")));
        server.ValidatingConnectionAsync += ValidateConnectionAsync;
        server.InterceptingPublishAsync += InterceptPublishAsync;
        server.LoadingRetainedMessageAsync += e => LoadRetainedMessagesAsync(retained, e);
        server.RetainedMessageChangedAsync += e =>
        {
            retained.Save(e.StoredRetainedMessages);
            return Task.CompletedTask;
        };
        server.RetainedMessagesClearedAsync += _ =>
        {
            retained.Save([]);
            return Task.CompletedTask;
        };

        try
        {
            await server.StartAsync().ConfigureAwait(false);
        }
        catch (SocketException e) when (e.SocketErrorCode == SocketError.AddressAlreadyInUse)
        {
            server.Dispose();
            throw StartupProblemException.PortInUse("MQTT", node.Bind, notify.MqttPort, NotifyModule.MqttListener.Flag!, e);
        }

        _server = server;
        LogStarted(_logger, node.Bind, notify.MqttPort, _users.Count == 0 ? "anonymous clients allowed" : $"{_users.Count} user(s)");
    }

    /// <summary>
    /// Publishes <paramref name="message"/> as the node (sender <see cref="NodeClientId"/>): returns once the broker has
    /// queued it for every matching subscription. False when the broker is not running.
    /// </summary>
    public async ValueTask<bool> PublishAsync(MqttApplicationMessage message, CancellationToken cancellationToken)
    {
        if (_server is not { IsStarted: true } server)
        {
            return false;
        }

        try
        {
            await server.InjectApplicationMessage(new InjectedMqttApplicationMessage(message) { SenderClientId = NodeClientId }, cancellationToken)
                .ConfigureAwait(false);
            return true;
        }
        catch (Exception e) when (e is InvalidOperationException or ObjectDisposedException)
        {
            // Stopped between the check and the publish.
            return false;
        }
    }

    /// <inheritdoc />
    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (_server is { } server)
        {
            _server = null;
            await server.StopAsync(new MqttServerStopOptions()).ConfigureAwait(false);
            server.Dispose();
        }

        if (_retained is { } retained)
        {
            _retained = null;
            await retained.DisposeAsync().ConfigureAwait(false);
        }
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync() => await StopAsync(CancellationToken.None).ConfigureAwait(false);

    private Task ValidateConnectionAsync(ValidatingConnectionEventArgs e)
    {
        if (string.IsNullOrEmpty(e.ClientId) && e.ProtocolVersion == MqttProtocolVersion.V500)
        {
            e.AssignedClientIdentifier = ClientIdAssigningAdapter.NewClientId();
        }

        if (_users.Count == 0)
        {
            return Task.CompletedTask;
        }

        var known = e.UserName is { } name && _users.TryGetValue(name, out var password)
            && e.RawPassword is { } presented && CryptographicOperations.FixedTimeEquals(password, presented);
        if (!known)
        {
            e.ReasonCode = MqttConnectReasonCode.BadUserNameOrPassword;
            LogRefused(_logger, e.ClientId, e.UserName ?? "(none)", e.RemoteEndPoint);
        }

        return Task.CompletedTask;
    }

    private Task InterceptPublishAsync(InterceptingPublishEventArgs e)
    {
        // The node's own notifications are bounded by the SNS message limit; the limit is for clients.
        if (e.ApplicationMessage.Payload.Length > MaxPayloadBytes && e.ClientId != NodeClientId)
        {
            e.ProcessPublish = false;
            e.CloseConnection = true;
            LogTooLarge(_logger, e.ClientId, e.ApplicationMessage.Payload.Length, MaxPayloadBytes);
        }

        return Task.CompletedTask;
    }

    private Task LoadRetainedMessagesAsync(RetainedMessageFile retained, LoadingRetainedMessagesEventArgs e)
    {
        try
        {
            e.LoadedRetainedMessages = retained.Load();
            LogRetainedLoaded(_logger, e.LoadedRetainedMessages.Count, retained.Path);
        }
        catch (Exception exception) when (exception is JsonException or IOException or UnauthorizedAccessException or FormatException or InvalidOperationException or KeyNotFoundException)
        {
            // Unreadable: kept aside for a person to look at, and the broker starts without retained messages.
            var aside = $"{retained.Path}.unreadable-{DateTime.UtcNow:yyyyMMddHHmmss}";
            File.Move(retained.Path, aside, overwrite: true);
            LogRetainedUnreadable(_logger, retained.Path, aside, exception);
        }

        return Task.CompletedTask;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "MQTT broker listening on {Bind}:{Port} ({Auth})")]
    private static partial void LogStarted(ILogger logger, string bind, int port, string auth);

    [LoggerMessage(Level = LogLevel.Information, Message = "MQTT connection of client {ClientId} refused: bad user name or password (user {User}, from {Remote})")]
    private static partial void LogRefused(ILogger logger, string clientId, string user, EndPoint? remote);

    [LoggerMessage(Level = LogLevel.Warning, Message = "MQTT client {ClientId} published {Bytes} bytes, over the {Limit}-byte limit: connection closed")]
    private static partial void LogTooLarge(ILogger logger, string clientId, long bytes, int limit);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Loaded {Count} retained MQTT message(s) from {Path}")]
    private static partial void LogRetainedLoaded(ILogger logger, int count, string path);

    [LoggerMessage(Level = LogLevel.Error, Message = "Retained MQTT messages in {Path} are unreadable; moved to {Aside}, starting without them")]
    private static partial void LogRetainedUnreadable(ILogger logger, string path, string aside, Exception exception);

    [LoggerMessage(Level = LogLevel.Error, Message = "Writing the retained MQTT messages failed; the next change tries again")]
    private static partial void LogRetainedWriteFailed(ILogger logger, Exception exception);
}
