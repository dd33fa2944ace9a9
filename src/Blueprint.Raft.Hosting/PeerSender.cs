using System.Net.Sockets;
using System.Threading.Channels;
using Blueprint.Core.Raft;
using Blueprint.Raft.Hosting.Protocol;
using Grpc.Core;
using Grpc.Net.Client;
using Microsoft.Extensions.Logging;

namespace Blueprint.Raft.Hosting;

/// <summary>
/// Carries this node's messages to one peer over one long-lived <c>Send</c> stream, and its forwarded calls. The
/// queue is bounded (<see cref="RaftHostOptions.PeerQueueMessagesMax"/>); when full, new messages are dropped, which
/// Raft tolerates: heartbeats repeat, and appends and snapshots are resent after a probe. A broken stream is
/// reopened after a backoff that doubles up to <see cref="RaftHostOptions.ReconnectBackoffMax"/>.
/// </summary>
internal sealed class PeerSender : IAsyncDisposable
{
    /// <summary>How long an idle connection waits before it pings the peer.</summary>
    public static readonly TimeSpan KeepAlivePingDelay = TimeSpan.FromSeconds(1);

    /// <summary>How long a ping may stay unanswered before the connection is dropped (a silent partition).</summary>
    public static readonly TimeSpan KeepAlivePingTimeout = TimeSpan.FromSeconds(2);

    /// <summary>How long a TCP connect may take.</summary>
    public static readonly TimeSpan ConnectTimeout = TimeSpan.FromSeconds(2);

    /// <summary>The shortest gap between two warnings about one peer; the rest go to Debug.</summary>
    public static readonly TimeSpan WarningInterval = TimeSpan.FromSeconds(30);

    /// <summary>The trailer naming why a peer refused a stream.</summary>
    public const string RefusalTrailer = "blueprint-raft-refusal";

    /// <summary>The refusal a removed member hears.</summary>
    public const string RefusalRemoved = "member-removed";

    /// <summary>The refusal a member of another cluster hears.</summary>
    public const string RefusalClusterMismatch = "cluster-id-mismatch";

    private readonly RaftHost _host;
    private readonly Channel<Message> _queue;
    private readonly GrpcChannel _channel;
    private readonly Peer.PeerClient _client;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly TimeSpan _backoffMin;
    private readonly TimeSpan _backoffMax;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _run;
    private long _dropped;
    private DateTimeOffset _lastWarning = DateTimeOffset.MinValue;

    public PeerSender(RaftHost host, int peerId, string url, RaftHostOptions options, ILogger logger, TimeProvider time)
    {
        _host = host;
        PeerId = peerId;
        Url = url;
        _logger = logger;
        _time = time;
        _backoffMin = options.TickInterval;
        _backoffMax = options.ReconnectBackoffMax;
        _queue = Channel.CreateBounded<Message>(new BoundedChannelOptions(options.PeerQueueMessagesMax)
        {
            SingleReader = true,
            FullMode = BoundedChannelFullMode.Wait,
        });
        var handler = new SocketsHttpHandler
        {
            EnableMultipleHttp2Connections = true,
            ConnectTimeout = ConnectTimeout,
            KeepAlivePingDelay = KeepAlivePingDelay,
            KeepAlivePingTimeout = KeepAlivePingTimeout,
            KeepAlivePingPolicy = HttpKeepAlivePingPolicy.Always,
            PooledConnectionIdleTimeout = Timeout.InfiniteTimeSpan,
        };
        _channel = GrpcChannel.ForAddress(url, new GrpcChannelOptions
        {
            HttpHandler = handler,
            MaxReceiveMessageSize = RaftHostOptions.PeerMessageBytesMax,
            MaxSendMessageSize = RaftHostOptions.PeerMessageBytesMax,
        });
        _client = new Peer.PeerClient(_channel);
        _run = Task.Run(RunAsync);
    }

    public int PeerId { get; }

    public string Url { get; }

    /// <summary>Messages dropped because the queue was full.</summary>
    public long Dropped => Interlocked.Read(ref _dropped);

