using System.Collections.Frozen;
using System.Reflection;
using Microsoft.AspNetCore.Http;

namespace Blueprint.Hosting;

/// <summary>
/// A page's static files embedded in an assembly (no CDN, nothing fetched from elsewhere), read once and served from
/// memory under a content security policy that allows scripts, styles, images and connections from this origin only: an
/// injected script, were one to slip past a page's text escaping, could neither load code nor send anything elsewhere.
/// The node's dashboard and the chat's browser client are served this way.
/// </summary>
public sealed class EmbeddedWebFiles
{
    /// <summary>The policy every file is served with.</summary>
    public const string ContentSecurityPolicy =
        "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

    private readonly FrozenDictionary<string, (byte[] Bytes, string ContentType)> _files;

    /// <summary>Reads the resources of <paramref name="assembly"/> whose names start with <paramref name="resourcePrefix"/> (the <c>LogicalName</c> in its project file).</summary>
    public EmbeddedWebFiles(Assembly assembly, string resourcePrefix)
    {
        ArgumentNullException.ThrowIfNull(assembly);
        ArgumentNullException.ThrowIfNull(resourcePrefix);
        var files = new Dictionary<string, (byte[], string)>(StringComparer.Ordinal);
        foreach (var name in assembly.GetManifestResourceNames().Where(name => name.StartsWith(resourcePrefix, StringComparison.Ordinal)))
        {
            using var stream = assembly.GetManifestResourceStream(name)!;
            using var memory = new MemoryStream();
            stream.CopyTo(memory);
            var file = name[resourcePrefix.Length..];
            files[file] = (memory.ToArray(), ContentTypeOf(file));
        }

        _files = files.ToFrozenDictionary(StringComparer.Ordinal);
    }

    /// <summary>The file named <paramref name="file"/> with its headers, or 404.</summary>
    public IResult Serve(HttpContext context, string file)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (!_files.TryGetValue(file, out var found))
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

    private static string ContentTypeOf(string file) => Path.GetExtension(file) switch
    {
        ".html" => "text/html; charset=utf-8",
        ".css" => "text/css; charset=utf-8",
        ".js" => "text/javascript; charset=utf-8",
        ".svg" => "image/svg+xml",
        _ => "application/octet-stream",
    };
}
