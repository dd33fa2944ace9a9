using System.Collections.Frozen;
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
    /// <summary>The prefix of the embedded files' resource names (the <c>LogicalName</c> in the project file).</summary>
    private const string ResourcePrefix = "Blueprint.Chat.Web.";

    /// <summary>
    /// Scripts and styles from this origin only, and connections to it (HTTP and WebSocket): an injected script, were one
    /// to slip past the text escaping, could neither load code nor send a key elsewhere.
    /// </summary>
    private const string ContentSecurityPolicy =
        "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

    private static readonly FrozenDictionary<string, (byte[] Bytes, string ContentType)> Files = Load();

    public static void Map(IEndpointRouteBuilder endpoints)
    {
        endpoints.MapGet("/chat", (HttpContext context) => Serve(context, "index.html"));
        endpoints.MapGet("/chat/{file}", (string file, HttpContext context) => Serve(context, file.Length == 0 ? "index.html" : file));
    }

    private static IResult Serve(HttpContext context, string file)
    {
        if (!Files.TryGetValue(file, out var found))
        {
            return Results.NotFound();
        }

        var headers = context.Response.Headers;
        headers.ContentSecurityPolicy = ContentSecurityPolicy;
        headers.XContentTypeOptions = "nosniff";
        // The files change with the node's version: revalidate rather than run a stale script against a newer API.
        headers.CacheControl = "no-cache";
        return Results.Bytes(found.Bytes, found.ContentType);
    }

    private static FrozenDictionary<string, (byte[] Bytes, string ContentType)> Load()
    {
        var assembly = typeof(ChatPage).Assembly;
        var files = new Dictionary<string, (byte[], string)>(StringComparer.Ordinal);
        foreach (var name in assembly.GetManifestResourceNames().Where(name => name.StartsWith(ResourcePrefix, StringComparison.Ordinal)))
        {
            using var stream = assembly.GetManifestResourceStream(name)!;
            using var memory = new MemoryStream();
            stream.CopyTo(memory);
            var file = name[ResourcePrefix.Length..];
            files[file] = (memory.ToArray(), ContentTypeOf(file));
        }

        return files.ToFrozenDictionary(StringComparer.Ordinal);
    }

    private static string ContentTypeOf(string file) => Path.GetExtension(file) switch
    {
        ".html" => "text/html; charset=utf-8",
        ".css" => "text/css; charset=utf-8",
        ".js" => "text/javascript; charset=utf-8",
        _ => "application/octet-stream",
    };
}
