using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using Scalar.AspNetCore;

namespace Blueprint.Hosting;

/// <summary>
/// A node: the enabled modules composed into one ASP.NET Core application. The executable runs
/// one; tests start one in-process on free ports. Configuration layers, lowest first:
/// <c>appsettings.json</c> beside the executable, environment variables prefixed <c>BLUEPRINT_</c>
/// (<c>__</c> separates sections), then the overrides given to <see cref="Create"/> (the command-line flags).
/// </summary>
public sealed class BlueprintNode : IAsyncDisposable
{
    /// <summary>The prefix of environment variables that configure the node.</summary>
    public const string EnvironmentPrefix = "BLUEPRINT_";

    private BlueprintNode(WebApplication app, IReadOnlyList<IBlueprintModule> modules, ModuleCatalog catalog)
    {
        App = app;
        Modules = modules;
        Catalog = catalog;
    }

    /// <summary>Every module this build can run (the enabled ones are <see cref="Modules"/>).</summary>
    public ModuleCatalog Catalog { get; }

    /// <summary>The application.</summary>
    public WebApplication App { get; }

    /// <summary>The modules this node runs.</summary>
    public IReadOnlyList<IBlueprintModule> Modules { get; }

    /// <summary>The node's services.</summary>
    public IServiceProvider Services => App.Services;

    /// <summary>The HTTP address the node listens on, once started.</summary>
    public Uri HttpAddress
    {
        get
        {
            var address = App.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses.FirstOrDefault()
                ?? throw new InvalidOperationException("the node has not started");
            return new Uri(address.Replace("0.0.0.0", "127.0.0.1", StringComparison.Ordinal).Replace("[::]", "[::1]", StringComparison.Ordinal));
        }
    }

