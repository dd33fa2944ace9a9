using System.Buffers;
using System.Globalization;
using System.Net.WebSockets;
using System.Text.Json;
using Blueprint.Chat.Storage;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace Blueprint.Chat.Live;

/// <summary>
/// One WebSocket client speaking the chat protocol (docs/chat.md): JSON text frames in, each answered or refused with a
/// coded error; a writer draining the connection's bounded queue; a heartbeat that pings, refreshes presence and closes a
/// connection that has gone quiet.
/// </summary>
internal sealed class ChatSocket(ChatService chat, ChatHub hub, Presence presence, IOptions<ChatOptions> options, TimeProvider time, IHostApplicationLifetime lifetime)
{
    /// <summary>The close code of a connection that sent nothing for <see cref="ChatOptions.IdleTimeoutSeconds"/>.</summary>
    public const int IdleCloseCode = 4001;

    /// <summary>How long a stopping node waits for a client to answer its close before dropping the connection.</summary>
    private static readonly TimeSpan StopGrace = TimeSpan.FromSeconds(2);

    /// <summary>How much of a message is read at a time.</summary>
    private const int ChunkBytes = 4096;

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);
    private static readonly byte[] Ping = Frames.Json(new { type = "ping" });

    private readonly ChatOptions _options = options.Value;

    /// <summary>A frame from the client; which fields matter depends on <see cref="Type"/>.</summary>
    internal sealed record ClientFrame(string? Type, string? Ref, string? Token, string? Room, string? Since, string? Id, string? Text);

    public async Task RunAsync(HttpContext context, ChatUser? user)
    {
        using var socket = await context.WebSockets.AcceptWebSocketAsync().ConfigureAwait(false);
        using var ended = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted);
        var connection = new ChatConnection(_options.SendQueueLimit);
        var lastHeard = new StrongBox(time.GetTimestamp());
        if (user is not null)
        {
            await AuthenticatedAsync(connection, user, null, ended.Token).ConfigureAwait(false);
        }

        // A stopping node says goodbye (1001, going away) and gives the client a moment to answer the close; the clients
        // reconnect elsewhere and recover by offset.
        using var stopping = lifetime.ApplicationStopping.Register(() =>
        {
            connection.Close((int)WebSocketCloseStatus.EndpointUnavailable, "the node is stopping");
            ended.CancelAfter(StopGrace);
        });
        var writer = WriteAsync(connection, socket, ended);
        var heartbeat = HeartbeatAsync(connection, socket, lastHeard, ended);
        try
        {
            await ReceiveAsync(connection, socket, lastHeard, ended.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (e is WebSocketException or OperationCanceledException)
        {
            // The client is gone.
        }
        finally
        {
            hub.Remove(connection);
            // The writer sends a close already queued, then ends; the heartbeat aborts it if it is stuck on a dead client.
            connection.Abandon();
            await writer.ConfigureAwait(false);
            await ended.CancelAsync().ConfigureAwait(false);
            await heartbeat.ConfigureAwait(false);
            if (connection.User is { } known && !hub.HasConnection(known.Id))
            {
                await presence.LeaveAsync(known, CancellationToken.None).ConfigureAwait(false);
            }
        }
    }

    private async Task ReceiveAsync(ChatConnection connection, WebSocket socket, StrongBox lastHeard, CancellationToken cancellationToken)
    {
        // Grows to the largest message this client has sent, up to the limit: an idle connection holds a few kilobytes.
        var buffer = new ArrayBufferWriter<byte>(ChunkBytes);
        while (true)
        {
            buffer.ResetWrittenCount();
            ValueWebSocketReceiveResult received;
            do
            {
                var room = _options.MaxFrameBytes - buffer.WrittenCount;
                if (room == 0)
                {
                    // Too large: refuse the rest unread. 1009 is WebSocket's "message too big".
                    connection.Close((int)WebSocketCloseStatus.MessageTooBig, $"frame over {_options.MaxFrameBytes} bytes");
                    await DrainAsync(socket, cancellationToken).ConfigureAwait(false);
                    return;
                }

                var memory = buffer.GetMemory(Math.Min(ChunkBytes, room));
                received = await socket.ReceiveAsync(memory[..Math.Min(memory.Length, room)], cancellationToken).ConfigureAwait(false);
                if (received.MessageType == WebSocketMessageType.Close)
                {
                    connection.Close((int)(socket.CloseStatus ?? WebSocketCloseStatus.NormalClosure), "bye");
                    return;
                }

                buffer.Advance(received.Count);
            }
            while (!received.EndOfMessage);

            lastHeard.Value = time.GetTimestamp();
            if (!connection.IsClosing)
            {
                await HandleAsync(connection, buffer.WrittenMemory, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    /// <summary>After the server closed: reads (and ignores) what still comes until the client's close.</summary>
    private static async Task DrainAsync(WebSocket socket, CancellationToken cancellationToken)
    {
        var buffer = new byte[ChunkBytes];
        while ((await socket.ReceiveAsync(buffer.AsMemory(), cancellationToken).ConfigureAwait(false)).MessageType != WebSocketMessageType.Close)
        {
        }
    }

    private async Task HandleAsync(ChatConnection connection, ReadOnlyMemory<byte> bytes, CancellationToken cancellationToken)
    {
        ClientFrame? frame = null;
        try
        {
            try
            {
                frame = JsonSerializer.Deserialize<ClientFrame>(bytes.Span, Json);
            }
            catch (JsonException e)
            {
                throw new ChatException(ChatErrors.BadFrame, $"not a JSON object of the protocol: {e.Message}");
            }

            if (frame?.Type is not { } type)
            {
                throw new ChatException(ChatErrors.BadFrame, "every frame is a JSON object with a \"type\"");
            }

            if (type is "ping")
            {
                Reply(connection, new { type = "pong", @ref = frame.Ref });
                return;
            }

            if (type is "pong")
            {
                return;
            }

            if (type is "auth")
            {
                var user = connection.User is null
                    ? await chat.AuthenticateAsync(frame.Token, cancellationToken).ConfigureAwait(false) ?? throw new ChatException(ChatErrors.Unauthorized, "unknown or malformed token")
                    : throw new ChatException(ChatErrors.BadFrame, "already authenticated");
                await AuthenticatedAsync(connection, user, frame.Ref, cancellationToken).ConfigureAwait(false);
                return;
            }

            var me = connection.User ?? throw new ChatException(ChatErrors.Unauthorized, "authenticate first: {\"type\":\"auth\",\"token\":\"<api key>\"}");
            var room = ParseId(frame.Room, "room");
            switch (type)
            {
                case "subscribe":
                    await chat.SubscribeAsync(connection, room, frame.Since is null ? null : ParseId(frame.Since, "since", allowZero: true), frame.Ref, cancellationToken).ConfigureAwait(false);
                    break;
                case "unsubscribe":
                    hub.Unsubscribe(room, connection);
                    Reply(connection, new { type = "unsubscribed", @ref = frame.Ref, room = Frames.Id(room) });
                    break;
                case "send":
                    var sent = await chat.SendAsync(me, room, frame.Text, cancellationToken, connection).ConfigureAwait(false);
                    Reply(connection, new { type = "ack", @ref = frame.Ref, room = Frames.Id(room), id = Frames.Id(sent.Id) });
                    break;
                case "edit" or "delete":
                    var id = ParseId(frame.Id, "id");
                    await chat.RewriteAsync(me, room, id, type == "edit" ? frame.Text ?? "" : null, cancellationToken).ConfigureAwait(false);
                    Reply(connection, new { type = "ack", @ref = frame.Ref, room = Frames.Id(room), id = Frames.Id(id) });
                    break;
                case "delivered" or "read":
                    var upTo = ParseId(frame.Id, "id");
                    await chat.MarkAsync(me, room, upTo, type == "read", cancellationToken).ConfigureAwait(false);
                    Reply(connection, new { type = "ack", @ref = frame.Ref, room = Frames.Id(room), id = Frames.Id(upTo) });
                    break;
                case "typing":
                    await chat.TypingAsync(me, room, cancellationToken).ConfigureAwait(false);
                    break;
                default:
                    throw new ChatException(ChatErrors.UnknownType, $"unknown frame type '{type}'");
            }
        }
        catch (ChatException e)
        {
            hub.Deliver(connection, Frames.Error(e.Code, e.Message, frame?.Ref), FrameKind.Live);
        }
    }

    private async Task AuthenticatedAsync(ChatConnection connection, ChatUser user, string? reference, CancellationToken cancellationToken)
    {
        connection.User = user;
        hub.Add(connection);
        await presence.TouchAsync(user, cancellationToken).ConfigureAwait(false);
        Reply(connection, new { type = "ready", @ref = reference, user = user.Name, userId = Frames.Id(user.Id) });
    }

    private void Reply(ChatConnection connection, object frame) => hub.Deliver(connection, Frames.Json(frame), FrameKind.Live);

    /// <summary>A decimal id from a frame.</summary>
    internal static long ParseId(string? text, string field, bool allowZero = false) =>
        long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var id) && (id > 0 || (allowZero && id == 0))
            ? id
            : throw new ChatException(ChatErrors.BadFrame, $"\"{field}\" must be an id as a decimal string");

    private static async Task WriteAsync(ChatConnection connection, WebSocket socket, CancellationTokenSource ended)
    {
        try
        {
            await connection.WriteAsync(
                (frame, token) => socket.SendAsync(frame, WebSocketMessageType.Text, endOfMessage: true, token),
                (code, reason, token) => socket.CloseOutputAsync((WebSocketCloseStatus)code, reason, token),
                ended.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (e is WebSocketException or OperationCanceledException)
        {
            // The client is gone.
        }
    }

    private async Task HeartbeatAsync(ChatConnection connection, WebSocket socket, StrongBox lastHeard, CancellationTokenSource ended)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(_options.HeartbeatSeconds), time);
        var closingSeen = false;
        try
        {
            while (await timer.WaitForNextTickAsync(ended.Token).ConfigureAwait(false))
            {
                if (connection.IsClosing)
                {
                    if (closingSeen)
                    {
                        // Closed a heartbeat ago and the client has not finished the handshake (or not read the close): drop it.
                        socket.Abort();
                        await ended.CancelAsync().ConfigureAwait(false);
                        return;
                    }

                    closingSeen = true;
                }
                else if (time.GetElapsedTime(lastHeard.Value) > TimeSpan.FromSeconds(_options.IdleTimeoutSeconds))
                {
                    connection.Close(IdleCloseCode, "heartbeat timeout");
                }
                else
                {
                    hub.Deliver(connection, Ping, FrameKind.Droppable);
                    if (connection.User is { } user)
                    {
                        await presence.TouchAsync(user, ended.Token).ConfigureAwait(false);
                    }
                }
            }
        }
        catch (OperationCanceledException)
        {
            // The connection ended.
        }
    }

    /// <summary>A timestamp shared by the receive loop and the heartbeat.</summary>
    private sealed class StrongBox(long value)
    {
        private long _value = value;

        public long Value
        {
            get => Interlocked.Read(ref _value);
            set => Interlocked.Exchange(ref _value, value);
        }
    }
}
