using System.Buffers;
using System.Net.Sockets;
using System.Threading.Channels;

namespace Blueprint.Testing.Faults;

/// <summary>
/// One client connection and its upstream twin. Each direction is a reader and a writer joined by
/// a bounded channel of chunks stamped with the time they may leave: the reader never waits on
/// latency, the writer waits for each chunk in order, so data is delayed without being reordered
/// and one direction's delay never holds the other up.
/// </summary>
internal sealed class ProxiedConnection : IDisposable
{
    private readonly FaultProxy _proxy;
    private readonly Socket _client;
    private readonly Lock _gate = new();
    private readonly CancellationTokenSource _cancel = new();
    private Socket? _upstream;
    private bool _closed;

    public ProxiedConnection(FaultProxy proxy, Socket client)
    {
        _proxy = proxy;
        _client = client;
        _client.NoDelay = true;
    }

    /// <summary>Ends when both directions are done and both sockets are closed.</summary>
    public Task Completion { get; private set; } = Task.CompletedTask;

    /// <summary>Starts forwarding; <paramref name="onEnd"/> runs once the connection is closed.</summary>
    public void Start(Action onEnd) => Completion = Task.Run(async () =>
    {
        try
        {
            await RunAsync();
        }
        finally
        {
            Dispose();
            onEnd();
        }
    });

    /// <summary>Releases the cancellation source once the sockets are closed; a no-op before that.</summary>
    public void Dispose()
    {
        lock (_gate)
        {
            if (_closed)
            {
                _cancel.Dispose();
            }
        }
    }

    /// <summary>Closes both sockets with a reset (RST, no FIN). False when they were closed already.</summary>
    public bool Abort()
    {
        lock (_gate)
        {
            if (_closed)
            {
                return false;
            }

            _closed = true;
            AbortSocket(_client);
            if (_upstream is not null)
            {
                AbortSocket(_upstream);
            }

            _cancel.Cancel();
            return true;
        }
    }

    /// <summary>Closes <paramref name="socket"/> with a reset: linger on with a zero timeout makes close send RST.</summary>
    public static void AbortSocket(Socket socket)
    {
        try
        {
            socket.LingerState = new LingerOption(true, 0);
        }
        catch (SocketException)
        {
            // Already reset by the peer; closing is all that is left.
        }

        socket.Dispose();
    }

    private async Task RunAsync()
    {
        var upstream = new Socket(_proxy.Upstream.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        lock (_gate)
        {
            if (_closed)
            {
                upstream.Dispose();
                return;
            }

            _upstream = upstream;
        }

        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(_cancel.Token);
            timeout.CancelAfter(_proxy.UpstreamConnectTimeout);
            await upstream.ConnectAsync(_proxy.Upstream, timeout.Token);
        }
        catch (Exception e) when (IsConnectionEnd(e))
        {
            // Counted before the client can see the reset; not counted when a reset or disposal got here first.
            if (!_cancel.IsCancellationRequested)
            {
                _proxy.Counters.OnUpstreamConnectFailure();
            }

            Abort();
            return;
        }

        await Task.WhenAll(
            PumpAsync(_client, upstream, FaultDirections.Upstream),
            PumpAsync(upstream, _client, FaultDirections.Downstream));
        Close();
    }

    private async Task PumpAsync(Socket source, Socket destination, FaultDirections direction)
    {
        var chunks = Channel.CreateBounded<Chunk>(new BoundedChannelOptions(FaultProxy.ChunksInFlightMax)
        {
            SingleReader = true,
            SingleWriter = true,
            FullMode = BoundedChannelFullMode.Wait,
        });
        try
        {
            await Task.WhenAll(ReadAsync(source, chunks.Writer, direction), WriteAsync(chunks.Reader, destination, direction));
        }
        finally
        {
            while (chunks.Reader.TryRead(out var chunk))
            {
                ArrayPool<byte>.Shared.Return(chunk.Buffer);
            }
        }
    }

    private async Task ReadAsync(Socket source, ChannelWriter<Chunk> chunks, FaultDirections direction)
    {
        try
        {
            while (true)
            {
                var buffer = ArrayPool<byte>.Shared.Rent(FaultProxy.ChunkSizeBytes);
                try
                {
                    var read = await source.ReceiveAsync(buffer.AsMemory(0, FaultProxy.ChunkSizeBytes), SocketFlags.None, _cancel.Token);
                    if (read == 0)
                    {
                        ArrayPool<byte>.Shared.Return(buffer);
                        chunks.TryComplete();
                        return;
                    }

                    var delay = _proxy.SampleDelay(_proxy.Faults.For(direction));
                    var due = _proxy.Time.GetTimestamp() + (long)(delay.TotalSeconds * _proxy.Time.TimestampFrequency);
                    await chunks.WriteAsync(new Chunk(buffer, read, due), _cancel.Token);
                }
                catch
                {
                    ArrayPool<byte>.Shared.Return(buffer);
                    throw;
                }
            }
        }
        catch (Exception e) when (IsConnectionEnd(e))
        {
            // A reset from one side is passed on to the other as a reset.
            chunks.TryComplete();
            Abort();
        }
    }

    private async Task WriteAsync(ChannelReader<Chunk> chunks, Socket destination, FaultDirections direction)
    {
        try
        {
            await foreach (var chunk in chunks.ReadAllAsync(_cancel.Token))
            {
                try
                {
                    await WaitUntilAsync(chunk.DueTimestamp);

                    // Read at the moment of writing, so a blackhole also drops what was in flight.
                    if (_proxy.Faults.For(direction).Blackholed)
                    {
                        _proxy.Counters.OnDropped(direction, chunk.Length);
                        continue;
                    }

                    await SendAllAsync(destination, chunk.Buffer.AsMemory(0, chunk.Length));
                    _proxy.Counters.OnForwarded(direction, chunk.Length);
                }
                finally
                {
                    ArrayPool<byte>.Shared.Return(chunk.Buffer);
                }
            }

            // The FIN is a packet like any other: a blackhole swallows it.
            if (!_proxy.Faults.For(direction).Blackholed)
            {
                ShutdownSend(destination);
            }
        }
        catch (Exception e) when (IsConnectionEnd(e))
        {
            Abort();
        }
    }

    private async Task SendAllAsync(Socket destination, ReadOnlyMemory<byte> bytes)
    {
        while (!bytes.IsEmpty)
        {
            var sent = await destination.SendAsync(bytes, SocketFlags.None, _cancel.Token);
            bytes = bytes[sent..];
        }
    }

    private async Task WaitUntilAsync(long dueTimestamp)
    {
        var time = _proxy.Time;

        // Loops because a timer may fire a little early; the delay is a lower bound tests rely on.
        while (time.GetElapsedTime(time.GetTimestamp(), dueTimestamp) is var remaining && remaining > TimeSpan.Zero)
        {
            await Task.Delay(TimeSpan.FromMilliseconds(Math.Ceiling(remaining.TotalMilliseconds)), time, _cancel.Token);
        }
    }

    private void ShutdownSend(Socket destination)
    {
        lock (_gate)
        {
            if (!_closed)
            {
                destination.Shutdown(SocketShutdown.Send);
            }
        }
    }

    private void Close()
    {
        lock (_gate)
        {
            if (_closed)
            {
                return;
            }

            _closed = true;
            _client.Dispose();
            _upstream?.Dispose();
            _cancel.Cancel();
        }
    }

    private static bool IsConnectionEnd(Exception e) =>
        e is SocketException or ObjectDisposedException or OperationCanceledException or ChannelClosedException;

    private readonly record struct Chunk(byte[] Buffer, int Length, long DueTimestamp);
}
