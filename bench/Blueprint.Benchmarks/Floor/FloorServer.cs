using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace Blueprint.Benchmarks.Floor;

/// <summary>
/// The .NET floor for a redirect (bench/shortener.sh, row b): a bare Kestrel app on 127.0.0.1 whose only
/// endpoint, <c>GET /{code}</c>, answers a fixed 302 with <c>Location: https://example.com/a</c>, written
/// straight on <see cref="HttpResponse"/> by a <see cref="RequestDelegate"/> (no <c>IResult</c>, no
/// lookup, no body). Routing stays in, as it is in a node, so the difference to a node's redirect is the
/// module's own work. Runs until SIGTERM / Ctrl+C.
/// </summary>
internal static class FloorServer
{
    private const string Usage = "usage: Blueprint.Benchmarks floor --port N";

    private const string Location = "https://example.com/a";

    public static Task<int> RunAsync(string[] args) => LoopbackServer.RunAsync(args, Usage, app => app.MapGet("/{code}", Redirect));

    private static Task Redirect(HttpContext context)
    {
        var response = context.Response;
        response.StatusCode = StatusCodes.Status302Found;
        response.Headers.Location = Location;
        return Task.CompletedTask;
    }
}
