using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http;
using System.Net.WebSockets;
using System.Text.Json;

namespace Blueprint.Lab.Experiments.Push;

/// <summary>What one client received: its last sequence number, duplicates and gaps, and the latency of each message since <see cref="MeasureFrom"/>.</summary>
internal sealed class PushReceiver
{
    private readonly Lock _gate = new();
    private readonly List<double> _latenciesUs = [];
    private TaskCompletionSource _reached = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _awaited = int.MaxValue;
    private int _last = -1;
    private long _duplicates;
    private long _gaps;

    /// <summary>Gets or sets the first sequence number whose latency is recorded.</summary>
    public int MeasureFrom { get; set; } = int.MaxValue;

    public long Duplicates => Interlocked.Read(ref _duplicates);

    public long Gaps => Interlocked.Read(ref _gaps);

    /// <summary>The latencies recorded, in microseconds.</summary>
    public List<double> LatenciesUs()
    {
        lock (_gate)
        {
            return [.. _latenciesUs];
        }
    }

    /// <summary>Completes once a message with sequence number <paramref name="sequence"/> or later has arrived.</summary>
    public Task Reached(int sequence)
    {
        lock (_gate)
        {
            if (_last >= sequence)
            {
                return Task.CompletedTask;
            }

            _awaited = sequence;
            _reached = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            return _reached.Task;
        }
    }

    /// <summary>Records every message in <paramref name="json"/>: one message object, or an array of them.</summary>
    public void Record(ReadOnlySpan<byte> json)
    {
        long now = Stopwatch.GetTimestamp();
        Utf8JsonReader reader = new(json);
        int sequence = -1;
        while (reader.Read())
        {
            if (reader.TokenType == JsonTokenType.PropertyName && reader.ValueTextEquals("seq"u8))
            {
                _ = reader.Read();
                sequence = reader.GetInt32();
            }
            else if (reader.TokenType == JsonTokenType.PropertyName && reader.ValueTextEquals("t"u8))
            {
                _ = reader.Read();
                Add(sequence, reader.GetInt64(), now);
            }
        }
    }

    private void Add(int sequence, long sentAt, long now)
    {
        TaskCompletionSource? reached = null;
        lock (_gate)
        {
            if (sequence <= _last)
            {
                _duplicates++;
                return;
            }

            if (sequence != _last + 1)
            {
                _gaps++;
            }

            _last = sequence;
            if (sequence >= MeasureFrom)
            {
                _latenciesUs.Add(Stopwatch.GetElapsedTime(sentAt, now).TotalMicroseconds);
            }

            if (sequence >= _awaited)
            {
                _awaited = int.MaxValue;
                reached = _reached;
            }
        }

        reached?.SetResult();
    }
}

/// <summary>A client of one transport that receives into a <see cref="PushReceiver"/> until it is disposed.</summary>
internal sealed class PushClient : IAsyncDisposable
{
    private readonly CancellationTokenSource _stop = new();
    private readonly IDisposable _connection;
    private readonly Task _receiving;

    private PushClient(IDisposable connection, Func<PushReceiver, CancellationToken, Task> receive)
    {
        _connection = connection;
        _receiving = receive(Receiver, _stop.Token);
    }

    public PushReceiver Receiver { get; } = new();

    /// <summary>Connects a client of <paramref name="transport"/> to 127.0.0.1:<paramref name="port"/> and starts receiving.</summary>
    public static async Task<PushClient> ConnectAsync(PushTransport transport, int port, CancellationToken cancellationToken)
    {
        Uri server = new($"http://127.0.0.1:{port.ToString(CultureInfo.InvariantCulture)}/");
        if (transport == PushTransport.WebSocket)
        {
            ClientWebSocket socket = new();
            socket.Options.KeepAliveInterval = TimeSpan.Zero;
            await socket.ConnectAsync(new Uri($"ws://127.0.0.1:{port.ToString(CultureInfo.InvariantCulture)}/ws"), cancellationToken).ConfigureAwait(false);
            return new PushClient(socket, (receiver, token) => ReceiveFramesAsync(socket, receiver, token));
        }

        // Each client its own connection pool of one, as separate browsers would be.
        HttpClient http = new(new SocketsHttpHandler { MaxConnectionsPerServer = 1, PooledConnectionLifetime = Timeout.InfiniteTimeSpan })
        {
            BaseAddress = server,
            Timeout = Timeout.InfiniteTimeSpan,
        };
        if (transport == PushTransport.ServerSentEvents)
        {
            HttpResponseMessage response = await http.GetAsync(new Uri("sse", UriKind.Relative), HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
            _ = response.EnsureSuccessStatusCode();
            Stream body = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
            return new PushClient(new Disposables(body, response, http), (receiver, token) => ReceiveEventsAsync(body, receiver, token));
        }

        return new PushClient(http, (receiver, token) => PollAsync(http, receiver, token));
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        _connection.Dispose();
        try
        {
            await _receiving.ConfigureAwait(false);
        }
        catch (Exception e) when (IsClosed(e))
        {
        }

        _stop.Dispose();
    }

    private static bool IsClosed(Exception e) =>
        e is OperationCanceledException or ObjectDisposedException or WebSocketException or IOException or HttpRequestException;

    private static async Task ReceiveFramesAsync(ClientWebSocket socket, PushReceiver receiver, CancellationToken cancellationToken)
    {
        byte[] buffer = new byte[64 * 1024];
        int filled = 0;
        while (!cancellationToken.IsCancellationRequested)
        {
            ValueWebSocketReceiveResult result = await socket.ReceiveAsync(buffer.AsMemory(filled), cancellationToken).ConfigureAwait(false);
            if (result.MessageType == WebSocketMessageType.Close)
            {
                return;
            }

            filled += result.Count;
            if (result.EndOfMessage)
            {
                receiver.Record(buffer.AsSpan(0, filled));
                filled = 0;
            }
        }
    }

    private static async Task ReceiveEventsAsync(Stream body, PushReceiver receiver, CancellationToken cancellationToken)
    {
        using StreamReader reader = new(body);
        while (await reader.ReadLineAsync(cancellationToken).ConfigureAwait(false) is { } line)
        {
            if (line.StartsWith("data: ", StringComparison.Ordinal))
            {
                receiver.Record(System.Text.Encoding.UTF8.GetBytes(line.AsSpan(6).ToString()));
            }
        }
    }

    private static async Task PollAsync(HttpClient http, PushReceiver receiver, CancellationToken cancellationToken)
    {
        int last = -1;
        while (!cancellationToken.IsCancellationRequested)
        {
            using HttpResponseMessage response = await http.GetAsync(new Uri($"poll?after={last.ToString(CultureInfo.InvariantCulture)}", UriKind.Relative), cancellationToken).ConfigureAwait(false);
            if (response.StatusCode != HttpStatusCode.OK)
            {
                continue;
            }

            byte[] body = await response.Content.ReadAsByteArrayAsync(cancellationToken).ConfigureAwait(false);
            receiver.Record(body);
            last = LastSequence(body);
        }
    }

    private static int LastSequence(ReadOnlySpan<byte> json)
    {
        int last = -1;
        Utf8JsonReader reader = new(json);
        while (reader.Read())
        {
            if (reader.TokenType == JsonTokenType.PropertyName && reader.ValueTextEquals("seq"u8))
            {
                _ = reader.Read();
                last = reader.GetInt32();
            }
        }

        return last;
    }

    private sealed class Disposables(params IDisposable[] items) : IDisposable
    {
        public void Dispose()
        {
            foreach (IDisposable item in items)
            {
                item.Dispose();
            }
        }
    }
}
