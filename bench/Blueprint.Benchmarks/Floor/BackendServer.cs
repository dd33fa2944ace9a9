using System.Globalization;
using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

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

    public static async Task<int> RunAsync(string[] args)
    {
        if (args is not ["--port", var text] ||
            !int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var port) ||
            port is < 1 or > 65535)
        {
            await Console.Error.WriteLineAsync(Usage);
            return 2;
        }

        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            kestrel.Listen(IPAddress.Loopback, port);
        });

        await using var app = builder.Build();
        app.Run(Answer);
        await app.RunAsync();
        return 0;
    }

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
