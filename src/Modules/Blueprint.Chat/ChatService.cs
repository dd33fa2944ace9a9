using System.Text;
using BitFaster.Caching.Lru;
using Blueprint.Chat.Access;
using Blueprint.Chat.Live;
using Blueprint.Chat.Storage;
using Blueprint.Core.Identifiers;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace Blueprint.Chat;

/// <summary>
/// What a user can do, the same over WebSocket and HTTP: every check (room known, membership, authorship, size) and every
/// change of a room under its gate, stored first and then queued to the room's subscribers.
/// </summary>
internal sealed class ChatService(ChatStore store, MessageWriter writer, ChatHub hub, RoomBus bus, ChatTokens tokens, ChatTickets tickets, IOptions<ChatOptions> options, TimeProvider time, IHostApplicationLifetime lifetime)
{
    /// <summary>How long a WebSocket send waits for the node to dispatch its message before acking anyway (the bus is slow or gone).</summary>
    private static readonly TimeSpan SenderCopyWait = TimeSpan.FromSeconds(2);

    /// <summary>The bound of each cache below.</summary>
    private const int CacheEntries = 65_536;

    private readonly ChatOptions _options = options.Value;
    private readonly Lock _idLock = new();
    private TimeOrderedIds? _ids;
    private int _pollsWaiting;

    /// <summary>Long polls waiting for a message on this node now.</summary>
    public int PollsWaiting => Volatile.Read(ref _pollsWaiting);
    // Caches of what never changes once written (the chat has no renames, key revocation, leaving or room deletion),
    // so they are never stale; each bounded, least recently used out. They take the SQL reads off every send and call.
    private readonly ConcurrentLru<long, string> _names = new(CacheEntries);
    private readonly ConcurrentLru<string, ChatUser> _usersByKeyHash = new(CacheEntries);
    private readonly ConcurrentLru<long, Room> _rooms = new(CacheEntries);
    private readonly ConcurrentLru<(long Room, long User), bool> _memberships = new(CacheEntries);

    private long Now => time.GetUtcNow().ToUnixTimeMilliseconds();

