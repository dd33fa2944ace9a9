using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Threading.Channels;

namespace Blueprint.Lab.Processes;

/// <summary>
/// A TCP relay on 127.0.0.1 in front of one upstream port: it counts the bytes it forwards each way (the bytes on the
/// wire above TCP: headers of TCP and IP are not counted), can hold every chunk for a fixed latency, and can reset
/// every open connection (RST) to stand for a link that breaks. Chunks still held when a connection is reset are lost,
/// as bytes in flight on a broken link are.
/// </summary>
internal sealed class LoopbackRelay : IAsyncDisposable
{
    private const int ChunkBytes = 16 * 1024;

    private readonly Socket _listener;
    private readonly int _upstreamPort;
    private readonly CancellationTokenSource _stop = new();
    private readonly ConcurrentDictionary<int, (Socket Client, Socket Upstream)> _open = new();
    private readonly Task _accepting;
    private long _upstreamBytes;
    private long _downstreamBytes;
    private long _latencyTicks;
    private int _nextId;
    private int _resets;

    private LoopbackRelay(int upstreamPort)
    {
        _upstreamPort = upstreamPort;
        _listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        _listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        _listener.Listen(512);
        Port = ((IPEndPoint)_listener.LocalEndPoint!).Port;
        _accepting = AcceptAsync();
    }

    /// <summary>Gets the port clients dial.</summary>
    public int Port { get; }

    /// <summary>Gets the bytes forwarded from clients to the upstream.</summary>
    public long UpstreamBytes => Interlocked.Read(ref _upstreamBytes);

    /// <summary>Gets the bytes forwarded from the upstream to clients.</summary>
    public long DownstreamBytes => Interlocked.Read(ref _downstreamBytes);

    /// <summary>Gets how many connections the relay has accepted.</summary>
    public int Connections => Volatile.Read(ref _nextId);

    /// <summary>Gets how many connections <see cref="ResetAll"/> has reset.</summary>
    public int Resets => Volatile.Read(ref _resets);

    /// <summary>Gets or sets how long each chunk is held before it is forwarded, each way.</summary>
    public TimeSpan Latency
    {
        get => Stopwatch.GetElapsedTime(0, Interlocked.Read(ref _latencyTicks));
        set => Interlocked.Exchange(ref _latencyTicks, (long)(value.TotalSeconds * Stopwatch.Frequency));
    }

    /// <summary>Starts a relay to 127.0.0.1:<paramref name="upstreamPort"/>.</summary>
    public static LoopbackRelay Start(int upstreamPort) => new(upstreamPort);

    /// <summary>Resets every open connection (RST to both ends); new connections are accepted as before.</summary>
    /// <returns>How many connections were reset.</returns>
    public int ResetAll()
    {
        int count = 0;
        foreach (int id in _open.Keys)
        {
            if (_open.TryRemove(id, out (Socket Client, Socket Upstream) pair))
            {
                Abort(pair.Client);
                Abort(pair.Upstream);
                count++;
            }
        }

        _ = Interlocked.Add(ref _resets, count);
        return count;
    }

    /// <summary>Stops listening and resets every open connection.</summary>
    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        _listener.Dispose();
        _ = ResetAll();
        try
        {
            await _accepting.ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }

        _stop.Dispose();
    }

    private static void Abort(Socket socket)
    {
        try
        {
            socket.LingerState = new LingerOption(true, 0);
        }
        catch (SocketException)
        {
        }
        catch (ObjectDisposedException)
        {
        }

        socket.Dispose();
    }

    private async Task AcceptAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            Socket client;
            try
            {
                client = await _listener.AcceptAsync(_stop.Token).ConfigureAwait(false);
            }
            catch (Exception e) when (e is SocketException or ObjectDisposedException or OperationCanceledException)
            {
                return;
            }

            _ = RelayAsync(client);
        }
    }

    private async Task RelayAsync(Socket client)
    {
        Socket upstream = new(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        client.NoDelay = true;
        int id = Interlocked.Increment(ref _nextId);
        try
        {
            await upstream.ConnectAsync(new IPEndPoint(IPAddress.Loopback, _upstreamPort), _stop.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (e is SocketException or OperationCanceledException)
        {
            Abort(client);
            upstream.Dispose();
            return;
        }

        _open[id] = (client, upstream);
        await Task.WhenAll(PumpAsync(client, upstream, upstreamward: true), PumpAsync(upstream, client, upstreamward: false)).ConfigureAwait(false);
        if (_open.TryRemove(id, out _))
        {
            client.Dispose();
            upstream.Dispose();
        }
    }

    /// <summary>Reads chunks from <paramref name="from"/> and writes each to <paramref name="to"/> once its latency has passed.</summary>
    private async Task PumpAsync(Socket from, Socket to, bool upstreamward)
    {
        Channel<(long Due, byte[] Bytes)> held = Channel.CreateUnbounded<(long, byte[])>(new UnboundedChannelOptions { SingleReader = true, SingleWriter = true });
        Task writing = WriteAsync(held.Reader, to, upstreamward);
        byte[] buffer = new byte[ChunkBytes];
        try
        {
            while (true)
            {
                int read = await from.ReceiveAsync(buffer, SocketFlags.None, _stop.Token).ConfigureAwait(false);
                if (read == 0)
                {
                    break;
                }

                _ = held.Writer.TryWrite((Stopwatch.GetTimestamp() + Interlocked.Read(ref _latencyTicks), buffer[..read]));
            }
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException or OperationCanceledException)
        {
        }

        _ = held.Writer.TryComplete();
        await writing.ConfigureAwait(false);
    }

    private async Task WriteAsync(ChannelReader<(long Due, byte[] Bytes)> held, Socket to, bool upstreamward)
    {
        try
        {
            await foreach ((long due, byte[] bytes) in held.ReadAllAsync(_stop.Token).ConfigureAwait(false))
            {
                TimeSpan wait = Stopwatch.GetElapsedTime(Stopwatch.GetTimestamp(), due);
                if (wait > TimeSpan.Zero)
                {
                    await Task.Delay(wait, _stop.Token).ConfigureAwait(false);
                }

                int sent = 0;
                while (sent < bytes.Length)
                {
                    sent += await to.SendAsync(bytes.AsMemory(sent), SocketFlags.None, _stop.Token).ConfigureAwait(false);
                }

                _ = upstreamward ? Interlocked.Add(ref _upstreamBytes, bytes.Length) : Interlocked.Add(ref _downstreamBytes, bytes.Length);
            }

            to.Shutdown(SocketShutdown.Send);
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException or OperationCanceledException)
        {
        }
    }
}
