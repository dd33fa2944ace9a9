using System.Collections.Concurrent;
using System.Data.Common;
using System.Globalization;
using Blueprint.Sql;

namespace Blueprint.Chat.Storage;

/// <summary>
/// Users, keys, rooms, membership, receipts and the message history on the node's SQL database. Each statement is one a
/// Cassandra table could serve (docs/chat.md): a whole partition key, a clustering range, no joins; a denormalised table
/// (<c>chat_rooms_by_user</c>, <c>chat_room_buckets</c>) stands in for every other access path.
/// </summary>
internal sealed class ChatStore(ISqlDatabase database)
{
    private const string MessageColumns = "room_id, message_id, user_id, body, edited_at, deleted_at";

    /// <summary>The (room, bucket) pairs known to be in <c>chat_room_buckets</c>; bounded by rooms × days written on this node.</summary>
    private readonly ConcurrentDictionary<(long Room, long Bucket), bool> _knownBuckets = new();

    public Task MigrateAsync(CancellationToken cancellationToken) => database.MigrateAsync(ChatSchema.ModuleName, ChatSchema.Migrations, cancellationToken);

    /// <summary>Creates a user with the hash of their key (null: a user of JSON Web Tokens, without one); false when the name is taken.</summary>
    public async Task<bool> CreateUserAsync(ChatUser user, string? keyHash, long at, CancellationToken cancellationToken)
    {
        await using var session = await Session.OpenAsync(database, transaction: true, cancellationToken).ConfigureAwait(false);
        if (await session.ExecuteAsync("INSERT INTO chat_users (user_id, name, created_at) VALUES (@id, @name, @at) ON CONFLICT (name) DO NOTHING", cancellationToken,
                ("@id", user.Id), ("@name", user.Name), ("@at", at)).ConfigureAwait(false) == 0)
        {
            return false;
        }

        if (keyHash is not null)
        {
            await session.ExecuteAsync("INSERT INTO chat_keys (key_hash, user_id) VALUES (@hash, @id)", cancellationToken, ("@hash", keyHash), ("@id", user.Id)).ConfigureAwait(false);
        }

        await session.CommitAsync(cancellationToken).ConfigureAwait(false);
        return true;
    }

    public async Task<ChatUser?> UserByKeyHashAsync(string keyHash, CancellationToken cancellationToken)
    {
        await using var session = await Session.OpenAsync(database, transaction: false, cancellationToken).ConfigureAwait(false);
        var found = await session.QueryAsync("SELECT user_id FROM chat_keys WHERE key_hash = @hash", reader => reader.GetInt64(0), cancellationToken, ("@hash", keyHash)).ConfigureAwait(false);
        return found.Count == 0 ? null : await UserAsync(session, "user_id = @id", ("@id", found[0]), cancellationToken).ConfigureAwait(false);
    }

    public async Task<ChatUser?> UserByIdAsync(long id, CancellationToken cancellationToken)
    {
        await using var session = await Session.OpenAsync(database, transaction: false, cancellationToken).ConfigureAwait(false);
        return await UserAsync(session, "user_id = @id", ("@id", id), cancellationToken).ConfigureAwait(false);
    }

    public async Task<ChatUser?> UserByNameAsync(string name, CancellationToken cancellationToken)
    {
        await using var session = await Session.OpenAsync(database, transaction: false, cancellationToken).ConfigureAwait(false);
        return await UserAsync(session, "name = @name", ("@name", name), cancellationToken).ConfigureAwait(false);
    }

    private static async Task<ChatUser?> UserAsync(Session session, string where, (string, object?) parameter, CancellationToken cancellationToken)
    {
        var users = await session.QueryAsync($"SELECT user_id, name FROM chat_users WHERE {where}", reader => new ChatUser(reader.GetInt64(0), reader.GetString(1)), cancellationToken, parameter).ConfigureAwait(false);
        return users.Count == 0 ? null : users[0];
    }

