using System.Globalization;
using Blueprint.Hosting;
using Blueprint.Notify.Channels;
using Blueprint.Notify.Email;
using Blueprint.Notify.Http;
using Blueprint.Notify.Limits;
using Blueprint.Notify.Mqtt;
using Blueprint.Notify.Pipeline;
using Blueprint.Notify.Product;
using Blueprint.Notify.Sns;
using Blueprint.Notify.State;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace Blueprint.Notify;

/// <summary>
/// The notify module: topics and subscriptions behind an SNS-compatible API, a pipeline on the log (accept, fan out,
/// deliver, retry, dead letters) and its channels: signed webhooks, email over SMTP, MQTT through an embedded broker,
/// live inboxes over WebSocket and SSE, and log topics.
/// </summary>
public sealed class NotifyModule : IBlueprintModule
{
    /// <summary>The module's name.</summary>
    public const string ModuleName = "notify";

    /// <inheritdoc />
    public string Name => ModuleName;

    /// <inheritdoc />
    public string Description => "Notification service: an SNS-compatible API, fan-out on the log, signed webhooks, email, an MQTT broker and live inboxes, with retries, dead letters and delivery status.";

    /// <inheritdoc />
    public IReadOnlyList<string> CheatSheetRows { get; } = ["Notification service (design problem)", "SNS", "SMTP", "MQTT", "Pub/Sub", "Event-driven architecture", "Webhooks"];

    /// <inheritdoc />
    public IReadOnlyList<string> Requires { get; } = ["log"];

    /// <summary>The SNS-compatible API (AWS Query protocol).</summary>
    public static readonly ModuleListener SnsListener = new()
    {
        Name = "SNS",
        Title = "SNS API (AWS Query protocol)",
        ConfigKey = $"{NotifyOptions.Section}:{nameof(NotifyOptions.SnsPort)}",
        DefaultPort = 9911,
        Protocol = ListenerProtocol.Http1,
        Flag = "--sns-port",
        Description = "SNS-compatible API port of the notify module",
        Hint = (_, host, port) => $"aws sns list-topics --endpoint-url http://{host}:{port.ToString(CultureInfo.InvariantCulture)}",
    };

    /// <summary>The embedded MQTT broker.</summary>
    public static readonly ModuleListener MqttListener = new()
    {
        Name = "MQTT",
        Title = "MQTT broker",
        ConfigKey = $"{NotifyOptions.Section}:{nameof(NotifyOptions.MqttPort)}",
        DefaultPort = 1883,
        Protocol = ListenerProtocol.ModuleBound,
        Flag = "--mqtt-port",
        Description = "MQTT broker port of the notify module",
        Scheme = "mqtt",
        Hint = (_, host, port) => $"mosquitto_sub -h {host} -p {port.ToString(CultureInfo.InvariantCulture)} -t '#' -v",
    };

    /// <summary>The embedded SMTP sink (a development mailbox).</summary>
    public static readonly ModuleListener SmtpListener = new()
    {
        Name = "SMTP sink",
        Title = "SMTP sink (development mailbox)",
        ConfigKey = $"{NotifyOptions.Section}:{nameof(NotifyOptions.SmtpPort)}",
        DefaultPort = 2525,
        Protocol = ListenerProtocol.ModuleBound,
        Flag = "--smtp-port",
        Description = "SMTP sink port of the notify module (0: off)",
        Scheme = "smtp",
        OffWhenZero = true,
        Hint = (_, host, port) => $"swaks --server {host}:{port.ToString(CultureInfo.InvariantCulture)} --to you@example.com",
    };

    /// <inheritdoc />
    public IReadOnlyList<ModuleListener> Listeners { get; } = [SnsListener, MqttListener, SmtpListener];

    /// <inheritdoc />
    public IReadOnlyList<ModuleFlag> Flags { get; } =
    [
        new("--smtp-relay", $"{NotifyOptions.Section}:{nameof(NotifyOptions.SmtpRelay)}", "The SMTP relay email deliveries go to, as host:port (default: the embedded sink)."),
        new("--mqtt-users", $"{NotifyOptions.Section}:{nameof(NotifyOptions.MqttUsers)}", "MQTT users as name:password, comma separated (default: anonymous clients allowed)."),
        new("--notify-retry-delays", $"{NotifyOptions.Section}:{nameof(NotifyOptions.RetryDelays)}", "Waits before each delivery retry, such as 1s,5s,30s,2m,10m,1h (the default)."),
        new("--notify-user-limit", $"{NotifyOptions.Section}:{nameof(NotifyOptions.UserLimit)}", "Sends per user, such as 100/1m; over it a send gets 429 (default: none; needs the ratelimit module)."),
        new("--notify-channel-limits", $"{NotifyOptions.Section}:{nameof(NotifyOptions.ChannelLimits)}", "Deliveries per channel, such as email=10/1m,webhook=600/1m; over it a delivery waits (default: none; needs the ratelimit module)."),
        new("--notify-user-channel-limits", $"{NotifyOptions.Section}:{nameof(NotifyOptions.UserChannelLimits)}", "Deliveries per user per channel, such as email=5/1h; over it a delivery waits (default: none; needs the ratelimit module)."),
    ];

