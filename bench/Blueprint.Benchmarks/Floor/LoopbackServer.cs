using System.Globalization;
using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Logging;

namespace Blueprint.Benchmarks.Floor;

/// <summary>What the bench's bare servers share: <c>--port N</c>, a slim Kestrel app on 127.0.0.1 without logging or a Server header, run until SIGTERM.</summary>
internal static class LoopbackServer
{
    /// <summary>Parses <c>--port N</c> (usage and exit code 2 otherwise), then serves with <paramref name="configure"/> until stopped.</summary>
    public static async Task<int> RunAsync(string[] args, string usage, Action<WebApplication> configure)
    {
        if (args is not ["--port", var text] ||
            !int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var port) ||
            port is < 1 or > 65535)
        {
            await Console.Error.WriteLineAsync(usage);
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
        configure(app);
        await app.RunAsync();
        return 0;
    }
}