    /// <summary>Queues a message; false (and counted) when the queue is full.</summary>
    public bool TryEnqueue(Message message)
    {
        if (_queue.Writer.TryWrite(message))
        {
            return true;
        }

        Interlocked.Increment(ref _dropped);
        return false;
    }

    /// <summary>Runs a named handler on this peer, which must be the leader.</summary>
    public async Task<ForwardResponse> ForwardAsync(ForwardRequest request, TimeSpan timeout, CancellationToken ct)
    {
        var deadline = DateTime.UtcNow + timeout;
        return await _client.ForwardAsync(request, deadline: deadline, cancellationToken: ct).ConfigureAwait(false);
    }

    public async ValueTask DisposeAsync()
    {
        _queue.Writer.TryComplete();
        await _stop.CancelAsync().ConfigureAwait(false);
        try
        {
            await _run.ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }

        _channel.Dispose();
        _stop.Dispose();
    }

    /// <summary>Whether an exception says the request never reached the peer (connection refused or failed to connect).</summary>
    public static bool NeverConnected(Exception exception)
    {
        for (var inner = exception; inner is not null; inner = inner.InnerException)
        {
            if (inner is SocketException { SocketErrorCode: SocketError.ConnectionRefused or SocketError.HostUnreachable or SocketError.NetworkUnreachable or SocketError.TimedOut })
            {
                return true;
            }

            if (inner is RpcException rpc && rpc.Status.DebugException is { } debug && NeverConnected(debug))
            {
                return true;
            }
        }

        return false;
    }

    private async Task RunAsync()
    {
        var backoff = _backoffMin;
        var reader = _queue.Reader;
        while (!_stop.IsCancellationRequested)
        {
            try
            {
                if (!await reader.WaitToReadAsync(_stop.Token).ConfigureAwait(false))
                {
                    return;
                }

                await StreamAsync(reader).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (_stop.IsCancellationRequested)
            {
                return;
            }
            catch (Exception exception) when (exception is RpcException or IOException or InvalidOperationException or HttpRequestException or OperationCanceledException)
            {
                if (RefusalOf(exception) is { } refusal)
                {
                    _host.OnPeerRefused(PeerId, refusal);
                }

                Report(exception);
                await DelayAsync(backoff).ConfigureAwait(false);
                backoff = TimeSpan.FromTicks(Math.Min(backoff.Ticks * 2, _backoffMax.Ticks));
                continue;
            }

            backoff = _backoffMin;
        }
    }

    private async Task StreamAsync(ChannelReader<Message> reader)
    {
        using var call = _client.Send(cancellationToken: _stop.Token);
        try
        {
            while (await reader.WaitToReadAsync(_stop.Token).ConfigureAwait(false))
            {
                while (reader.TryRead(out var message))
                {
                    await call.RequestStream.WriteAsync(EnvelopeCodec.ToEnvelope(message, _host.ClusterId), _stop.Token).ConfigureAwait(false);
                }
            }
        }
        catch (Exception exception) when (exception is not OperationCanceledException || !_stop.IsCancellationRequested)
        {
            // The write failed because the call ended: the peer's status says why.
            try
            {
                await call.ResponseAsync.ConfigureAwait(false);
            }
            catch (RpcException status)
            {
                throw new RpcException(status.Status, status.Trailers, status.Message);
            }

            throw;
        }
    }

    private static string? RefusalOf(Exception exception) =>
        exception is RpcException rpc ? rpc.Trailers.GetValue(RefusalTrailer) : null;

    private void Report(Exception exception)
    {
        var now = _time.GetUtcNow();
        if (now - _lastWarning >= WarningInterval)
        {
            _lastWarning = now;
            ClusterLog.StreamFailedWarning(_logger, PeerId, Url, Dropped, exception.Message);
        }
        else
        {
            ClusterLog.StreamFailed(_logger, exception, PeerId, Url);
        }
    }

    private async Task DelayAsync(TimeSpan delay)
    {
        try
        {
            await Task.Delay(delay, _time, _stop.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }
    }
}
