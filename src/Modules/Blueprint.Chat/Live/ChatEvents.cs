using System.Text;
using System.Text.Json;
using Blueprint.Chat.Storage;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace Blueprint.Chat.Live;

/// <summary>
/// The SSE transport: one room's frames as server-sent events on the same connection model as the WebSocket (bounded
/// queue, slow consumers cut off, replay from an offset), for clients that send over HTTP POST. A message event carries
/// its id as the SSE <c>id</c>, so a reconnecting <c>EventSource</c> resumes with <c>Last-Event-ID</c>. The event framing is
/// written here rather than through <c>TypedResults.ServerSentEvents</c> because one writer loop
/// (<see cref="ChatConnection.WriteAsync"/>) drives both transports, with the queue's accounting and the close in it.
/// </summary>
internal sealed class ChatEvents(ChatService chat, ChatHub hub, IOptions<ChatOptions> options, TimeProvider time, IHostApplicationLifetime lifetime)
{
    private static readonly byte[] Ping = Frames.Json(new { type = "ping" });

    private readonly ChatOptions _options = options.Value;

    /// <summary>Subscribes (refusing with a <see cref="ChatException"/> before anything is written), then streams until the client goes or is cut off.</summary>
    public async Task RunAsync(HttpContext context, ChatUser user, long room, long? since)
    {
        var connection = new ChatConnection(_options.SendQueueLimit) { User = user };
        hub.Add(connection);
        // A stopping node ends the stream with a close event; EventSource reconnects (elsewhere) with Last-Event-ID.
        using var stopping = lifetime.ApplicationStopping.Register(() => connection.Close(1001, "the node is stopping"));
        try
        {
            await chat.SubscribeAsync(connection, room, since, null, context.RequestAborted).ConfigureAwait(false);
            var response = context.Response;
            response.ContentType = "text/event-stream";
            response.Headers.CacheControl = "no-cache";
            response.Headers["X-Accel-Buffering"] = "no";
            await response.Body.FlushAsync(context.RequestAborted).ConfigureAwait(false);

            using var timer = new PeriodicTimer(TimeSpan.FromSeconds(_options.HeartbeatSeconds), time);
            var heartbeat = HeartbeatAsync(connection, timer, context.RequestAborted);
            try
            {
                await connection.WriteAsync(
                    (frame, token) => WriteEventAsync(response, frame, token),
                    (code, reason, token) => WriteEventAsync(response, Frames.Json(new { type = "close", code, reason }), token),
                    context.RequestAborted).ConfigureAwait(false);
            }
            catch (Exception e) when (e is OperationCanceledException or IOException)
            {
                // The client went away.
            }
            finally
            {
                timer.Dispose();
                await heartbeat.ConfigureAwait(false);
            }
        }
        finally
        {
            hub.Remove(connection);
            connection.Abandon();
        }
    }

    private static async Task WriteEventAsync(HttpResponse response, byte[] frame, CancellationToken cancellationToken)
    {
        var head = new StringBuilder();
        using (var document = JsonDocument.Parse(frame))
        {
            var type = document.RootElement.GetProperty("type").GetString();
            head.Append("event: ").Append(type).Append('\n');
            // The event's id is its offset in the room, what Last-Event-ID resumes from: a message's id, a change's seq.
            if (document.RootElement.TryGetProperty("seq", out var seq))
            {
                head.Append("id: ").Append(seq.GetString()).Append('\n');
            }
            else if (type == "message")
            {
                head.Append("id: ").Append(document.RootElement.GetProperty("id").GetString()).Append('\n');
            }
        }

        head.Append("data: ");
        await response.Body.WriteAsync(Encoding.UTF8.GetBytes(head.ToString()), cancellationToken).ConfigureAwait(false);
        await response.Body.WriteAsync(frame, cancellationToken).ConfigureAwait(false);
        await response.Body.WriteAsync("\n\n"u8.ToArray(), cancellationToken).ConfigureAwait(false);
        await response.Body.FlushAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Pings every heartbeat, so proxies keep the stream open and a dead client is noticed by a failed write.</summary>
    private async Task HeartbeatAsync(ChatConnection connection, PeriodicTimer timer, CancellationToken cancellationToken)
    {
        try
        {
            while (await timer.WaitForNextTickAsync(cancellationToken).ConfigureAwait(false))
            {
                hub.Deliver(connection, Ping, FrameKind.Droppable);
            }
        }
        catch (OperationCanceledException)
        {
            // The stream ended.
        }
    }
}
