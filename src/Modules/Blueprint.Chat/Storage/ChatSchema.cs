using Blueprint.Sql;

namespace Blueprint.Chat.Storage;

/// <summary>
/// The chat's tables, written as a Cassandra keyspace would hold them (docs/chat.md gives the CQL): every query names a
/// whole partition key and at most a range of the clustering key, and nothing joins. Times are Unix milliseconds.
/// </summary>
internal static class ChatSchema
{
    /// <summary>The module name under which migrations are recorded.</summary>
    public const string ModuleName = "chat";

    /// <summary>Milliseconds per history bucket: a partition of <c>chat_messages</c> holds one room's day.</summary>
    public const long BucketMilliseconds = 86_400_000;

    public static IReadOnlyList<SqlMigration> Migrations { get; } =
    [
        new(1, "users, rooms, members, messages",
            """
            CREATE TABLE chat_users (user_id BIGINT NOT NULL PRIMARY KEY, name TEXT NOT NULL UNIQUE, created_at BIGINT NOT NULL);
            CREATE TABLE chat_keys (key_hash TEXT NOT NULL PRIMARY KEY, user_id BIGINT NOT NULL);
            CREATE TABLE chat_rooms (room_id BIGINT NOT NULL PRIMARY KEY, kind TEXT NOT NULL, name TEXT NOT NULL, created_by BIGINT NOT NULL, created_at BIGINT NOT NULL);
            CREATE TABLE chat_direct (pair TEXT NOT NULL PRIMARY KEY, room_id BIGINT NOT NULL);
            CREATE TABLE chat_members (room_id BIGINT NOT NULL, user_id BIGINT NOT NULL, joined_at BIGINT NOT NULL, delivered_up_to BIGINT NOT NULL, read_up_to BIGINT NOT NULL, PRIMARY KEY (room_id, user_id));
            CREATE TABLE chat_rooms_by_user (user_id BIGINT NOT NULL, room_id BIGINT NOT NULL, PRIMARY KEY (user_id, room_id));
            CREATE TABLE chat_room_buckets (room_id BIGINT NOT NULL, bucket BIGINT NOT NULL, PRIMARY KEY (room_id, bucket));
            CREATE TABLE chat_messages (
                room_id BIGINT NOT NULL,
                bucket BIGINT NOT NULL,
                message_id BIGINT NOT NULL,
                user_id BIGINT NOT NULL,
                body TEXT NULL,
                edited_at BIGINT NULL,
                deleted_at BIGINT NULL,
                PRIMARY KEY (room_id, bucket, message_id));
            """),
        new(2, "the change log of edits and deletes",
            """
            CREATE TABLE chat_room_change_buckets (room_id BIGINT NOT NULL, bucket BIGINT NOT NULL, PRIMARY KEY (room_id, bucket));
            CREATE TABLE chat_changes (
                room_id BIGINT NOT NULL,
                bucket BIGINT NOT NULL,
                change_id BIGINT NOT NULL,
                message_id BIGINT NOT NULL,
                body TEXT NULL,
                deleted BIGINT NOT NULL,
                at BIGINT NOT NULL,
                PRIMARY KEY (room_id, bucket, change_id));
            """),
    ];

    /// <summary>The history bucket of a message id: the day it was made on.</summary>
    public static long BucketOf(long messageId) => Blueprint.Core.Identifiers.TimeOrderedIds.UnixMillisecondsOf(messageId) / BucketMilliseconds;
}
