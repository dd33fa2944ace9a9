using System.Globalization;
using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

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
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, port));

        await using var app = builder.Build();
        app.MapGet("/{code}", Redirect);
        await app.RunAsync();
        return 0;
    }

    private static Task Redirect(HttpContext context)
    {
        var response = context.Response;
        response.StatusCode = StatusCodes.Status302Found;
        response.Headers.Location = Location;
        return Task.CompletedTask;
    }
}
