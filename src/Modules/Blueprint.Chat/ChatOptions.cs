using System.ComponentModel.DataAnnotations;
using Blueprint.Core.Identifiers;

namespace Blueprint.Chat;

/// <summary>Options of the chat module (configuration section <c>Chat</c>).</summary>
public sealed class ChatOptions : IValidatableObject
{
    /// <summary>The configuration section.</summary>
    public const string Section = "Chat";

    /// <summary>
    /// This node's id in message, room and user ids; unique among nodes writing one database. -1: taken from the KV at
    /// start (a counter shared by the nodes, modulo 1024). <value>-1–1023; default -1.</value>
    /// </summary>
    [Range(-1, TimeOrderedIds.GeneratorMax, ErrorMessage = "must be -1 (from the KV) or from 0 to 1023")]
    public int NodeId { get; set; } = -1;

    /// <summary>The largest message text, in UTF-8 bytes; a longer one is refused with <c>too_large</c>. <value>1–1048576; default 4096.</value></summary>
    [Range(1, 1_048_576, ErrorMessage = "must be from 1 to 1048576 bytes")]
    public int MaxMessageBytes { get; set; } = 4096;

    /// <summary>The largest WebSocket message a client may send; a longer one closes the connection with 1009. <value>1024–16777216; default 65536.</value></summary>
    [Range(1024, 16_777_216, ErrorMessage = "must be from 1024 to 16777216 bytes")]
    public int MaxFrameBytes { get; set; } = 65_536;

    /// <summary>
    /// Live frames (messages, edits, receipts) that may wait to be written to one connection. A connection that falls
    /// this far behind is closed with 4008 (slow consumer) and recovers by reconnecting with <c>since</c>; typing and
    /// pings are dropped instead when the queue is full. <value>1–100000; default 1024.</value>
    /// </summary>
    [Range(1, 100_000, ErrorMessage = "must be from 1 to 100000")]
    public int SendQueueLimit { get; set; } = 1024;

    /// <summary>The most missed messages a subscribe with <c>since</c> replays; beyond it the newest are sent after a <c>gap</c> frame. <value>1–100000; default 1000.</value></summary>
    [Range(1, 100_000, ErrorMessage = "must be from 1 to 100000")]
    public int ReplayMax { get; set; } = 1000;

    /// <summary>
    /// How many of a room's newest messages the KV keeps beside the bus: what a subscribe replays from while their SQL
    /// inserts may still be running. <value>16–100000; default 1000.</value>
    /// </summary>
    [Range(16, 100_000, ErrorMessage = "must be from 16 to 100000")]
    public int RecentMax { get; set; } = 1000;

    /// <summary>How long a quiet room's recent buffer stays in the KV after its last message. <value>60–86400 seconds; default 600.</value></summary>
    [Range(60, 86_400, ErrorMessage = "must be from 60 to 86400 seconds")]
    public int RecentTtlSeconds { get; set; } = 600;

    /// <summary>How long a ticket (<c>POST /api/chat/tickets</c>, for an EventSource's URL) names its user. <value>10–3600 seconds; default 60.</value></summary>
    [Range(10, 3600, ErrorMessage = "must be from 10 to 3600 seconds")]
    public int TicketTtlSeconds { get; set; } = 60;

    /// <summary>The largest page of history. <value>1–1000; default 100.</value></summary>
    [Range(1, 1000, ErrorMessage = "must be from 1 to 1000")]
    public int HistoryPageMax { get; set; } = 100;

    /// <summary>How often the server pings each connection. <value>1–3600 seconds; default 25.</value></summary>
    [Range(1, 3600, ErrorMessage = "must be from 1 to 3600 seconds")]
    public int HeartbeatSeconds { get; set; } = 25;

    /// <summary>A connection that sends nothing (not even a pong) for this long is closed with 4001. <value>2–7200 seconds; default 60.</value></summary>
    [Range(2, 7200, ErrorMessage = "must be from 2 to 7200 seconds")]
    public int IdleTimeoutSeconds { get; set; } = 60;

    /// <summary>How long a user stays online in the KV after the last heartbeat of any of their connections. <value>2–3600 seconds; default 60.</value></summary>
    [Range(2, 3600, ErrorMessage = "must be from 2 to 3600 seconds")]
    public int PresenceTtlSeconds { get; set; } = 60;

    /// <summary>
    /// The base64 HS256 secret (at least 32 bytes) of JSON Web Tokens accepted in place of an API key: a token's <c>sub</c>
    /// names the chat user, who is created on first sight. <value>Default empty: API keys only.</value>
    /// </summary>
    public string JwtSecret { get; set; } = "";

    /// <summary>The issuer (<c>iss</c>) a token must name; empty: any. <value>Default empty.</value></summary>
    public string JwtIssuer { get; set; } = "";

    /// <summary>The audience (<c>aud</c>) a token must name; empty: any. <value>Default empty.</value></summary>
    public string JwtAudience { get; set; } = "";

    /// <summary>The JWT secret's bytes; null when JWTs are off or the secret is not valid.</summary>
    public byte[]? JwtKey
    {
        get
        {
            var bytes = new byte[JwtSecret.Length];
            return JwtSecret.Length > 0 && Convert.TryFromBase64String(JwtSecret, bytes, out var written) && written >= 32 ? bytes[..written] : null;
        }
    }

    /// <summary>The prefix of every KV key the module uses. <value>Default <c>bp:chat:</c>.</value></summary>
    [RegularExpression(@"^[A-Za-z0-9:_\-.]{1,64}$", ErrorMessage = "must be 1 to 64 characters of letters, digits, ':', '_', '-' or '.'")]
    public string KeyPrefix { get; set; } = "bp:chat:";

    /// <inheritdoc />
    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (IdleTimeoutSeconds <= HeartbeatSeconds)
        {
            yield return new ValidationResult($"must be longer than {nameof(HeartbeatSeconds)} ({HeartbeatSeconds}), or every connection times out between pings", [nameof(IdleTimeoutSeconds)]);
        }

        if (JwtSecret.Length > 0 && JwtKey is null)
        {
            yield return new ValidationResult("must be base64 of at least 32 bytes (an HS256 secret)", [nameof(JwtSecret)]);
        }

        if (MaxFrameBytes < MaxMessageBytes + 512)
        {
            yield return new ValidationResult($"must leave room for a message of {nameof(MaxMessageBytes)} ({MaxMessageBytes}) and its envelope: at least {MaxMessageBytes + 512}", [nameof(MaxFrameBytes)]);
        }
    }
}
