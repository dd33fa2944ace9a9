using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Blueprint.Testing.Tests.Faults;

/// <summary>
/// A TCP echo server on loopback that remembers the first bytes of each connection, so a test can
/// wait for a token to arrive (or see that it never does) without sleeping.
/// </summary>
internal sealed class EchoServer : IAsyncDisposable
{
    private const int BufferSizeBytes = 16 * 1024;
    private const int RecordedBytesMax = 4 * 1024;

    private readonly Socket _listener;
    private readonly CancellationTokenSource _stopping = new();
    private readonly Lock _gate = new();
    private readonly List<Socket> _connections = [];
    private readonly List<Task> _echoes = [];
    private readonly StringBuilder _recorded = new();
    private readonly List<(string Token, TaskCompletionSource Seen)> _waiters = [];
    private readonly Task _accepting;
    private long _bytesReceived;

    private EchoServer(Socket listener)
    {
        _listener = listener;
        Endpoint = (IPEndPoint)listener.LocalEndPoint!;
        _accepting = Task.Run(AcceptAsync);
    }

    public IPEndPoint Endpoint { get; }

    public int Port => Endpoint.Port;

    public long BytesReceived => Interlocked.Read(ref _bytesReceived);

    public static EchoServer Start()
    {
        var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen(128);
        return new EchoServer(listener);
    }

    /// <summary>Whether <paramref name="token"/> arrives (as the start of a connection's bytes) before the deadline.</summary>
    public async Task<bool> ReceivesWithinAsync(string token, TimeSpan deadline)
    {
        TaskCompletionSource seen = new(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_gate)
        {
            if (_recorded.ToString().Contains(token, StringComparison.Ordinal))
            {
                return true;
            }

            _waiters.Add((token, seen));
        }

        return await Task.WhenAny(seen.Task, Task.Delay(deadline)) == seen.Task;
    }

    /// <summary>Sends <paramref name="bytes"/> to every open connection, unasked.</summary>
    public async Task PushAsync(byte[] bytes)
    {
        Socket[] connections;
        lock (_gate)
        {
            connections = [.. _connections];
        }

        foreach (var connection in connections)
        {
            await connection.SendAsync(bytes);
        }
    }

    private async Task AcceptAsync()
    {
        while (true)
        {
            Socket connection;
            try
            {
                connection = await _listener.AcceptAsync(_stopping.Token);
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException or SocketException)
            {
                return;
            }

            lock (_gate)
            {
                _connections.Add(connection);
                _echoes.Add(EchoAsync(connection));
            }
        }
    }

    private async Task EchoAsync(Socket connection)
    {
        var buffer = new byte[BufferSizeBytes];
        var recorded = 0;
        try
        {
            while (true)
            {
                var read = await connection.ReceiveAsync(buffer, _stopping.Token);
                if (read == 0)
                {
                    connection.Shutdown(SocketShutdown.Send);
                    return;
                }

                Interlocked.Add(ref _bytesReceived, read);
                if (recorded < RecordedBytesMax)
                {
                    Record(buffer.AsSpan(0, Math.Min(read, RecordedBytesMax - recorded)));
                    recorded += read;
                }

                await connection.SendAsync(buffer.AsMemory(0, read), _stopping.Token);
            }
        }
        catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException or SocketException)
        {
            // The proxy reset the connection, or the server is stopping.
        }
    }

    private void Record(ReadOnlySpan<byte> bytes)
    {
        lock (_gate)
        {
            _recorded.Append(Encoding.Latin1.GetString(bytes)).Append('\n');
            var text = _recorded.ToString();
            for (var i = _waiters.Count - 1; i >= 0; i--)
            {
                if (text.Contains(_waiters[i].Token, StringComparison.Ordinal))
                {
                    _waiters[i].Seen.TrySetResult();
                    _waiters.RemoveAt(i);
                }
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync();
        _listener.Dispose();
        await _accepting;
        Task[] echoes;
        lock (_gate)
        {
            foreach (var connection in _connections)
            {
                connection.Dispose();
            }

            echoes = [.. _echoes];
        }

        await Task.WhenAll(echoes);
        _stopping.Dispose();
    }
}
