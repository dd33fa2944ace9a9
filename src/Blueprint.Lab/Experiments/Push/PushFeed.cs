using System.Globalization;
using System.Net.WebSockets;
using System.Text;
using System.Threading.Channels;

using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace Blueprint.Lab.Experiments.Push;

/// <summary>The three ways a client is pushed a room's messages in the long-polling experiment.</summary>
internal enum PushTransport
{
    /// <summary>One WebSocket per client; the server sends a text frame per message.</summary>
    WebSocket,

    /// <summary>One Server-Sent Events response per client; the server writes an event per message.</summary>
    ServerSentEvents,

    /// <summary>A GET per poll that the server holds until a message after the client's last one exists, then answers with all of them.</summary>
    LongPolling,
}

/// <summary>
/// A room's feed on Kestrel: messages get consecutive sequence numbers and the time they were published, and are pushed
/// the same JSON (<c>{"seq":…,"t":…,"body":"…"}</c>) over <c>/ws</c> (a frame each), <c>/sse</c> (an event each) and
/// <c>/poll?after=N</c> (a JSON array of every message after N, the request held up to <see cref="PollHold"/> when
/// there is none). Every message of a run is kept, so a poll never misses one.
/// </summary>
internal sealed class PushFeed
{
    /// <summary>The longest a poll is held open without a message (then 204, and the client polls again).</summary>
    public static readonly TimeSpan PollHold = TimeSpan.FromSeconds(20);

    /// <summary>Messages queued for one WebSocket or SSE client at most; past it the client is too slow and later ones are dropped (counted).</summary>
    private const int ClientQueue = 65_536;

    /// <summary>The most messages one poll answers with.</summary>
    private const int MaxPerPoll = 1_000;

    private static readonly byte[] EventStart = "data: "u8.ToArray();
    private static readonly byte[] EventEnd = "\n\n"u8.ToArray();

    private readonly Lock _gate = new();
    private readonly List<byte[]> _messages = [];
    private readonly List<Channel<byte[]>> _streams = [];
    private TaskCompletionSource _next = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private long _polls;
    private long _dropped;

    /// <summary>Gets the number of poll requests answered (with messages or empty).</summary>
    public long Polls => Interlocked.Read(ref _polls);

    /// <summary>Gets the messages dropped for a WebSocket or SSE client whose queue was full.</summary>
    public long Dropped => Interlocked.Read(ref _dropped);

    /// <summary>Gets the number of connected WebSocket and SSE clients.</summary>
    public int Streams
    {
        get
        {
            lock (_gate)
            {
                return _streams.Count;
            }
        }
    }

    /// <summary>Gets the sequence number of the last message published, or -1.</summary>
    public int Last
    {
        get
        {
            lock (_gate)
            {
                return _messages.Count - 1;
            }
        }
    }

    /// <summary>The message JSON of <paramref name="sequence"/>, published at <paramref name="timestamp"/> (Stopwatch ticks), with a body of <paramref name="bodyBytes"/> characters.</summary>
    public static byte[] Encode(int sequence, long timestamp, int bodyBytes) =>
        Encoding.UTF8.GetBytes(string.Create(CultureInfo.InvariantCulture, $"{{\"seq\":{sequence},\"t\":{timestamp},\"body\":\"{new string('x', bodyBytes)}\"}}"));

    /// <summary>Publishes the next message: queued for every stream and signalled to every held poll.</summary>
    public void Publish(long timestamp, int bodyBytes)
    {
        TaskCompletionSource signalled;
        lock (_gate)
        {
            byte[] message = Encode(_messages.Count, timestamp, bodyBytes);
            _messages.Add(message);
            foreach (Channel<byte[]> stream in _streams)
            {
                if (!stream.Writer.TryWrite(message))
                {
                    _ = Interlocked.Increment(ref _dropped);
                }
            }

            signalled = _next;
            _next = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        }

        signalled.SetResult();
    }

    /// <summary>Maps <c>/ws</c>, <c>/sse</c> and <c>/poll</c>.</summary>
    public void Map(WebApplication app)
    {
        _ = app.UseWebSockets(new WebSocketOptions { KeepAliveInterval = TimeSpan.Zero });
        _ = app.Map("/ws", WebSocketAsync);
        _ = app.MapGet("/sse", ServerSentEventsAsync);
        _ = app.MapGet("/poll", PollAsync);
    }

