namespace Blueprint.Chat;

/// <summary>A request the chat refuses, with the protocol's error code (the same over WebSocket and HTTP).</summary>
internal sealed class ChatException(string code, string message) : Exception(message)
{
    /// <summary>The error code: one of <see cref="ChatErrors"/>.</summary>
    public string Code { get; } = code;
}

/// <summary>The protocol's error codes (docs/chat.md), and the HTTP status each maps to.</summary>
internal static class ChatErrors
{
    public const string BadFrame = "bad_frame";
    public const string Unauthorized = "unauthorized";
    public const string UnknownType = "unknown_type";
    public const string UnknownRoom = "unknown_room";
    public const string NotMember = "not_member";
    public const string NotFound = "not_found";
    public const string Forbidden = "forbidden";
    public const string TooLarge = "too_large";
    public const string Conflict = "conflict";
    public const string Unavailable = "unavailable";

    public static int HttpStatus(string code) => code switch
    {
        Unauthorized => 401,
        UnknownRoom or NotFound => 404,
        NotMember or Forbidden => 403,
        TooLarge => 413,
        Conflict => 409,
        Unavailable => 503,
        _ => 400,
    };
}
