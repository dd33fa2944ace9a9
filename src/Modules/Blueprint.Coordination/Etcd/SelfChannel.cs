using Grpc.Core;
using Grpc.Net.Client;

namespace Blueprint.Coordination.Etcd;

/// <summary>
/// A channel from this member to its own etcd port. The lock and election services are clients of the KV, Lease and
/// Watch services, as etcd's are (its in-process v3client): every step they take is an ordinary etcd request, so it
/// is forwarded, read linearizably and replicated exactly as any client's.
/// </summary>
internal sealed class SelfChannel(Microsoft.Extensions.Options.IOptions<Blueprint.Hosting.NodeOptions> node, Microsoft.Extensions.Options.IOptions<CoordinationOptions> options) : IDisposable
{
    private static readonly TimeSpan ConnectTimeout = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan KeepAlivePing = TimeSpan.FromSeconds(30);

    private readonly Lazy<GrpcChannel> _channel = new(() => GrpcChannel.ForAddress(
        $"http://{node.Value.ClientHost}:{options.Value.EtcdPort.ToString(System.Globalization.CultureInfo.InvariantCulture)}",
        new GrpcChannelOptions
        {
            // Every waiting Lock or Campaign holds a watch stream: past one connection's stream limit, open another.
            HttpHandler = new SocketsHttpHandler
            {
                EnableMultipleHttp2Connections = true,
                ConnectTimeout = ConnectTimeout,
                KeepAlivePingDelay = KeepAlivePing,
                KeepAlivePingTimeout = KeepAlivePing,
            },
            MaxReceiveMessageSize = CoordinationModule.MessageBytesMax(options.Value),
            MaxSendMessageSize = CoordinationModule.MessageBytesMax(options.Value),
        }));

    /// <summary>A call invoker on this member's etcd API.</summary>
    public CallInvoker Invoker => _channel.Value.CreateCallInvoker();

    public void Dispose()
    {
        if (_channel.IsValueCreated)
        {
            _channel.Value.Dispose();
        }
    }
}
