using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace Blueprint.Benchmarks.Floor;

/// <summary>
/// The backend behind the proxies in bench/gateway.sh: a bare Kestrel app on 127.0.0.1 answering every
/// GET (any path) with 200, <c>Content-Type: text/plain</c> and the fixed 13-byte body
/// <c>"hello, world\n"</c>, written straight on <see cref="HttpResponse"/> by one terminal
/// <see cref="RequestDelegate"/> (no routing, no <c>IResult</c>); any other method gets 405. It is also
/// the ceiling row: what a client sees without a proxy in between. Runs until SIGTERM / Ctrl+C.
/// </summary>
internal static class BackendServer
{
    private const string Usage = "usage: Blueprint.Benchmarks backend --port N";

    private static readonly byte[] Body = "hello, world\n"u8.ToArray();

    public static Task<int> RunAsync(string[] args) => LoopbackServer.RunAsync(args, Usage, app => app.Run(Answer));

    private static Task Answer(HttpContext context)
    {
        var response = context.Response;
        if (!HttpMethods.IsGet(context.Request.Method))
        {
            response.StatusCode = StatusCodes.Status405MethodNotAllowed;
            return Task.CompletedTask;
        }

        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = "text/plain";
        response.ContentLength = Body.Length;
        return response.Body.WriteAsync(Body, context.RequestAborted).AsTask();
    }
}
