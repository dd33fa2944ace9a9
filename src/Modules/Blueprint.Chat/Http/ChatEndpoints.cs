using Blueprint.Chat.Access;
using Blueprint.Chat.Live;
using Blueprint.Chat.Storage;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Options;

namespace Blueprint.Chat.Http;

/// <summary>
/// The chat's HTTP API on the node's port: users and their keys, rooms, direct conversations, membership, paged history,
/// sends, edits and deletes, receipts, presence, and the WebSocket at <c>/api/chat/ws</c>. Every call but creating a user
/// presents its user's key as <c>Authorization: Bearer &lt;key&gt;</c> (or <c>X-Api-Key</c>); refusals are problem+json
/// with the protocol's error code as the title.
/// </summary>
internal static class ChatEndpoints
{
    /// <summary>The body of a create-user, create-room, direct, send or edit call.</summary>
    /// <param name="Name">A user's or room's name.</param>
    /// <param name="User">The other user of a direct conversation.</param>
    /// <param name="Text">A message's text.</param>
    internal sealed record Body(string? Name, string? User, string? Text);

    /// <summary>The body of a receipt.</summary>
    /// <param name="Kind"><c>delivered</c> or <c>read</c>.</param>
    /// <param name="Id">The newest message id delivered or read.</param>
    internal sealed record ReceiptBody(string? Kind, string? Id);