    /// <summary>Sets the node id of the ids this node makes (from options, or from the KV), before the node serves.</summary>
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var nodeId = _options.NodeId >= 0 ? _options.NodeId : await bus.AllocateNodeIdAsync(cancellationToken).ConfigureAwait(false);
        lock (_idLock)
        {
            _ids = new TimeOrderedIds(nodeId);
        }
    }

    private long NextId()
    {
        lock (_idLock)
        {
            return (_ids ?? throw new InvalidOperationException("the chat has not started")).Next(Now);
        }
    }

    /// <summary>Creates a user and returns their key, shown once; null when the name is taken.</summary>
    public async Task<(ChatUser User, string Key)?> CreateUserAsync(string? name, CancellationToken cancellationToken)
    {
        if (!IsUserName(name))
        {
            throw new ChatException(ChatErrors.BadFrame, "name must be 1 to 64 letters, digits, '.', '_' or '-'");
        }

        var user = new ChatUser(NextId(), name!);
        var key = ChatKeys.New();
        return await store.CreateUserAsync(user, ChatKeys.Hash(key), Now, cancellationToken).ConfigureAwait(false) ? (user, key) : null;
    }

    private static bool IsUserName(string? name) =>
        !string.IsNullOrEmpty(name) && name.Length <= 64 && name.All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-');

    /// <summary>The user an API key, a ticket or (when configured) a JSON Web Token names, or null; a token's user is created on first sight.</summary>
    public async Task<ChatUser?> AuthenticateAsync(string? credential, CancellationToken cancellationToken)
    {
        if (ChatKeys.IsWellFormed(credential))
        {
            var hash = ChatKeys.Hash(credential!);
            if (_usersByKeyHash.TryGet(hash, out var cached))
            {
                return cached;
            }

            var user = await store.UserByKeyHashAsync(hash, cancellationToken).ConfigureAwait(false);
            if (user is not null)
            {
                _usersByKeyHash.AddOrUpdate(hash, user);
            }

            return user;
        }

        if (ChatTickets.IsWellFormed(credential))
        {
            return await tickets.UserOfAsync(credential!, cancellationToken).ConfigureAwait(false) is { } id
                ? await store.UserByIdAsync(id, cancellationToken).ConfigureAwait(false)
                : null;
        }

        if (credential is null || await tokens.SubjectAsync(credential).ConfigureAwait(false) is not { } name || !IsUserName(name))
        {
            return null;
        }

        if (await store.UserByNameAsync(name, cancellationToken).ConfigureAwait(false) is { } known)
        {
            return known;
        }

        // Two first connections at once: one insert wins, and both read the winner.
        await store.CreateUserAsync(new ChatUser(NextId(), name), null, Now, cancellationToken).ConfigureAwait(false);
        return await store.UserByNameAsync(name, cancellationToken).ConfigureAwait(false);
    }

    public async Task<string> NameOfAsync(long userId, CancellationToken cancellationToken)
    {
        if (!_names.TryGet(userId, out var name))
        {
            name = (await store.UserByIdAsync(userId, cancellationToken).ConfigureAwait(false))?.Name ?? Frames.Id(userId);
            _names.AddOrUpdate(userId, name);
        }

        return name;
    }

    public async Task<Room> CreateRoomAsync(ChatUser user, string? name, CancellationToken cancellationToken)
    {
        if (string.IsNullOrWhiteSpace(name) || name.Length > 100)
        {
            throw new ChatException(ChatErrors.BadFrame, "name must be 1 to 100 characters");
        }

        var room = new Room(NextId(), RoomKinds.Room, name.Trim(), user.Id, Now);
        await store.CreateRoomAsync(room, cancellationToken).ConfigureAwait(false);
        return room;
    }

    public async Task<Room> DirectAsync(ChatUser user, string? otherName, CancellationToken cancellationToken)
    {
        var other = string.IsNullOrEmpty(otherName) ? null : await store.UserByNameAsync(otherName, cancellationToken).ConfigureAwait(false);
        if (other is null || other.Id == user.Id)
        {
            throw new ChatException(ChatErrors.NotFound, $"there is no other user '{otherName}'");
        }

        var (first, second) = string.CompareOrdinal(user.Name, other.Name) < 0 ? (user.Name, other.Name) : (other.Name, user.Name);
        return await store.DirectAsync(new Room(NextId(), RoomKinds.Direct, $"{first}, {second}", user.Id, Now), other.Id, cancellationToken).ConfigureAwait(false);
    }

    public async Task<Room> JoinAsync(ChatUser user, long roomId, CancellationToken cancellationToken)
    {
        var room = await RoomAsync(roomId, cancellationToken).ConfigureAwait(false);
        if (room.Kind != RoomKinds.Room)
        {
            throw new ChatException(ChatErrors.Forbidden, "a direct conversation has its two members only");
        }

        await store.JoinAsync(roomId, user.Id, Now, cancellationToken).ConfigureAwait(false);
        return room;
    }

    public async Task<List<Room>> RoomsOfAsync(ChatUser user, CancellationToken cancellationToken)
    {
        var rooms = new List<Room>();
        foreach (var id in await store.RoomIdsOfAsync(user.Id, cancellationToken).ConfigureAwait(false))
        {
            if (await store.RoomAsync(id, cancellationToken).ConfigureAwait(false) is { } room)
            {
                rooms.Add(room);
            }
        }

        return rooms;
    }

    /// <summary>The room, when it exists and <paramref name="user"/> is in it.</summary>
    public async Task<Room> MemberRoomAsync(ChatUser user, long roomId, CancellationToken cancellationToken)
    {
        var room = await RoomAsync(roomId, cancellationToken).ConfigureAwait(false);
        if (_memberships.TryGet((roomId, user.Id), out _))
        {
            return room;
        }

        if (await store.IsMemberAsync(roomId, user.Id, cancellationToken).ConfigureAwait(false))
        {
            _memberships.AddOrUpdate((roomId, user.Id), true);
        }
        else
        {
            throw new ChatException(ChatErrors.NotMember, $"you are not a member of room {Frames.Id(roomId)}");
        }

        return room;
    }

    private async Task<Room> RoomAsync(long roomId, CancellationToken cancellationToken)
    {
        if (_rooms.TryGet(roomId, out var room))
        {
            return room;
        }

        room = await store.RoomAsync(roomId, cancellationToken).ConfigureAwait(false) ?? throw new ChatException(ChatErrors.UnknownRoom, $"there is no room {Frames.Id(roomId)}");
        _rooms.AddOrUpdate(roomId, room);
        return room;
    }

    /// <summary>
    /// Gives a message its room's next id and publishes it on the bus (<see cref="RoomBus.SendAsync"/>), then stores it;
    /// answered once stored. With <paramref name="connection"/> subscribed to the room, also waits (briefly) until this node
    /// has queued the message to it, so the sender's copy comes before its ack.
    /// </summary>
    public async Task<ChatMessage> SendAsync(ChatUser user, long roomId, string? text, CancellationToken cancellationToken, ChatConnection? connection = null)
    {
        CheckText(text);
        await MemberRoomAsync(user, roomId, cancellationToken).ConfigureAwait(false);
        var candidate = new ChatMessage(roomId, NextId(), user.Id, text, null, null);
        var message = candidate with { Id = await bus.SendAsync(candidate, user.Name, cancellationToken).ConfigureAwait(false) };
        await writer.WriteAsync(message, cancellationToken).ConfigureAwait(false);
        if (connection is not null && connection.Rooms.ContainsKey(roomId))
        {
            await hub.WaitDispatchedAsync(roomId, message.Id, SenderCopyWait, time, cancellationToken).ConfigureAwait(false);
        }

        return message;
    }

    /// <summary>Edits (<paramref name="text"/> set) or deletes (null) one of the user's own messages, and tells the room's subscribers.</summary>
    public async Task<ChatMessage> RewriteAsync(ChatUser user, long roomId, long messageId, string? text, CancellationToken cancellationToken)
    {
        if (text is not null)
        {
            CheckText(text);
        }

        await MemberRoomAsync(user, roomId, cancellationToken).ConfigureAwait(false);
        var message = await store.MessageAsync(roomId, messageId, cancellationToken).ConfigureAwait(false);
        if (message is null || message.DeletedAt is not null)
        {
            throw new ChatException(ChatErrors.NotFound, $"there is no message {Frames.Id(messageId)} in room {Frames.Id(roomId)}");
        }

        if (message.UserId != user.Id)
        {
            throw new ChatException(ChatErrors.Forbidden, "only its sender may edit or delete a message");
        }

        // The message's row first (a replay reads its current state), then the change gets the room's next offset and goes
        // out on the bus, then into the change log, from which a reconnect with an older `since` replays it.
        var at = Now;
        await store.RewriteAsync(roomId, messageId, text, at, cancellationToken).ConfigureAwait(false);
        var candidate = new ChatChange(roomId, NextId(), messageId, text, at);
        var change = candidate with { Seq = await bus.ChangeAsync(candidate, cancellationToken).ConfigureAwait(false) };
        await store.InsertChangeAsync(change, cancellationToken).ConfigureAwait(false);
        return text is null ? message with { Text = null, DeletedAt = at } : message with { Text = text, EditedAt = at };
    }

    /// <summary>Moves the user's delivered or read mark in a room and, when it moved, tells the room's subscribers.</summary>
    public async Task MarkAsync(ChatUser user, long roomId, long messageId, bool read, CancellationToken cancellationToken)
    {
        await MemberRoomAsync(user, roomId, cancellationToken).ConfigureAwait(false);
        if (await store.MarkAsync(roomId, user.Id, read, messageId, cancellationToken).ConfigureAwait(false))
        {
            await bus.PublishAsync(roomId, Frames.Json(new { type = "receipt", room = Frames.Id(roomId), user = user.Name, kind = read ? "read" : "delivered", id = Frames.Id(messageId) }), FrameKind.Live, 0, cancellationToken).ConfigureAwait(false);
        }
    }

    public async Task<List<Receipt>> ReceiptsAsync(ChatUser user, long roomId, CancellationToken cancellationToken)
    {
        await MemberRoomAsync(user, roomId, cancellationToken).ConfigureAwait(false);
        return await store.ReceiptsAsync(roomId, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// A page of history, newest first, below the cursor <paramref name="before"/> (null: from the newest), and the cursor
    /// of the next page (the oldest id returned) when the page is full.
    /// </summary>
    public async Task<(List<ChatMessage> Page, long? Next)> HistoryAsync(ChatUser user, long roomId, long? before, int? limit, CancellationToken cancellationToken)
    {
        await MemberRoomAsync(user, roomId, cancellationToken).ConfigureAwait(false);
        var size = Math.Clamp(limit ?? _options.HistoryPageMax, 1, _options.HistoryPageMax);
        var page = await store.PageAsync(roomId, before ?? long.MaxValue, 0, size, cancellationToken).ConfigureAwait(false);
        return (page, page.Count == size ? page[^1].Id : null);
    }

    /// <summary>
    /// Subscribes a connection to a room and, with <paramref name="since"/>, first queues the messages after it (at most
    /// <see cref="ChatOptions.ReplayMax"/>, the newest, after a <c>gap</c> frame when there were more). The connection joins
    /// before the replay is read (<see cref="ChatHub.BeginJoin"/>), so what is sent meanwhile on any node is held for it
    /// and follows the replay without a gap or a duplicate; the <c>subscribed</c> reply (with the newest id replayed)
    /// comes between the two.
    /// </summary>
    public async Task SubscribeAsync(ChatConnection connection, long roomId, long? since, string? reference, CancellationToken cancellationToken)
    {
        await MemberRoomAsync(connection.User!, roomId, cancellationToken).ConfigureAwait(false);
        hub.BeginJoin(roomId, connection);
        try
        {
            var replay = new List<byte[]>();
            var last = since;
            if (since is { } after)
            {
                var (missed, changes, gapBefore) = await MissedAsync(roomId, after, withChanges: true, cancellationToken).ConfigureAwait(false);
                if (gapBefore is { } before)
                {
                    replay.Add(Frames.Json(new { type = "gap", room = Frames.Id(roomId), after = Frames.Id(after), before = Frames.Id(before) }));
                }

                // Messages and changes interleaved by offset, as they happened.
                var nextChange = 0;
                foreach (var message in missed)
                {
                    for (; nextChange < changes.Count && changes[nextChange].Seq < message.Id; nextChange++)
                    {
                        replay.Add(Frames.Json(Frames.Change(changes[nextChange])));
                    }

                    replay.Add(Frames.Json(Frames.Message(message, await NameOfAsync(message.UserId, cancellationToken).ConfigureAwait(false))));
                }

                replay.AddRange(changes.Skip(nextChange).Select(change => Frames.Json(Frames.Change(change))));
                var newest = Math.Max(missed.Count > 0 ? missed[^1].Id : 0, changes.Count > 0 ? changes[^1].Seq : 0);
                if (newest > 0)
                {
                    last = newest;
                }
            }

            var subscribed = Frames.Json(new { type = "subscribed", @ref = reference, room = Frames.Id(roomId), last = last is { } id ? Frames.Id(id) : null });
            hub.CompleteJoin(roomId, connection, replay, last ?? 0, subscribed);
        }
        catch
        {
            hub.Unsubscribe(roomId, connection);
            throw;
        }
    }

    /// <summary>
    /// What a room has after offset <paramref name="since"/>, oldest first: its messages, and (with
    /// <paramref name="withChanges"/>) the edits and deletes of older messages (a newer message comes in its current
    /// state). At most <see cref="ChatOptions.ReplayMax"/> of them, the newest; when there were more, the oldest offset
    /// returned is the end of the gap. Read from the KV's recent buffer and from SQL: the buffer has everything published,
    /// including what is still being stored; SQL has the older ones and the current text of every message, so its copy
    /// wins where both have a message.
    /// </summary>
    private async Task<(List<ChatMessage> Messages, List<ChatChange> Changes, long? GapBefore)> MissedAsync(long roomId, long since, bool withChanges, CancellationToken cancellationToken)
    {
        var limit = _options.ReplayMax + 1;
        var recent = await bus.RecentAsync(roomId, since, cancellationToken).ConfigureAwait(false);
        var messages = await store.PageAsync(roomId, long.MaxValue, since, limit, cancellationToken).ConfigureAwait(false);
        var stored = messages.Select(message => message.Id).ToHashSet();
        messages.AddRange(recent.Messages.Where(message => !stored.Contains(message.Id)));
        var changes = new List<ChatChange>();
        if (withChanges)
        {
            changes = await store.ChangesAsync(roomId, since, limit, cancellationToken).ConfigureAwait(false);
            var logged = changes.Select(change => change.Seq).ToHashSet();
            changes.AddRange(recent.Changes.Where(change => !logged.Contains(change.Seq)));
            changes.RemoveAll(change => change.MessageId > since);
        }

        // The newest `limit` offsets of both, then the gap below them when there were more.
        var offsets = messages.Select(message => message.Id).Concat(changes.Select(change => change.Seq)).OrderDescending().Take(limit).ToList();
        long? gapBefore = null;
        if (offsets.Count > _options.ReplayMax)
        {
            gapBefore = offsets[^2];
            offsets.RemoveAt(offsets.Count - 1);
        }

        var floor = offsets.Count > 0 ? offsets[^1] : long.MaxValue;
        return (
            [.. messages.Where(message => message.Id >= floor).OrderBy(message => message.Id)],
            [.. changes.Where(change => change.Seq >= floor).OrderBy(change => change.Seq)],
            gapBefore);
    }

    /// <summary>
    /// A long poll: the messages after <paramref name="since"/> (at most <see cref="ChatOptions.ReplayMax"/>, the newest,
    /// with the start of the gap when there were more), waiting up to <paramref name="wait"/> for one when there are none yet.
    /// </summary>
    public async Task<(List<ChatMessage> Messages, long? GapBefore)> PollAsync(ChatUser user, long roomId, long since, TimeSpan wait, CancellationToken cancellationToken)
    {
        await MemberRoomAsync(user, roomId, cancellationToken).ConfigureAwait(false);
        var deadline = time.GetUtcNow() + wait;
        while (true)
        {
            // Taken before reading, so a message stored in between wakes the wait instead of being missed.
            var next = hub.NextMessageAsync(roomId);
            var (messages, _, gapBefore) = await MissedAsync(roomId, since, withChanges: false, cancellationToken).ConfigureAwait(false);
            var left = deadline - time.GetUtcNow();
            if (messages.Count > 0 || left <= TimeSpan.Zero)
            {
                return (messages, gapBefore);
            }

            Interlocked.Increment(ref _pollsWaiting);
            try
            {
                using var waiting = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, lifetime.ApplicationStopping);
                await next.WaitAsync(left, time, waiting.Token).ConfigureAwait(false);
            }
            catch (TimeoutException)
            {
                // Nothing came: one more read answers with what there is (nothing, or a message that just made it).
            }
            catch (OperationCanceledException) when (lifetime.ApplicationStopping.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
            {
                // The node is stopping: answer now rather than hold its shutdown; the client polls again elsewhere.
                deadline = time.GetUtcNow();
            }
            finally
            {
                Interlocked.Decrement(ref _pollsWaiting);
            }
        }
    }

    /// <summary>Tells a room's subscribers but the typist's own connections that the user is typing; dropped where a queue is full.</summary>
    public async Task TypingAsync(ChatUser user, long roomId, CancellationToken cancellationToken)
    {
        await MemberRoomAsync(user, roomId, cancellationToken).ConfigureAwait(false);
        await bus.PublishAsync(roomId, Frames.Json(new { type = "typing", room = Frames.Id(roomId), user = user.Name }), FrameKind.Droppable, user.Id, cancellationToken).ConfigureAwait(false);
    }

    private void CheckText(string? text)
    {
        if (string.IsNullOrEmpty(text))
        {
            throw new ChatException(ChatErrors.BadFrame, "text must not be empty");
        }

        if (Encoding.UTF8.GetByteCount(text) > _options.MaxMessageBytes)
        {
            throw new ChatException(ChatErrors.TooLarge, $"text is over {_options.MaxMessageBytes} bytes");
        }
    }
}