    /// <inheritdoc />
    public void AddServices(IHostApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var services = builder.Services;
        services.AddValidatedOptions<NotifyOptions>(NotifyOptions.Section);
        services.AddSingleton<IValidateOptions<NotifyOptions>, RateLimitRequirement>();
        services.AddSingleton<NotifyRateLimiter>();
        services.TryAddSingleton(TimeProvider.System);
        services.AddSingleton<NotifyState>();
        services.AddSingleton<DeliveryLedger>();
        services.AddSingleton<Publisher>();
        services.AddSingleton<SnsUrls>();
        services.AddSingleton<SnsApi>();
        services.AddHttpClient(WebhookChannel.ClientName)
            .ConfigurePrimaryHttpMessageHandler(() => new SocketsHttpHandler
            {
                AllowAutoRedirect = false,
                PooledConnectionLifetime = TimeSpan.FromMinutes(5),
                ConnectTimeout = TimeSpan.FromSeconds(10),
                MaxConnectionsPerServer = 64,
            })
            .ConfigureHttpClient(client => client.Timeout = Timeout.InfiniteTimeSpan);
        services.AddSingleton<IDeliveryChannel, WebhookChannel>();
        services.AddSingleton<IDeliveryChannel, LogChannel>();
        services.AddSingleton<IDeliveryChannel, InboxChannel>();
        services.AddSingleton<NotifyPipeline>();
        services.AddHostedService(provider => provider.GetRequiredService<NotifyPipeline>());
        services.AddSingleton<UserDirectory>();
        services.AddSingleton<Scheduler>();
        services.AddHostedService(provider => provider.GetRequiredService<Scheduler>());
        services.AddSingleton<Sender>();
        services.AddHealthChecks().AddCheck<NotifyHealthCheck>(ModuleName, tags: [ServiceDefaults.ReadyTag]);
        services.AddNotifyMqtt();
        services.AddNotifyEmail();
    }

    /// <inheritdoc />
    public void MapEndpoints(IEndpointRouteBuilder endpoints)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        // The port from configuration as is: reading the options here would validate them before the node's start,
        // which reports every module's bad settings together.
        var snsPort = SnsListener.ConfiguredPort(endpoints.ServiceProvider.GetRequiredService<IConfiguration>()) ?? SnsListener.DefaultPort;

        // Ordered first: on the SNS port a GET / (a receiver following its SubscribeURL) must not also match the node's home
        // page, which is not pinned to a port. Resolved per request: the API's services open the data directory, which must wait for the node's validation.
        endpoints.MapMethods("/", [HttpMethods.Get, HttpMethods.Post], (HttpContext context) => context.RequestServices.GetRequiredService<SnsApi>().HandleAsync(context))
            .RequireLocalPort(snsPort)
            .WithOrder(-1)
            .DisableAntiforgery();
        NotifyEndpoints.Map(endpoints);
        ProductEndpoints.Map(endpoints);
        MailboxEndpoints.Map(endpoints);
    }

    /// <inheritdoc />
    public IEnumerable<ModuleEndpoint> DescribeEndpoints(IServiceProvider services)
    {
        ArgumentNullException.ThrowIfNull(services);
        var options = services.GetRequiredService<IOptions<NotifyOptions>>().Value;
        return
        [
            new ModuleEndpoint("Email relay", string.IsNullOrEmpty(options.SmtpRelay) ? "the embedded SMTP sink" : $"smtp://{options.SmtpRelay}"),
            new ModuleEndpoint("Mailbox", "GET /api/notify/mailbox"),
            new ModuleEndpoint("Publish", "POST /api/notify/topics/{name}/messages"),
            new ModuleEndpoint("Delivery status", "GET /api/notify/messages/{id}"),
            new ModuleEndpoint("Dead letters", "GET /api/notify/dead-letters, POST /api/notify/dead-letters/redrive"),
            new ModuleEndpoint("Live inbox", "GET /api/notify/inbox/{name}/events (SSE), /api/notify/inbox/{name}/ws (WebSocket)"),
        ];
    }
}