    public static void Map(IEndpointRouteBuilder endpoints)
    {
        var api = endpoints.MapGroup("/api/chat");
        api.MapPost("/users", (Body body, ChatService chat, CancellationToken token) => Refusable(async () =>
            await chat.CreateUserAsync(body.Name, token).ConfigureAwait(false) is { } created
                ? Results.Created($"/api/chat/users/{created.User.Name}", new { id = Frames.Id(created.User.Id), name = created.User.Name, key = created.Key })
                : Problem(ChatErrors.Conflict, $"the name '{body.Name}' is taken")));
        api.MapPost("/tickets", (HttpContext context, ChatTickets tickets, IOptions<ChatOptions> options) => Authed(context, async (user, token) =>
            Results.Created((string?)null, new { ticket = await tickets.IssueAsync(user.Id, token).ConfigureAwait(false), expiresInSeconds = options.Value.TicketTtlSeconds })));
        api.MapGet("/me", (HttpContext context, CancellationToken _) => Authed(context, (user, _) => Task.FromResult(Results.Ok(new { id = Frames.Id(user.Id), name = user.Name }))));
        api.MapGet("/rooms", (HttpContext context, ChatService chat) => Authed(context, async (user, token) =>
            Results.Ok(new { rooms = (await chat.RoomsOfAsync(user, token).ConfigureAwait(false)).Select(Frames.Room) })));
        api.MapPost("/rooms", (HttpContext context, Body body, ChatService chat) => Authed(context, async (user, token) =>
        {
            var room = await chat.CreateRoomAsync(user, body.Name, token).ConfigureAwait(false);
            return Results.Created($"/api/chat/rooms/{Frames.Id(room.Id)}", Frames.Room(room));
        }));
        api.MapPost("/rooms/{room}/join", (string room, HttpContext context, ChatService chat) => Authed(context, async (user, token) =>
            Results.Ok(Frames.Room(await chat.JoinAsync(user, ChatSocket.ParseId(room, "room"), token).ConfigureAwait(false)))));
        api.MapPost("/direct", (HttpContext context, Body body, ChatService chat) => Authed(context, async (user, token) =>
            Results.Ok(Frames.Room(await chat.DirectAsync(user, body.User, token).ConfigureAwait(false)))));
        api.MapGet("/rooms/{room}/messages", (string room, string? before, int? limit, HttpContext context, ChatService chat) => Authed(context, async (user, token) =>
        {
            var (page, next) = await chat.HistoryAsync(user, ChatSocket.ParseId(room, "room"), before is null ? null : ChatSocket.ParseId(before, "before"), limit, token).ConfigureAwait(false);
            return Results.Ok(new { messages = await MessagesAsync(chat, page, token).ConfigureAwait(false), next = next is { } cursor ? Frames.Id(cursor) : null });
        }));
        api.MapPost("/rooms/{room}/messages", (string room, HttpContext context, Body body, ChatService chat) => Authed(context, async (user, token) =>
        {
            var message = await chat.SendAsync(user, ChatSocket.ParseId(room, "room"), body.Text, token).ConfigureAwait(false);
            return Results.Created($"/api/chat/rooms/{room}/messages/{Frames.Id(message.Id)}", Frames.Message(message, user.Name));
        }));
        api.MapPatch("/rooms/{room}/messages/{id}", (string room, string id, HttpContext context, Body body, ChatService chat) => Authed(context, async (user, token) =>
            Results.Ok(Frames.Message(await chat.RewriteAsync(user, ChatSocket.ParseId(room, "room"), ChatSocket.ParseId(id, "id"), body.Text ?? "", token).ConfigureAwait(false), user.Name))));
        api.MapDelete("/rooms/{room}/messages/{id}", (string room, string id, HttpContext context, ChatService chat) => Authed(context, async (user, token) =>
            Results.Ok(Frames.Message(await chat.RewriteAsync(user, ChatSocket.ParseId(room, "room"), ChatSocket.ParseId(id, "id"), null, token).ConfigureAwait(false), user.Name))));
        api.MapPost("/rooms/{room}/receipts", (string room, HttpContext context, ReceiptBody body, ChatService chat) => Authed(context, async (user, token) =>
        {
            if (body.Kind is not ("read" or "delivered"))
            {
                return Problem(ChatErrors.BadFrame, "kind must be 'read' or 'delivered'");
            }

            await chat.MarkAsync(user, ChatSocket.ParseId(room, "room"), ChatSocket.ParseId(body.Id, "id"), body.Kind == "read", token).ConfigureAwait(false);
            return Results.NoContent();
        }));
        api.MapGet("/rooms/{room}/receipts", (string room, HttpContext context, ChatService chat) => Authed(context, async (user, token) =>
        {
            var receipts = new List<object>();
            foreach (var receipt in await chat.ReceiptsAsync(user, ChatSocket.ParseId(room, "room"), token).ConfigureAwait(false))
            {
                receipts.Add(new { user = await chat.NameOfAsync(receipt.UserId, token).ConfigureAwait(false), delivered = Frames.Id(receipt.DeliveredUpTo), read = Frames.Id(receipt.ReadUpTo) });
            }

            return Results.Ok(new { receipts });
        }));
        // An EventSource cannot set headers: it shows a ticket in the URL instead (ChatTickets).
        api.MapGet("/rooms/{room}/events", (string room, string? since, HttpContext context, ChatEvents events) => Authed(context, allowTicket: true, async (user, _) =>
        {
            // EventSource resumes with the id of the last message event it saw.
            var lastEventId = context.Request.Headers["Last-Event-ID"].ToString();
            var resume = since ?? (lastEventId.Length > 0 ? lastEventId : null);
            await events.RunAsync(context, user, ChatSocket.ParseId(room, "room"), resume is null ? null : ChatSocket.ParseId(resume, "since", allowZero: true)).ConfigureAwait(false);
            return Results.Empty;
        }));
        api.MapGet("/rooms/{room}/poll", (string room, string? since, int? wait, HttpContext context, ChatService chat) => Authed(context, async (user, token) =>
        {
            var after = ChatSocket.ParseId(since ?? "0", "since", allowZero: true);
            var (page, gapBefore) = await chat.PollAsync(user, ChatSocket.ParseId(room, "room"), after, TimeSpan.FromSeconds(Math.Clamp(wait ?? 25, 0, 60)), token).ConfigureAwait(false);
            return Results.Ok(new
            {
                messages = await MessagesAsync(chat, page, token).ConfigureAwait(false),
                last = Frames.Id(page.Count > 0 ? page[^1].Id : after),
                gap = gapBefore is { } before ? new { after = Frames.Id(after), before = Frames.Id(before) } : null,
            });
        }));
        api.MapPost("/rooms/{room}/typing", (string room, HttpContext context, ChatService chat) => Authed(context, async (user, token) =>
        {
            await chat.TypingAsync(user, ChatSocket.ParseId(room, "room"), token).ConfigureAwait(false);
            return Results.NoContent();
        }));
        api.MapGet("/users/{name}/presence", (string name, HttpContext context, ChatStore store, Presence presence) => Authed(context, async (_, token) =>
            await store.UserByNameAsync(name, token).ConfigureAwait(false) is { } other
                ? Results.Ok(new { user = other.Name, online = await presence.IsOnlineAsync(other.Id, token).ConfigureAwait(false) })
                : Problem(ChatErrors.NotFound, $"there is no user '{name}'")));
        api.MapGet("/ws", async (HttpContext context, ChatService chat, ChatSocket socket) =>
        {
            if (!context.WebSockets.IsWebSocketRequest)
            {
                await Problem(ChatErrors.BadFrame, "connect with a WebSocket client (Upgrade: websocket)").ExecuteAsync(context).ConfigureAwait(false);
                return;
            }

            // A key in the headers authenticates at once; a browser, which cannot set them, sends an auth frame instead.
            var key = KeyOf(context.Request);
            var user = key is null ? null : await chat.AuthenticateAsync(key, context.RequestAborted).ConfigureAwait(false);
            if (key is not null && user is null)
            {
                await Problem(ChatErrors.Unauthorized, "unknown or malformed key or token").ExecuteAsync(context).ConfigureAwait(false);
                return;
            }

            await socket.RunAsync(context, user).ConfigureAwait(false);
        });
    }

