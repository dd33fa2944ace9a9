using Blueprint.Chat.Access;
using Blueprint.Chat.Http;
using Blueprint.Chat.Live;
using Blueprint.Chat.Storage;
using Blueprint.Hosting;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;

namespace Blueprint.Chat;

/// <summary>
/// The chat module: users with API keys, rooms and direct conversations, a WebSocket protocol with per-room ordered
/// time-ordered ids, recovery of missed messages by offset, edits, deletes, receipts, typing and presence in the KV;
/// history in SQL laid out as a wide-column table (partition per room and day, newest first).
/// </summary>
public sealed class ChatModule : IBlueprintModule
{
    /// <summary>The module's name.</summary>
    public const string ModuleName = "chat";

    /// <inheritdoc />
    public string Name => ModuleName;

    /// <inheritdoc />
    public string Description => "Chat: rooms and direct conversations over WebSocket, ordered per room, missed messages recovered by offset, receipts, typing and presence; history in a wide-column layout on SQL.";

    /// <inheritdoc />
    public IReadOnlyList<string> CheatSheetRows { get; } = ["Chat system (design problem)", "WebSocket", "Wide-column store"];

    /// <inheritdoc />
    public IReadOnlyList<string> Requires { get; } = ["kv", "sql"];

    /// <inheritdoc />
    public void AddServices(IHostApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var services = builder.Services;
        services.AddValidatedOptions<ChatOptions>(ChatOptions.Section);
        services.TryAddSingleton(TimeProvider.System);
        services.AddSingleton<ChatStore>();
        services.AddSingleton<MessageWriter>();
        services.AddSingleton<ChatTokens>();
        services.AddSingleton<ChatTickets>();
        services.AddSingleton<ChatHub>();
        services.AddSingleton<RoomBus>();
        services.AddSingleton<ChatService>();
        services.AddSingleton<Presence>();
        services.AddSingleton<ChatSocket>();
        services.AddSingleton<ChatEvents>();
        services.AddHostedService<ChatLifecycle>();
    }

    /// <inheritdoc />
    public void MapEndpoints(IEndpointRouteBuilder endpoints)
    {
        ChatEndpoints.Map(endpoints);
        ChatPage.Map(endpoints);
    }

    /// <inheritdoc />
    public string? PagePath => "/chat";

    /// <inheritdoc />
    public IEnumerable<ModuleEndpoint> DescribeEndpoints(IServiceProvider services) =>
    [
        new ModuleEndpoint("Chat API", "POST /api/chat/users, /api/chat/rooms, GET /api/chat/rooms/{id}/messages"),
        new ModuleEndpoint("Chat in a browser", "/chat"),
        new ModuleEndpoint("Chat WebSocket", "/api/chat/ws",
            "curl -s -X POST localhost:8080/api/chat/users -H 'Content-Type: application/json' -d '{\"name\":\"alice\"}'"),
    ];
}