    private Channel<byte[]> Register()
    {
        Channel<byte[]> stream = Channel.CreateBounded<byte[]>(new BoundedChannelOptions(ClientQueue) { SingleReader = true, FullMode = BoundedChannelFullMode.DropWrite });
        lock (_gate)
        {
            _streams.Add(stream);
        }

        return stream;
    }

    private void Unregister(Channel<byte[]> stream)
    {
        lock (_gate)
        {
            _ = _streams.Remove(stream);
        }
    }

    private async Task WebSocketAsync(HttpContext context)
    {
        if (!context.WebSockets.IsWebSocketRequest)
        {
            context.Response.StatusCode = StatusCodes.Status400BadRequest;
            return;
        }

        // Registered before the upgrade completes: a message published as soon as the client is connected is queued.
        Channel<byte[]> stream = Register();
        try
        {
            using WebSocket socket = await context.WebSockets.AcceptWebSocketAsync().ConfigureAwait(false);
            await foreach (byte[] message in stream.Reader.ReadAllAsync(context.RequestAborted).ConfigureAwait(false))
            {
                await socket.SendAsync(message, WebSocketMessageType.Text, endOfMessage: true, context.RequestAborted).ConfigureAwait(false);
            }
        }
        catch (Exception e) when (e is WebSocketException or OperationCanceledException or IOException)
        {
        }
        finally
        {
            Unregister(stream);
        }
    }

    private async Task ServerSentEventsAsync(HttpContext context)
    {
        context.Response.ContentType = "text/event-stream";
        context.Response.Headers.CacheControl = "no-cache";
        Channel<byte[]> stream = Register();
        try
        {
            await context.Response.Body.FlushAsync(context.RequestAborted).ConfigureAwait(false);
            while (await stream.Reader.WaitToReadAsync(context.RequestAborted).ConfigureAwait(false))
            {
                // Every event already queued goes out in one flush, as an SSE server writes what it has.
                while (stream.Reader.TryRead(out byte[]? message))
                {
                    await context.Response.Body.WriteAsync(EventStart, context.RequestAborted).ConfigureAwait(false);
                    await context.Response.Body.WriteAsync(message, context.RequestAborted).ConfigureAwait(false);
                    await context.Response.Body.WriteAsync(EventEnd, context.RequestAborted).ConfigureAwait(false);
                }

                await context.Response.Body.FlushAsync(context.RequestAborted).ConfigureAwait(false);
            }
        }
        catch (Exception e) when (e is OperationCanceledException or IOException)
        {
        }
        finally
        {
            Unregister(stream);
        }
    }

    private async Task PollAsync(HttpContext context)
    {
        int after = int.TryParse(context.Request.Query["after"], NumberStyles.Integer, CultureInfo.InvariantCulture, out int parsed) ? parsed : -1;
        using CancellationTokenSource hold = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted);
        hold.CancelAfter(PollHold);
        try
        {
            while (true)
            {
                Task next;
                List<byte[]> found;
                lock (_gate)
                {
                    int from = Math.Max(after + 1, 0);
                    found = from < _messages.Count ? _messages.GetRange(from, Math.Min(MaxPerPoll, _messages.Count - from)) : [];
                    next = _next.Task;
                }

                if (found.Count > 0)
                {
                    _ = Interlocked.Increment(ref _polls);
                    context.Response.ContentType = "application/json";
                    int length = found.Sum(message => message.Length) + found.Count + 1;
                    context.Response.ContentLength = length;
                    byte[] body = new byte[length];
                    int at = 0;
                    for (int i = 0; i < found.Count; i++)
                    {
                        body[at++] = i == 0 ? (byte)'[' : (byte)',';
                        found[i].CopyTo(body, at);
                        at += found[i].Length;
                    }

                    body[at] = (byte)']';
                    await context.Response.Body.WriteAsync(body, context.RequestAborted).ConfigureAwait(false);
                    return;
                }

                await next.WaitAsync(hold.Token).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (!context.RequestAborted.IsCancellationRequested)
        {
            _ = Interlocked.Increment(ref _polls);
            context.Response.StatusCode = StatusCodes.Status204NoContent;
        }
        catch (OperationCanceledException)
        {
        }
    }
}