    /// <summary>Messages as the protocol shows them, with their senders' names.</summary>
    private static async Task<List<object>> MessagesAsync(ChatService chat, List<ChatMessage> page, CancellationToken cancellationToken)
    {
        var messages = new List<object>(page.Count);
        foreach (var message in page)
        {
            messages.Add(Frames.Message(message, await chat.NameOfAsync(message.UserId, cancellationToken).ConfigureAwait(false)));
        }

        return messages;
    }

    private static string? KeyOf(HttpRequest request)
    {
        var authorization = request.Headers.Authorization.ToString();
        return authorization.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) ? authorization["Bearer ".Length..].Trim()
            : request.Headers["X-Api-Key"].ToString() is { Length: > 0 } key ? key
            : null;
    }

    private static IResult Problem(string code, string detail) => Results.Problem(detail: detail, statusCode: ChatErrors.HttpStatus(code), title: code);

    private static async Task<IResult> Refusable(Func<Task<IResult>> action)
    {
        try
        {
            return await action().ConfigureAwait(false);
        }
        catch (ChatException e)
        {
            return Problem(e.Code, e.Message);
        }
    }

    private static Task<IResult> Authed(HttpContext context, Func<ChatUser, CancellationToken, Task<IResult>> action) => Authed(context, allowTicket: false, action);

    private static Task<IResult> Authed(HttpContext context, bool allowTicket, Func<ChatUser, CancellationToken, Task<IResult>> action) => Refusable(async () =>
    {
        var chat = context.RequestServices.GetService(typeof(ChatService)) as ChatService;
        var credential = KeyOf(context.Request);
        if (credential is null && allowTicket && context.Request.Query["ticket"].ToString() is { } ticket && ChatTickets.IsWellFormed(ticket))
        {
            credential = ticket;
        }

        var user = await chat!.AuthenticateAsync(credential, context.RequestAborted).ConfigureAwait(false);
        return user is null
            ? Problem(ChatErrors.Unauthorized, "present your key or token as Authorization: Bearer <key> (or X-Api-Key)")
            : await action(user, context.RequestAborted).ConfigureAwait(false);
    });
}
