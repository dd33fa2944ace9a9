using Blueprint.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Yarp.ReverseProxy.Forwarder;

namespace Blueprint.Gateway.Forward;

/// <summary>
/// Wires the forward proxy into the gateway: its services, its own HTTP/1.1 listener on
/// <c>Gateway:ForwardProxy:Port</c> (with the CONNECT middleware in front of Kestrel's HTTP), and the
/// branch that sends that listener's requests, and only those, to the forward proxy.
/// </summary>
internal static class ForwardProxy
{
    /// <summary>The key of the forward proxy's port, as named in messages.</summary>
    public const string PortKey = "Gateway:ForwardProxy:Port";

    /// <summary>The forward proxy's HTTP/1.1 listener (CONNECT and absolute-form are HTTP/1.1's), with the CONNECT middleware in front of Kestrel's HTTP.</summary>
    public static readonly ModuleListener Listener = new()
    {
        Name = "Forward proxy (gateway)",
        ConfigKey = PortKey,
        DefaultPort = 0,
        OffWhenZero = true,
        Protocol = ListenerProtocol.Http1,
        Configure = (listen, services) => listen.Use(services.GetRequiredService<ForwardProxyServer>().ConnectMiddleware),
    };

    /// <summary>Registers the forward proxy.</summary>
    public static void AddServices(IHostApplicationBuilder builder)
    {
        builder.Services.AddHttpForwarder();
        builder.Services.AddSingleton(services => new ForwardProxyServer(
            services.GetRequiredService<IOptions<GatewayOptions>>().Value.ForwardProxy,
            services.GetRequiredService<IHttpForwarder>(),
            services.GetService<TimeProvider>() ?? TimeProvider.System,
            services.GetRequiredService<ILogger<ForwardProxyServer>>()));
    }

    /// <summary>Sends the requests of forward-proxy connections to the forward proxy; every other request goes on untouched.</summary>
    public static void UseFrontMiddleware(IApplicationBuilder app) =>
        app.Use(next => context => context.Features.Get<ForwardProxyConnectionFeature>() is null
            ? next(context)
            : context.RequestServices.GetRequiredService<ForwardProxyServer>().HandleHttpAsync(context));
}
