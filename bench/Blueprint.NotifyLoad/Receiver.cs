using System.Diagnostics;
using System.Net;
using System.Text;
using System.Text.Json;
using Blueprint.Bench;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Blueprint.NotifyLoad;

/// <summary>
/// The webhook receiver: Kestrel on 127.0.0.1 (a free port) answering 200 to every POST. A message's arrival is
/// recorded by its sequence number (the first arrival counts, later ones are duplicates) with its latency from send;
/// a <c>SubscriptionConfirmation</c> is confirmed by a GET on its <c>SubscribeURL</c> after the answer.
/// </summary>
internal sealed class Receiver : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly HttpClient _client;
    private readonly TaskCompletionSource _confirmed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly MeasuredWindow _window = new();
    private readonly HashSet<long> _seen = [];
    private readonly Lock _gate = new();
    private long _receivedInWindow;
    private long _deliveredOfWindow;
    private long _duplicates;
    private long _unreadable;

    private Receiver(WebApplication app, HttpClient client)
    {
        _app = app;
        _client = client;
    }

    /// <summary>Where messages are POSTed.</summary>
    public Uri Endpoint { get; private set; } = new("http://127.0.0.1/");

    /// <summary>Completes once a subscription confirmation has been confirmed (faults when the GET failed).</summary>
    public Task Confirmed => _confirmed.Task;

    /// <summary>How the subscription was confirmed, or null before.</summary>
    public string? ConfirmedBy { get; private set; }

    /// <summary>First arrivals within the measured window (by arrival time).</summary>
    public long ReceivedInWindow => Interlocked.Read(ref _receivedInWindow);

    /// <summary>First arrivals of messages sent within the measured window.</summary>
    public long DeliveredOfWindow => Interlocked.Read(ref _deliveredOfWindow);

    /// <summary>Arrivals of a message that had arrived before (at-least-once redeliveries).</summary>
    public long Duplicates => Interlocked.Read(ref _duplicates);

    /// <summary>POSTs whose body was not a message of this run.</summary>
    public long Unreadable => Interlocked.Read(ref _unreadable);

    /// <summary>Starts a receiver; <paramref name="client"/> confirms subscriptions.</summary>
    public static async Task<Receiver> StartAsync(HttpClient client, CancellationToken cancellationToken)
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = [], ContentRootPath = AppContext.BaseDirectory });
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, 0));
        var receiver = new Receiver(builder.Build(), client);
        receiver._app.Run(receiver.HandleAsync);
        await receiver._app.StartAsync(cancellationToken).ConfigureAwait(false);
        var address = receiver._app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        receiver.Endpoint = new Uri(new Uri(address), "/hook");
        return receiver;
    }

    /// <summary>The measured window and the latency of its messages' first arrivals.</summary>
    public MeasuredWindow Window => _window;

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync(CancellationToken.None).ConfigureAwait(false);
        await _app.DisposeAsync().ConfigureAwait(false);
    }

    private async Task HandleAsync(HttpContext context)
    {
        var now = Stopwatch.GetTimestamp();
        using var reader = new StreamReader(context.Request.Body);
        var body = await reader.ReadToEndAsync(context.RequestAborted).ConfigureAwait(false);
        context.Response.StatusCode = StatusCodes.Status200OK;
        if (context.Request.Headers["x-amz-sns-message-type"] == "SubscriptionConfirmation")
        {
            _ = ConfirmAsync(body);
            return;
        }

        if (!Message.TryParse(body, out var sequence, out var sent))
        {
            Interlocked.Increment(ref _unreadable);
            return;
        }

        lock (_gate)
        {
            if (!_seen.Add(sequence))
            {
                _duplicates++;
                return;
            }
        }

        if (_window.Contains(now))
        {
            Interlocked.Increment(ref _receivedInWindow);
        }

        if (_window.Contains(sent))
        {
            Interlocked.Increment(ref _deliveredOfWindow);
            _window.Record(sent, now);
        }
    }

    private async Task ConfirmAsync(string body)
    {
        try
        {
            using var document = JsonDocument.Parse(body);
            var url = new Uri(document.RootElement.GetProperty("SubscribeURL").GetString() ?? "");
            using var response = await _client.GetAsync(url).ConfigureAwait(false);
            if (response.IsSuccessStatusCode)
            {
                ConfirmedBy = "GET SubscribeURL";
            }
            else
            {
                // The URL's query is the SNS ConfirmSubscription action: sent as a form POST to the same API instead.
                var get = $"GET SubscribeURL answered {(int)response.StatusCode}";
                using var form = new StringContent(url.Query.TrimStart('?'), Encoding.UTF8, "application/x-www-form-urlencoded");
                using var posted = await _client.PostAsync(new Uri(url.GetLeftPart(UriPartial.Path)), form).ConfigureAwait(false);
                posted.EnsureSuccessStatusCode();
                ConfirmedBy = $"{get}; POST ConfirmSubscription";
            }

            _confirmed.TrySetResult();
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            _confirmed.TrySetException(e);
        }
    }
}
