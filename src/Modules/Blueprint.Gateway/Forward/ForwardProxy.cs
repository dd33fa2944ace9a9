using Blueprint.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Server.Kestrel.Core;
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

    /// <summary>Registers the forward proxy and, when its port is set, its listener.</summary>
    public static void AddServices(IHostApplicationBuilder builder)
    {
        builder.Services.AddHttpForwarder();
        builder.Services.AddSingleton(services => new ForwardProxyServer(
            services.GetRequiredService<IOptions<GatewayOptions>>().Value.ForwardProxy,
            services.GetRequiredService<IHttpForwarder>(),
            services.GetService<TimeProvider>() ?? TimeProvider.System,
            services.GetRequiredService<ILogger<ForwardProxyServer>>()));
        builder.Services.AddOptions<KestrelServerOptions>().Configure<IServiceProvider>((kestrel, services) =>
        {
            NodeOptions node;
            ForwardProxyOptions options;
            try
            {
                node = services.GetRequiredService<IOptions<NodeOptions>>().Value;
                options = services.GetRequiredService<IOptions<GatewayOptions>>().Value.ForwardProxy;
            }
            catch (OptionsValidationException)
            {
                return; // the node's preflight reports every invalid option at once
            }

            if (options.IsEnabled)
            {
                var server = services.GetRequiredService<ForwardProxyServer>();
                kestrel.Listen(node.BindAddress, options.Port, listen =>
                {
                    listen.Protocols = HttpProtocols.Http1; // CONNECT and absolute-form are HTTP/1.1's
                    listen.Use(server.ConnectMiddleware);
                });
            }
        });
    }

    /// <summary>Sends the requests of forward-proxy connections to the forward proxy; every other request goes on untouched.</summary>
    public static void UseFrontMiddleware(IApplicationBuilder app) =>
        app.Use(next => context => context.Features.Get<ForwardProxyConnectionFeature>() is null
            ? next(context)
            : context.RequestServices.GetRequiredService<ForwardProxyServer>().HandleHttpAsync(context));
}