    /// <summary>Builds a node. Nothing listens until <see cref="StartAsync"/>.</summary>
    /// <param name="catalog">The modules this build can run; <c>Node:Modules</c> picks among them.</param>
    /// <param name="overrides">Configuration keys (such as <c>Node:HttpPort</c>) that win over every other layer.</param>
    /// <param name="services">Registrations made before the modules' own, which win over their defaults (tests pass a fake clock this way).</param>
    public static BlueprintNode Create(ModuleCatalog catalog, IReadOnlyDictionary<string, string?>? overrides = null, Action<IServiceCollection>? services = null)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions
        {
            ContentRootPath = AppContext.BaseDirectory,
            Args = [],
        });
        builder.Configuration.Sources.Clear();
        AddLayers(builder.Configuration, overrides);

        builder.Services.AddValidatedOptions<NodeOptions>(NodeOptions.Section);
        builder.Services.AddSingleton<IValidateOptions<NodeOptions>>(new NodeOptionsValidator(catalog));
        builder.Services.AddSingleton(services => new DataDirectory(services.GetRequiredService<IOptions<NodeOptions>>().Value.DataDir));
        // The host and Kestrel resolve their options while the app is built, before validation
        // runs; they read the raw values here so an invalid one surfaces as a validation error
        // together with the others (Preflight), never as an exception from deep in the host.
        var raw = ReadRaw(builder.Configuration);
        builder.Services.Configure<Microsoft.Extensions.Hosting.HostOptions>(host => host.ShutdownTimeout = TimeSpan.FromSeconds(raw.ShutdownTimeoutSeconds));
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.Listen(raw.BindAddress, raw.HttpPort);
            kestrel.AddServerHeader = false;
            kestrel.Limits.MaxRequestBodySize = RequestBodyMaxBytes;
        });
        builder.WebHost.UseKestrelCore();
        // TLS listeners (the gateway's) need Kestrel's HTTPS services, which the slim builder leaves out.
        builder.WebHost.UseKestrelHttpsConfiguration();

        builder.AddServiceDefaults();
        Dashboard.DashboardEndpoints.AddServices(builder.Services);
        builder.Services.AddOpenApi();
        builder.Services.AddProblemDetails();

        services?.Invoke(builder.Services);
        var modules = catalog.Select(new NodeOptions { Modules = builder.Configuration[$"{NodeOptions.Section}:{nameof(NodeOptions.Modules)}"] ?? "" }.ModuleNames);
        foreach (var module in modules)
        {
            module.AddServices(builder);
        }

        // Endpoints pinned to a listener (RequireLocalPort) are matched by the connection's local port.
        builder.Services.TryAddEnumerable(ServiceDescriptor.Singleton<Microsoft.AspNetCore.Routing.MatcherPolicy, LocalPortMatcherPolicy>());
        builder.Services.AddOptions<KestrelServerOptions>().Configure<IServiceProvider>((kestrel, provider) =>
        {
            // Resolved while the app is built: options not validated yet are skipped here and reported by the preflight.
            foreach (var active in ListenersIn(modules, provider, quiet: true))
            {
                Open(kestrel, raw.BindAddress, active, provider);
            }
        });

        var app = builder.Build();
        foreach (var module in modules)
        {
            module.UseFrontMiddleware(app);
        }

        app.UseExceptionHandler();
        app.UseStatusCodePages();
        UseRoutedMiddleware(app);
        app.MapServiceDefaults();
        app.MapOpenApi();
        app.MapScalarApiReference("/api");
        Dashboard.DashboardEndpoints.Map(app, modules, services => ListenersIn(modules, services, quiet: false));
        foreach (var module in modules)
        {
            module.MapEndpoints(app);
        }

        return new BlueprintNode(app, modules, catalog);
    }

    /// <summary>Opens one module listener on Kestrel as its protocol says; module-bound listeners are left to the module.</summary>
    private static void Open(KestrelServerOptions kestrel, IPAddress address, ActiveListener active, IServiceProvider provider)
    {
        var listener = active.Listener;
        if (listener.Protocol == ListenerProtocol.ModuleBound)
        {
            return;
        }

        kestrel.Listen(address, active.Port, listen =>
        {
            listener.Configure?.Invoke(listen, provider);
            switch (listener.Protocol)
            {
                case ListenerProtocol.Http1:
                    listen.Protocols = HttpProtocols.Http1;
                    break;
                case ListenerProtocol.H2c:
                    listen.Protocols = HttpProtocols.Http2;
                    break;
                case ListenerProtocol.Http1AndHttp2:
                    listen.Protocols = HttpProtocols.Http1AndHttp2;
                    break;
                case ListenerProtocol.Tls:
                    listen.Protocols = HttpProtocols.Http1AndHttp2;
                    listen.UseHttps(listener.Certificate?.Invoke(provider)
                        ?? throw new InvalidOperationException($"listener {listener.Name} is TLS but declares no certificate"));
                    break;
                case ListenerProtocol.Tcp:
                    var handler = listener.ConnectionHandler?.Invoke(provider)
                        ?? throw new InvalidOperationException($"listener {listener.Name} is raw TCP but declares no connection handler");
                    listen.Run(handler.OnConnectedAsync);
                    break;
                default:
                    throw new InvalidOperationException($"listener {listener.Name}: unknown protocol {listener.Protocol}");
            }
        });
    }

    /// <summary>The listeners the enabled modules open in this configuration, with their ports (the node's HTTP port not included).</summary>
    public IReadOnlyList<ActiveListener> Listeners => ListenersIn(Modules, App.Services, quiet: false);

    private static List<ActiveListener> ListenersIn(IReadOnlyList<IBlueprintModule> modules, IServiceProvider provider, bool quiet)
    {
        var configuration = provider.GetRequiredService<IConfiguration>();
        var active = new List<ActiveListener>();
        foreach (var module in modules)
        {
            foreach (var listener in module.Listeners)
            {
                // A value that is not a port is reported by the preflight (ValidateListenerPorts), before anything listens.
                if (listener.ConfiguredPort(configuration) is not { } port || (listener.OffWhenZero && port == 0))
                {
                    continue;
                }

                bool opens;
                try
                {
                    opens = listener.When?.Invoke(provider) ?? true;
                }
                catch (Exception e) when (quiet && e is OptionsValidationException or StartupProblemException)
                {
                    continue; // the preflight reports invalid options, all at once
                }

                if (opens)
                {
                    active.Add(new ActiveListener(module.Name, listener, port));
                }
            }
        }

        return active;
    }

    /// <summary>
    /// Routing, then the endpoint-aware middleware in ASP.NET Core's order. Routing is placed here,
    /// after the modules' front middleware, so a hot path answered there costs no route match; and
    /// authentication and authorization are placed explicitly after it (left to the framework, they
    /// would run before routing and never see a route's policy).
    /// </summary>
    private static void UseRoutedMiddleware(WebApplication app)
    {
        // WebSocket upgrades for any module's endpoint (live inboxes, chat); other requests pass with one header check.
        app.UseWebSockets(new WebSocketOptions { KeepAliveInterval = TimeSpan.FromSeconds(30) });
        app.UseRouting();
        var pipeline = app.Services.GetRequiredService<IOptions<PipelineOptions>>().Value;
        if (app.Services.GetService<Microsoft.AspNetCore.Cors.Infrastructure.ICorsService>() is not null)
        {
            app.UseCors();
        }

        if (app.Services.GetService<Microsoft.AspNetCore.Authentication.IAuthenticationSchemeProvider>() is not null)
        {
            app.UseAuthentication();
        }

        if (app.Services.GetService<Microsoft.AspNetCore.Authorization.IAuthorizationHandlerProvider>() is not null)
        {
            app.UseAuthorization();
        }

        if (pipeline.RateLimiter)
        {
            app.UseRateLimiter();
        }

        if (pipeline.RequestTimeouts)
        {
            app.UseRequestTimeouts();
        }
    }

    private static IConfigurationBuilder AddLayers(IConfigurationBuilder configuration, IReadOnlyDictionary<string, string?>? overrides) =>
        configuration
            .AddJsonFile(Path.Combine(AppContext.BaseDirectory, "appsettings.json"), optional: true, reloadOnChange: false)
            .AddEnvironmentVariables(EnvironmentPrefix)
            .AddInMemoryCollection(overrides ?? new Dictionary<string, string?>());

    /// <summary>The largest request body any endpoint accepts unless it sets its own limit: 1 MiB.</summary>
    public const long RequestBodyMaxBytes = 1024 * 1024;

    /// <summary>Starts every module and the HTTP server.</summary>
    /// <exception cref="StartupProblemException">The environment stops the node (a port in use, an unwritable directory).</exception>
    /// <exception cref="OptionsValidationException">The configuration is invalid.</exception>
    public async Task StartAsync(CancellationToken cancellationToken = default)
    {
        Preflight();
        try
        {
            await App.StartAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (IOException e) when (e.InnerException is Microsoft.AspNetCore.Connections.AddressInUseException)
        {
            var node = App.Services.GetRequiredService<IOptions<NodeOptions>>().Value;
            throw StartupProblemException.PortInUse(ModuleCatalog.HttpListener.Name, node.Bind, node.HttpPort, ModuleCatalog.HttpListener.Setting, e);
        }
    }

    /// <summary>
    /// Checks what would stop the start before anything starts, so that each problem is reported
    /// once, plainly: every invalid option at once, then the data directory, then each port.
    /// </summary>
    private void Preflight()
    {
        App.Services.GetRequiredService<IStartupValidator>().Validate();
        ValidateListenerPorts();
        _ = App.Services.GetRequiredService<DataDirectory>();
        var node = App.Services.GetRequiredService<IOptions<NodeOptions>>().Value;
        var ports = Listeners.Prepend(new ActiveListener("http", ModuleCatalog.HttpListener, node.HttpPort))
            .Where(active => active.Port != 0) // any free port: nothing to check
            .ToList();

        // Two listeners configured on one port would fail to bind with a misleading "in use".
        foreach (var clash in ports.GroupBy(active => active.Port).Where(group => group.Count() > 1))
        {
            var names = clash.Select(active => $"{active.Listener.Name} ({active.Listener.Setting})").ToList();
            throw new StartupProblemException($"port {clash.Key} is configured for both {string.Join(" and ", names)}; give each its own");
        }

        foreach (var active in ports)
        {
            if (!PortProbe.IsFree(node.BindAddress, active.Port))
            {
                throw StartupProblemException.PortInUse(active.Listener.Name, node.Bind, active.Port, active.Listener.Setting);
            }
        }
    }

    /// <summary>
    /// A listener's configured value that is not a port, reported as an invalid option naming the key and the value (and,
    /// through <see cref="StartupFailure"/>, the flag). Modules whose options validate the port report it first, with
    /// every other invalid option; this covers a module that declares a listener and validates nothing.
    /// </summary>
    private void ValidateListenerPorts()
    {
        var configuration = App.Services.GetRequiredService<IConfiguration>();
        var failures = Modules.SelectMany(module => module.Listeners)
            .Where(listener => listener.ConfiguredPort(configuration) is null)
            .Select(listener => $"{listener.ConfigKey} = '{configuration[listener.ConfigKey]}': must be a port from 0 to 65535" +
                (listener.OffWhenZero ? " (0 turns it off)" : " (0 picks a free one)"))
            .ToList();
        if (failures.Count > 0)
        {
            throw new OptionsValidationException(nameof(ModuleListener), typeof(ModuleListener), failures);
        }
    }

    /// <summary>Stops gracefully: drains HTTP, then stops the modules in reverse order (checkpoints, closes).</summary>
    public Task StopAsync(CancellationToken cancellationToken = default) => App.StopAsync(cancellationToken);

    /// <summary>Every endpoint of the node, for the banner and the dashboard.</summary>
    public IReadOnlyList<(string Module, ModuleEndpoint Endpoint)> DescribeEndpoints()
    {
        var list = new List<(string, ModuleEndpoint)>
        {
            ("http", new ModuleEndpoint(ModuleCatalog.HttpListener.Name, HttpAddress.ToString(), "/healthz /readyz /metrics /openapi/v1.json /api")),
        };
        var listeners = Listeners;
        foreach (var module in Modules)
        {
            list.AddRange(Describe(module, listeners, App.Services).Select(endpoint => (module.Name, endpoint)));
        }

        return list;
    }

    /// <summary>What <paramref name="module"/> offers: its own endpoints, then its listeners with their addresses.</summary>
    internal static IEnumerable<ModuleEndpoint> Describe(IBlueprintModule module, IReadOnlyList<ActiveListener> listeners, IServiceProvider services)
    {
        foreach (var endpoint in module.DescribeEndpoints(services))
        {
            yield return endpoint;
        }

        var host = services.GetRequiredService<IOptions<NodeOptions>>().Value.ClientHost;
        foreach (var active in listeners.Where(active => active.Module == module.Name))
        {
            var listener = active.Listener;
            var port = active.Port.ToString(System.Globalization.CultureInfo.InvariantCulture);
            yield return new ModuleEndpoint(listener.Title ?? listener.Name, $"{listener.Scheme}://{host}:{port}", listener.Hint?.Invoke(services, host, active.Port) ?? "");
        }
    }

    /// <summary>The data directory in use.</summary>
    public string DataDirectoryPath => App.Services.GetRequiredService<DataDirectory>().FullPath;

    /// <summary>The node options as configured where they are valid, defaults where not.</summary>
    private static NodeOptions ReadRaw(IConfiguration configuration)
    {
        var defaults = new NodeOptions();
        string? Value(string key) => configuration[$"{NodeOptions.Section}:{key}"];
        int Int(string key, int fallback, int min, int max) =>
            int.TryParse(Value(key), System.Globalization.CultureInfo.InvariantCulture, out var parsed) && parsed >= min && parsed <= max ? parsed : fallback;
        return new NodeOptions
        {
            Bind = IPAddress.TryParse(Value(nameof(NodeOptions.Bind)), out _) ? Value(nameof(NodeOptions.Bind))! : defaults.Bind,
            HttpPort = Int(nameof(NodeOptions.HttpPort), defaults.HttpPort, 0, 65535),
            ShutdownTimeoutSeconds = Int(nameof(NodeOptions.ShutdownTimeoutSeconds), defaults.ShutdownTimeoutSeconds, 1, 300),
        };
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync() => await App.DisposeAsync().ConfigureAwait(false);
}
