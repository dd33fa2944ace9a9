namespace Blueprint.Chat.Storage;

/// <summary>A chat user.</summary>
/// <param name="Id">The user's id.</param>
/// <param name="Name">The unique name.</param>
internal sealed record ChatUser(long Id, string Name);

/// <summary>A room or a direct conversation.</summary>
/// <param name="Id">The room's id.</param>
/// <param name="Kind"><see cref="RoomKinds.Room"/> or <see cref="RoomKinds.Direct"/>.</param>
/// <param name="Name">The room's name; for a direct conversation, its two users' names.</param>
/// <param name="CreatedBy">The user who made it.</param>
/// <param name="CreatedAt">When, in Unix milliseconds.</param>
internal sealed record Room(long Id, string Kind, string Name, long CreatedBy, long CreatedAt);

/// <summary>The kinds of room.</summary>
internal static class RoomKinds
{
    /// <summary>A named room any user may join.</summary>
    public const string Room = "room";

    /// <summary>A direct conversation of two users; nobody else joins.</summary>
    public const string Direct = "direct";
}

/// <summary>One message of a room's history; a deleted one is a tombstone without text.</summary>
/// <param name="RoomId">The room.</param>
/// <param name="Id">The time-ordered id: the message's offset in its room.</param>
/// <param name="UserId">The sender.</param>
/// <param name="Text">The text; null once deleted.</param>
/// <param name="EditedAt">When it was last edited, or null.</param>
/// <param name="DeletedAt">When it was deleted, or null.</param>
internal sealed record ChatMessage(long RoomId, long Id, long UserId, string? Text, long? EditedAt, long? DeletedAt)
{
    /// <summary>When it was sent, in Unix milliseconds (from the id).</summary>
    public long SentAt => Blueprint.Core.Identifiers.TimeOrderedIds.UnixMillisecondsOf(Id);
}

/// <summary>How far one member has received and read a room.</summary>
/// <param name="UserId">The member.</param>
/// <param name="DeliveredUpTo">The newest message id delivered to them (0: none).</param>
/// <param name="ReadUpTo">The newest message id they have read (0: none).</param>
internal sealed record Receipt(long UserId, long DeliveredUpTo, long ReadUpTo);

/// <summary>An edit or a delete, with its offset in the room's sequence (the same ids as messages).</summary>
/// <param name="RoomId">The room.</param>
/// <param name="Seq">The change's offset: the room's next id when it was made.</param>
/// <param name="MessageId">The message changed.</param>
/// <param name="Text">The new text; null for a delete.</param>
/// <param name="At">When, in Unix milliseconds.</param>
internal sealed record ChatChange(long RoomId, long Seq, long MessageId, string? Text, long At)
{
    public bool Deleted => Text is null;
}
