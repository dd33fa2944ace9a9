using System.Globalization;
using System.Text.Json;
using Blueprint.Chat.Storage;

namespace Blueprint.Chat.Live;

/// <summary>The server's frames and the JSON shapes shared with the HTTP API (docs/chat.md). Ids are decimal strings: 64 bits do not fit a JavaScript number.</summary>
internal static class Frames
{
    public static string Id(long id) => id.ToString(CultureInfo.InvariantCulture);

    public static byte[] Json(object value) => JsonSerializer.SerializeToUtf8Bytes(value);

    public static object Message(ChatMessage message, string userName) => new
    {
        type = "message",
        room = Id(message.RoomId),
        id = Id(message.Id),
        user = userName,
        text = message.Text,
        sentAt = message.SentAt,
        editedAt = message.EditedAt,
        deleted = message.DeletedAt is not null,
    };

    /// <summary>An edit's or a delete's frame: <c>seq</c> is its offset in the room, <c>id</c> the message it changes.</summary>
    public static object Change(ChatChange change) => change.Deleted
        ? new { type = "deleted", room = Id(change.RoomId), seq = Id(change.Seq), id = Id(change.MessageId), at = change.At }
        : new { type = "edited", room = Id(change.RoomId), seq = Id(change.Seq), id = Id(change.MessageId), text = change.Text, at = change.At };

    public static byte[] Error(string code, string message, string? reference) => Json(new { type = "error", code, message, @ref = reference });

    public static object Room(Room room) => new { id = Id(room.Id), kind = room.Kind, name = room.Name, createdAt = room.CreatedAt };
}
