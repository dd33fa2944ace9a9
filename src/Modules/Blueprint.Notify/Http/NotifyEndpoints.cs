using System.Globalization;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using Blueprint.Log;
using Blueprint.Notify.Channels;
using Blueprint.Notify.Pipeline;
using Blueprint.Notify.State;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Blueprint.Notify.Http;

/// <summary>
/// The notify module's own HTTP API on the node's port: publish (202 once durable, <c>Idempotency-Key</c> honoured),
/// delivery status per message, the dead letters and their re-drive, and the live inboxes over SSE and WebSocket.
/// </summary>
internal static class NotifyEndpoints
{
    /// <summary>The most inbox records one read scans.</summary>
    private const int InboxBatch = 500;

    /// <summary>How long an inbox stream waits for a record before a keep-alive.</summary>
    private static readonly TimeSpan InboxWait = TimeSpan.FromSeconds(15);

    /// <summary>Maps the endpoints.</summary>
    public static void Map(IEndpointRouteBuilder endpoints)
    {
        var api = endpoints.MapGroup("/api/notify");
        api.MapPost("/topics/{name}/messages", PublishAsync);
        api.MapGet("/messages/{id}", (string id, DeliveryLedger ledger) =>
            ledger.AttemptsOf(id) is { Count: > 0 } attempts
                ? Results.Ok(new { messageId = id, attempts })
                : Problem(StatusCodes.Status404NotFound, "Unknown message", $"no attempt of message '{id}' is known (not published, not yet fanned out, or older than the status index)"));
        api.MapGet("/dead-letters", (DeliveryLedger ledger) => Results.Ok(new { deadLetters = ledger.DeadLetters }));
        api.MapPost("/dead-letters/redrive", RedriveAsync);
        api.MapGet("/inbox/{name}/events", InboxEventsAsync);
        api.MapGet("/inbox/{name}/ws", InboxWebSocketAsync);
    }

    private static IResult Problem(int status, string title, string detail) => Results.Problem(detail: detail, statusCode: status, title: title);

    /// <summary>The body of a publish.</summary>
    /// <param name="Message">The message.</param>
    /// <param name="Subject">The subject, or null.</param>
    /// <param name="Attributes">String attributes (filter policies match them), or null.</param>
    internal sealed record PublishBody(string? Message, string? Subject, Dictionary<string, string>? Attributes);

    private static async Task<IResult> PublishAsync(string name, HttpRequest request, NotifyState state, Publisher publisher, CancellationToken cancellationToken)
    {
        if (state.FindTopic(state.TopicArn(name)) is not { } topic)
        {
            return Problem(StatusCodes.Status404NotFound, "Unknown topic", $"there is no topic '{name}'");
        }

        PublishBody? body;
        try
        {
            body = await request.ReadFromJsonAsync<PublishBody>(cancellationToken).ConfigureAwait(false);
        }
        catch (JsonException e)
        {
            return Problem(StatusCodes.Status400BadRequest, "Invalid message", $"send {{\"message\": \"…\", \"subject\": \"…\", \"attributes\": {{\"k\": \"v\"}}}}: {e.Message}");
        }
        catch (InvalidOperationException e)
        {
            return Problem(StatusCodes.Status415UnsupportedMediaType, "Invalid message", e.Message);
        }

        var attributes = (body?.Attributes ?? []).ToDictionary(pair => pair.Key, pair => new AttributeValue("String", pair.Value), StringComparer.Ordinal);
        if (publisher.Check(body?.Message, body?.Subject, null, attributes) is { } refused)
        {
            return Problem(StatusCodes.Status400BadRequest, "Invalid message", refused);
        }

        var message = publisher.Create(topic.Arn, body!.Message!, body.Subject, null, attributes);
        var key = request.Headers["Idempotency-Key"].ToString();
        var (messageId, replayed) = await publisher.AcceptOnceAsync(key.Length > 0 ? key : null, message, cancellationToken).ConfigureAwait(false);
        return Results.Json(new { messageId, replayed }, statusCode: StatusCodes.Status202Accepted);
    }

    /// <summary>The body of a re-drive: the delivery ids, or none for every dead letter.</summary>
    /// <param name="DeliveryIds">The ids, or null.</param>
    internal sealed record RedriveBody(List<string>? DeliveryIds);

    private static async Task<IResult> RedriveAsync(HttpRequest request, NotifyPipeline pipeline, CancellationToken cancellationToken)
    {
        RedriveBody? body = null;
        if (request.ContentLength is > 0)
        {
            try
            {
                body = await request.ReadFromJsonAsync<RedriveBody>(cancellationToken).ConfigureAwait(false);
            }
            catch (JsonException e)
            {
                return Problem(StatusCodes.Status400BadRequest, "Invalid re-drive", $"send {{\"deliveryIds\": [\"…\"]}} or nothing for all: {e.Message}");
            }
        }

        var count = await pipeline.RedriveAsync(body?.DeliveryIds, cancellationToken).ConfigureAwait(false);
        return Results.Ok(new { redriven = count });
    }

    /// <summary>Where an inbox stream starts: after <c>Last-Event-ID</c> or <c>?after=</c> (-1: from the start), else at the end (live only).</summary>
    private static long? StartOf(HttpRequest request, IEventLog log, int partition)
    {
        var after = request.Headers["Last-Event-ID"].ToString();
        if (after.Length == 0)
        {
            after = request.Query["after"].ToString();
        }

        if (after.Length == 0)
        {
            return log.Offsets(PipelineTopics.Inbox, partition).End;
        }

        // -1 replays the whole inbox (what the log still keeps).
        return long.TryParse(after, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var id) && id >= -1
            ? Math.Max(id + 1, log.Offsets(PipelineTopics.Inbox, partition).Start)
            : null;
    }

