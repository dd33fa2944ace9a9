using System.Collections.Concurrent;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Blueprint.Notify.Tests;

/// <summary>A webhook receiver on a free loopback port: records every request and answers with what <see cref="Answer"/> says.</summary>
internal sealed class WebhookReceiver : IAsyncDisposable
{
    private readonly WebApplication _app;

    private WebhookReceiver(WebApplication app) => _app = app;

    /// <summary>One request received.</summary>
    public sealed record Received(string Path, IReadOnlyDictionary<string, string> Headers, string Body, DateTimeOffset At)
    {
        /// <summary>A header (by lower-case name), or empty.</summary>
        public string Header(string name) => Headers.GetValueOrDefault(name, "");
    }

    /// <summary>Every request received, in order.</summary>
    public ConcurrentQueue<Received> Requests { get; } = new();

    /// <summary>The answer to the n-th request (1-based) of a path: status code, and whether to add <c>Webhook-No-Retry: true</c>.</summary>
    public Func<string, int, (int Status, bool NoRetry)> Answer { get; set; } = (_, _) => (200, false);

    /// <summary>Awaited before a request is answered (after it is recorded): a test holds a request open with it.</summary>
    public Func<Received, Task> Hold { get; set; } = _ => Task.CompletedTask;

    /// <summary>The URL of a path on the receiver.</summary>
    public string Url(string path) => _app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First() + path;

    /// <summary>The requests of a path.</summary>
    public List<Received> Of(string path) => [.. Requests.Where(request => request.Path == path)];

    /// <summary>Starts a receiver.</summary>
    public static async Task<WebhookReceiver> StartAsync(CancellationToken cancellationToken)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        var app = builder.Build();
        var receiver = new WebhookReceiver(app);
        var counts = new ConcurrentDictionary<string, int>(StringComparer.Ordinal);
        app.Run(async context =>
        {
            using var reader = new StreamReader(context.Request.Body, Encoding.UTF8);
            var body = await reader.ReadToEndAsync(context.RequestAborted);
            var path = context.Request.Path.Value ?? "";
            var received = new Received(
                path,
                context.Request.Headers.ToDictionary(header => header.Key.ToLowerInvariant(), header => header.Value.ToString(), StringComparer.Ordinal),
                body,
                DateTimeOffset.UtcNow);
            receiver.Requests.Enqueue(received);
            await receiver.Hold(received).WaitAsync(context.RequestAborted);
            var (status, noRetry) = receiver.Answer(path, counts.AddOrUpdate(path, 1, (_, count) => count + 1));
            if (noRetry)
            {
                context.Response.Headers["Webhook-No-Retry"] = "true";
            }

            context.Response.StatusCode = status;
        });
        await app.StartAsync(cancellationToken);
        return receiver;
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