    /// <summary>Creates a room with its creator as the first member.</summary>
    public async Task CreateRoomAsync(Room room, CancellationToken cancellationToken)
    {
        await using var session = await Session.OpenAsync(database, transaction: true, cancellationToken).ConfigureAwait(false);
        await InsertRoomAsync(session, room, cancellationToken).ConfigureAwait(false);
        await AddMemberAsync(session, room.Id, room.CreatedBy, room.CreatedAt, cancellationToken).ConfigureAwait(false);
        await session.CommitAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The direct conversation of two users, made from <paramref name="proposed"/> when they have none yet.</summary>
    public async Task<Room> DirectAsync(Room proposed, long other, CancellationToken cancellationToken)
    {
        var pair = string.Create(CultureInfo.InvariantCulture, $"{Math.Min(proposed.CreatedBy, other)}:{Math.Max(proposed.CreatedBy, other)}");
        await using var session = await Session.OpenAsync(database, transaction: true, cancellationToken).ConfigureAwait(false);
        if (await session.ExecuteAsync("INSERT INTO chat_direct (pair, room_id) VALUES (@pair, @room) ON CONFLICT (pair) DO NOTHING", cancellationToken, ("@pair", pair), ("@room", proposed.Id)).ConfigureAwait(false) == 0)
        {
            var existing = await session.QueryAsync("SELECT room_id FROM chat_direct WHERE pair = @pair", reader => reader.GetInt64(0), cancellationToken, ("@pair", pair)).ConfigureAwait(false);
            return (await RoomAsync(session, existing[0], cancellationToken).ConfigureAwait(false))!;
        }

        await InsertRoomAsync(session, proposed, cancellationToken).ConfigureAwait(false);
        await AddMemberAsync(session, proposed.Id, proposed.CreatedBy, proposed.CreatedAt, cancellationToken).ConfigureAwait(false);
        await AddMemberAsync(session, proposed.Id, other, proposed.CreatedAt, cancellationToken).ConfigureAwait(false);
        await session.CommitAsync(cancellationToken).ConfigureAwait(false);
        return proposed;
    }

    private static Task<int> InsertRoomAsync(Session session, Room room, CancellationToken cancellationToken) => session.ExecuteAsync(
        "INSERT INTO chat_rooms (room_id, kind, name, created_by, created_at) VALUES (@id, @kind, @name, @by, @at)", cancellationToken,
        ("@id", room.Id), ("@kind", room.Kind), ("@name", room.Name), ("@by", room.CreatedBy), ("@at", room.CreatedAt));

    private static async Task AddMemberAsync(Session session, long room, long user, long at, CancellationToken cancellationToken)
    {
        await session.ExecuteAsync("INSERT INTO chat_members (room_id, user_id, joined_at, delivered_up_to, read_up_to) VALUES (@room, @user, @at, 0, 0) ON CONFLICT (room_id, user_id) DO NOTHING", cancellationToken,
            ("@room", room), ("@user", user), ("@at", at)).ConfigureAwait(false);
        await session.ExecuteAsync("INSERT INTO chat_rooms_by_user (user_id, room_id) VALUES (@user, @room) ON CONFLICT (user_id, room_id) DO NOTHING", cancellationToken,
            ("@room", room), ("@user", user)).ConfigureAwait(false);
    }

    /// <summary>Adds a member to a room (nothing when they are one already).</summary>
    public async Task JoinAsync(long room, long user, long at, CancellationToken cancellationToken)
    {
        await using var session = await Session.OpenAsync(database, transaction: true, cancellationToken).ConfigureAwait(false);
        await AddMemberAsync(session, room, user, at, cancellationToken).ConfigureAwait(false);
        await session.CommitAsync(cancellationToken).ConfigureAwait(false);
    }

    public async Task<Room?> RoomAsync(long id, CancellationToken cancellationToken)
    {
        await using var session = await Session.OpenAsync(database, transaction: false, cancellationToken).ConfigureAwait(false);
        return await RoomAsync(session, id, cancellationToken).ConfigureAwait(false);
    }

    private static async Task<Room?> RoomAsync(Session session, long id, CancellationToken cancellationToken)
    {
        var rooms = await session.QueryAsync("SELECT room_id, kind, name, created_by, created_at FROM chat_rooms WHERE room_id = @id",
            reader => new Room(reader.GetInt64(0), reader.GetString(1), reader.GetString(2), reader.GetInt64(3), reader.GetInt64(4)), cancellationToken, ("@id", id)).ConfigureAwait(false);
        return rooms.Count == 0 ? null : rooms[0];
    }

    public async Task<bool> IsMemberAsync(long room, long user, CancellationToken cancellationToken)
    {
        await using var session = await Session.OpenAsync(database, transaction: false, cancellationToken).ConfigureAwait(false);
        var found = await session.QueryAsync("SELECT user_id FROM chat_members WHERE room_id = @room AND user_id = @user", reader => reader.GetInt64(0), cancellationToken, ("@room", room), ("@user", user)).ConfigureAwait(false);
        return found.Count > 0;
    }

    /// <summary>The ids of the rooms a user is in.</summary>
    public async Task<List<long>> RoomIdsOfAsync(long user, CancellationToken cancellationToken)
    {
        await using var session = await Session.OpenAsync(database, transaction: false, cancellationToken).ConfigureAwait(false);
        return await session.QueryAsync("SELECT room_id FROM chat_rooms_by_user WHERE user_id = @user ORDER BY room_id", reader => reader.GetInt64(0), cancellationToken, ("@user", user)).ConfigureAwait(false);
    }

    /// <summary>Moves a member's delivered or read mark forward to <paramref name="messageId"/>; false when it was there already or further.</summary>
    public async Task<bool> MarkAsync(long room, long user, bool read, long messageId, CancellationToken cancellationToken)
    {
        var column = read ? "read_up_to" : "delivered_up_to";
        await using var session = await Session.OpenAsync(database, transaction: false, cancellationToken).ConfigureAwait(false);
        return await session.ExecuteAsync($"UPDATE chat_members SET {column} = @id WHERE room_id = @room AND user_id = @user AND {column} < @id", cancellationToken,
            ("@id", messageId), ("@room", room), ("@user", user)).ConfigureAwait(false) > 0;
    }

    public async Task<List<Receipt>> ReceiptsAsync(long room, CancellationToken cancellationToken)
    {
        await using var session = await Session.OpenAsync(database, transaction: false, cancellationToken).ConfigureAwait(false);
        return await session.QueryAsync("SELECT user_id, delivered_up_to, read_up_to FROM chat_members WHERE room_id = @room ORDER BY user_id",
            reader => new Receipt(reader.GetInt64(0), reader.GetInt64(1), reader.GetInt64(2)), cancellationToken, ("@room", room)).ConfigureAwait(false);
    }

    /// <summary>Appends messages to their rooms' partitions for their days, recording each bucket first, in one transaction.</summary>
    public async Task InsertMessagesAsync(IReadOnlyList<ChatMessage> messages, CancellationToken cancellationToken)
    {
        var newBuckets = new List<(long Room, long Bucket)>();
        await using var session = await Session.OpenAsync(database, transaction: true, cancellationToken).ConfigureAwait(false);
        foreach (var message in messages)
        {
            var bucket = ChatSchema.BucketOf(message.Id);
            if (!_knownBuckets.ContainsKey((message.RoomId, bucket)))
            {
                await session.ExecuteAsync("INSERT INTO chat_room_buckets (room_id, bucket) VALUES (@room, @bucket) ON CONFLICT (room_id, bucket) DO NOTHING", cancellationToken,
                    ("@room", message.RoomId), ("@bucket", bucket)).ConfigureAwait(false);
                newBuckets.Add((message.RoomId, bucket));
            }

            await session.ExecuteAsync($"INSERT INTO chat_messages (room_id, bucket, message_id, user_id, body, edited_at, deleted_at) VALUES (@room, @bucket, @id, @user, @body, NULL, NULL)", cancellationToken,
                ("@room", message.RoomId), ("@bucket", bucket), ("@id", message.Id), ("@user", message.UserId), ("@body", message.Text)).ConfigureAwait(false);
        }

        await session.CommitAsync(cancellationToken).ConfigureAwait(false);
        // Known only once committed: a rolled-back bucket row is written again next time.
        newBuckets.ForEach(known => _knownBuckets[known] = true);
    }

    /// <summary>Appends an edit or a delete to its room's change log, recording the day's bucket first.</summary>
    public async Task InsertChangeAsync(ChatChange change, CancellationToken cancellationToken)
    {
        var bucket = ChatSchema.BucketOf(change.Seq);
        await using var session = await Session.OpenAsync(database, transaction: true, cancellationToken).ConfigureAwait(false);
        await session.ExecuteAsync("INSERT INTO chat_room_change_buckets (room_id, bucket) VALUES (@room, @bucket) ON CONFLICT (room_id, bucket) DO NOTHING", cancellationToken,
            ("@room", change.RoomId), ("@bucket", bucket)).ConfigureAwait(false);
        await session.ExecuteAsync("INSERT INTO chat_changes (room_id, bucket, change_id, message_id, body, deleted, at) VALUES (@room, @bucket, @seq, @message, @body, @deleted, @at)", cancellationToken,
            ("@room", change.RoomId), ("@bucket", bucket), ("@seq", change.Seq), ("@message", change.MessageId), ("@body", change.Text), ("@deleted", change.Deleted ? 1L : 0L), ("@at", change.At)).ConfigureAwait(false);
        await session.CommitAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Up to <paramref name="limit"/> changes of a room with offsets above <paramref name="after"/>, newest first, walking the change buckets down.</summary>
    public async Task<List<ChatChange>> ChangesAsync(long room, long after, int limit, CancellationToken cancellationToken)
    {
        var changes = new List<ChatChange>();
        await using var session = await Session.OpenAsync(database, transaction: false, cancellationToken).ConfigureAwait(false);
        var buckets = await session.QueryAsync("SELECT bucket FROM chat_room_change_buckets WHERE room_id = @room AND bucket >= @bottom ORDER BY bucket DESC",
            reader => reader.GetInt64(0), cancellationToken, ("@room", room), ("@bottom", ChatSchema.BucketOf(Math.Max(after, 0)))).ConfigureAwait(false);
        foreach (var bucket in buckets)
        {
            changes.AddRange(await session.QueryAsync(
                "SELECT change_id, message_id, body, at FROM chat_changes WHERE room_id = @room AND bucket = @bucket AND change_id > @after ORDER BY change_id DESC LIMIT @limit",
                reader => new ChatChange(room, reader.GetInt64(0), reader.GetInt64(1), reader.IsDBNull(2) ? null : reader.GetString(2), reader.GetInt64(3)),
                cancellationToken, ("@room", room), ("@bucket", bucket), ("@after", after), ("@limit", limit - changes.Count)).ConfigureAwait(false));
            if (changes.Count >= limit)
            {
                break;
            }
        }

        return changes;
    }

    public async Task<ChatMessage?> MessageAsync(long room, long id, CancellationToken cancellationToken)
    {
        await using var session = await Session.OpenAsync(database, transaction: false, cancellationToken).ConfigureAwait(false);
        var found = await session.QueryAsync($"SELECT {MessageColumns} FROM chat_messages WHERE room_id = @room AND bucket = @bucket AND message_id = @id", ReadMessage, cancellationToken,
            ("@room", room), ("@bucket", ChatSchema.BucketOf(id)), ("@id", id)).ConfigureAwait(false);
        return found.Count == 0 ? null : found[0];
    }

    /// <summary>Sets a message's text (an edit) or clears it into a tombstone (a delete, <paramref name="text"/> null).</summary>
    public async Task RewriteAsync(long room, long id, string? text, long at, CancellationToken cancellationToken)
    {
        var set = text is null ? "body = NULL, deleted_at = @at" : "body = @body, edited_at = @at";
        await using var session = await Session.OpenAsync(database, transaction: false, cancellationToken).ConfigureAwait(false);
        await session.ExecuteAsync($"UPDATE chat_messages SET {set} WHERE room_id = @room AND bucket = @bucket AND message_id = @id", cancellationToken,
            ("@body", text), ("@at", at), ("@room", room), ("@bucket", ChatSchema.BucketOf(id)), ("@id", id)).ConfigureAwait(false);
    }

    /// <summary>
    /// Up to <paramref name="limit"/> messages of a room with ids below <paramref name="before"/> and above
    /// <paramref name="after"/>, newest first: one clustering-range query per bucket, walking the room's buckets down.
    /// </summary>
    public async Task<List<ChatMessage>> PageAsync(long room, long before, long after, int limit, CancellationToken cancellationToken)
    {
        var page = new List<ChatMessage>(Math.Min(limit, 256));
        await using var session = await Session.OpenAsync(database, transaction: false, cancellationToken).ConfigureAwait(false);
        var buckets = await session.QueryAsync("SELECT bucket FROM chat_room_buckets WHERE room_id = @room AND bucket <= @top AND bucket >= @bottom ORDER BY bucket DESC",
            reader => reader.GetInt64(0), cancellationToken, ("@room", room), ("@top", ChatSchema.BucketOf(before)), ("@bottom", ChatSchema.BucketOf(Math.Max(after, 0)))).ConfigureAwait(false);
        foreach (var bucket in buckets)
        {
            page.AddRange(await session.QueryAsync(
                $"SELECT {MessageColumns} FROM chat_messages WHERE room_id = @room AND bucket = @bucket AND message_id < @before AND message_id > @after ORDER BY message_id DESC LIMIT @limit",
                ReadMessage, cancellationToken, ("@room", room), ("@bucket", bucket), ("@before", before), ("@after", after), ("@limit", limit - page.Count)).ConfigureAwait(false));
            if (page.Count >= limit)
            {
                break;
            }
        }

        return page;
    }

    private static ChatMessage ReadMessage(DbDataReader reader) => new(
        reader.GetInt64(0),
        reader.GetInt64(1),
        reader.GetInt64(2),
        reader.IsDBNull(3) ? null : reader.GetString(3),
        reader.IsDBNull(4) ? null : reader.GetInt64(4),
        reader.IsDBNull(5) ? null : reader.GetInt64(5));

    /// <summary>
    /// One connection, optionally in a transaction, with the few statement shapes the store uses: plain ADO.NET, as the
    /// other modules write it, since the build has no micro-ORM and the store's statements are few and fixed.
    /// </summary>
    private sealed class Session : IAsyncDisposable
    {
        private readonly DbConnection _connection;
        private readonly DbTransaction? _transaction;

        private Session(DbConnection connection, DbTransaction? transaction)
        {
            _connection = connection;
            _transaction = transaction;
        }

        public static async Task<Session> OpenAsync(ISqlDatabase database, bool transaction, CancellationToken cancellationToken)
        {
            var connection = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
            try
            {
                return new Session(connection, transaction ? await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false) : null);
            }
            catch
            {
                await connection.DisposeAsync().ConfigureAwait(false);
                throw;
            }
        }

        public async Task<int> ExecuteAsync(string sql, CancellationToken cancellationToken, params (string Name, object? Value)[] parameters)
        {
            await using var command = Command(sql, parameters);
            return await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }

        public async Task<List<T>> QueryAsync<T>(string sql, Func<DbDataReader, T> read, CancellationToken cancellationToken, params (string Name, object? Value)[] parameters)
        {
            var rows = new List<T>();
            await using var command = Command(sql, parameters);
            await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                rows.Add(read(reader));
            }

            return rows;
        }

        public Task CommitAsync(CancellationToken cancellationToken) => _transaction?.CommitAsync(cancellationToken) ?? Task.CompletedTask;

        public async ValueTask DisposeAsync()
        {
            if (_transaction is not null)
            {
                await _transaction.DisposeAsync().ConfigureAwait(false);
            }

            await _connection.DisposeAsync().ConfigureAwait(false);
        }

        private DbCommand Command(string sql, (string Name, object? Value)[] parameters)
        {
            var command = _connection.Command(sql, parameters);
            command.Transaction = _transaction;
            return command;
        }
    }
}