    /// <summary>The inbox's partition and where its stream starts; null after answering 400 when the name or the id is not valid.</summary>
    private static async Task<(int Partition, long Offset)?> OpenInboxAsync(string name, HttpContext context, IEventLog log)
    {
        if (!InboxChannel.IsInboxName(name))
        {
            await Problem(StatusCodes.Status400BadRequest, "Invalid inbox", "an inbox name is 1 to 128 letters, digits, '.', '_', '-', '@'").ExecuteAsync(context).ConfigureAwait(false);
            return null;
        }

        var partition = Blueprint.Core.Hashing.Murmur2.Partition(Encoding.UTF8.GetBytes(name), log.PartitionCount(PipelineTopics.Inbox));
        if (StartOf(context.Request, log, partition) is not { } offset)
        {
            await Problem(StatusCodes.Status400BadRequest, "Invalid event id", "Last-Event-ID (or ?after=) must be an event id this inbox sent").ExecuteAsync(context).ConfigureAwait(false);
            return null;
        }

        return (partition, offset);
    }

    private static async Task InboxEventsAsync(string name, HttpContext context, IEventLog log)
    {
        if (await OpenInboxAsync(name, context, log).ConfigureAwait(false) is not { } opened)
        {
            return;
        }

        var (partition, offset) = opened;

        var token = context.RequestAborted;
        context.Response.ContentType = "text/event-stream";
        context.Response.Headers.CacheControl = "no-cache";
        await context.Response.WriteAsync(": inbox " + name + "\n\n", token).ConfigureAwait(false);
        await context.Response.Body.FlushAsync(token).ConfigureAwait(false);
        try
        {
            while (!token.IsCancellationRequested)
            {
                var entries = await log.ReadAsync(PipelineTopics.Inbox, partition, offset, InboxBatch, InboxWait, token).ConfigureAwait(false);
                var text = new StringBuilder();
                foreach (var entry in entries)
                {
                    offset = entry.Offset + 1;
                    if (Encoding.UTF8.GetString(entry.Key ?? []) != name)
                    {
                        continue;
                    }

                    text.Append("id: ").Append(entry.Offset.ToString(CultureInfo.InvariantCulture)).Append("\nevent: notification\n");
                    foreach (var line in Encoding.UTF8.GetString(entry.Value ?? []).Split('\n'))
                    {
                        text.Append("data: ").Append(line.TrimEnd('\r')).Append('\n');
                    }

                    text.Append('\n');
                }

                await context.Response.WriteAsync(text.Length > 0 ? text.ToString() : ": keep-alive\n\n", token).ConfigureAwait(false);
                await context.Response.Body.FlushAsync(token).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (token.IsCancellationRequested)
        {
            // The client went away.
        }
    }

    private static async Task InboxWebSocketAsync(string name, HttpContext context, IEventLog log)
    {
        if (!context.WebSockets.IsWebSocketRequest)
        {
            await Problem(StatusCodes.Status400BadRequest, "Not a WebSocket request", "connect with a WebSocket client (Upgrade: websocket)").ExecuteAsync(context).ConfigureAwait(false);
            return;
        }

        if (await OpenInboxAsync(name, context, log).ConfigureAwait(false) is not { } opened)
        {
            return;
        }

        var (partition, offset) = opened;

        using var socket = await context.WebSockets.AcceptWebSocketAsync().ConfigureAwait(false);
        using var closed = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted);
        var token = closed.Token;

        // The reader notices the client's close; the stream itself only sends.
        var reader = Task.Run(
            async () =>
            {
                var buffer = new byte[1024];
                try
                {
                    while (socket.State == WebSocketState.Open)
                    {
                        var received = await socket.ReceiveAsync(buffer, token).ConfigureAwait(false);
                        if (received.MessageType == WebSocketMessageType.Close)
                        {
                            break;
                        }
                    }
                }
                catch (Exception e) when (e is WebSocketException or OperationCanceledException)
                {
                    // Closed either way.
                }
                finally
                {
                    await closed.CancelAsync().ConfigureAwait(false);
                }
            },
            CancellationToken.None);
        try
        {
            while (!token.IsCancellationRequested)
            {
                var entries = await log.ReadAsync(PipelineTopics.Inbox, partition, offset, InboxBatch, InboxWait, token).ConfigureAwait(false);
                foreach (var entry in entries)
                {
                    offset = entry.Offset + 1;
                    if (Encoding.UTF8.GetString(entry.Key ?? []) != name)
                    {
                        continue;
                    }

                    var frame = JsonSerializer.SerializeToUtf8Bytes(new { id = entry.Offset.ToString(CultureInfo.InvariantCulture), message = Encoding.UTF8.GetString(entry.Value ?? []) });
                    await socket.SendAsync(frame, WebSocketMessageType.Text, endOfMessage: true, token).ConfigureAwait(false);
                }
            }
        }
        catch (Exception e) when (e is OperationCanceledException or WebSocketException)
        {
            // The client went away.
        }

        // Completes the close handshake, whichever side began it.
        if (socket.State is WebSocketState.Open or WebSocketState.CloseReceived)
        {
            try
            {
                await socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "bye", CancellationToken.None).ConfigureAwait(false);
            }
            catch (WebSocketException)
            {
                // The client is gone already.
            }
        }

        await reader.ConfigureAwait(false);
    }
}
