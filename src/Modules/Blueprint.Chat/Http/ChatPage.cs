using Blueprint.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Blueprint.Chat.Http;

/// <summary>
/// The browser client at <c>/chat</c>: a static page, its style sheet and its script, embedded in this assembly (no CDN,
/// nothing fetched from elsewhere) and served from memory. The page talks to the HTTP API and the WebSocket of
/// <see cref="ChatEndpoints"/> like any other client.
/// </summary>
internal static class ChatPage
{
    /// <summary>The page's files (the <c>LogicalName</c> prefix in the project file).</summary>
    private static readonly EmbeddedWebFiles Files = new(typeof(ChatPage).Assembly, "Blueprint.Chat.Web.");

    public static void Map(IEndpointRouteBuilder endpoints)
    {
        endpoints.MapGet("/chat", (HttpContext context) => Files.Serve(context, "index.html"));
        endpoints.MapGet("/chat/{file}", (string file, HttpContext context) => Files.Serve(context, file.Length == 0 ? "index.html" : file));
    }
}
