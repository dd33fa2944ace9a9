using System.Net;
using Blueprint.Hosting;
using Blueprint.Sql;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using Scalar.AspNetCore;

namespace Blueprint.Node;

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

    private BlueprintNode(WebApplication app, IReadOnlyList<IBlueprintModule> modules)
    {
        App = app;
        Modules = modules;
    }

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
    /// <param name="overrides">Configuration keys (such as <c>Node:HttpPort</c>) that win over every other layer.</param>
    /// <param name="services">Registrations made before the modules' own, which win over their defaults (tests pass a fake clock this way).</param>
    public static BlueprintNode Create(IReadOnlyDictionary<string, string?>? overrides = null, Action<IServiceCollection>? services = null)
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions
        {
            ContentRootPath = AppContext.BaseDirectory,
            Args = [],
        });
        builder.Configuration.Sources.Clear();
        AddLayers(builder.Configuration, overrides);

        builder.Services.AddValidatedOptions<NodeOptions>(NodeOptions.Section);
        builder.Services.AddSingleton<IValidateOptions<NodeOptions>, NodeOptionsValidator>();
        builder.Services.AddSingleton(services => new DataDirectory(services.GetRequiredService<IOptions<NodeOptions>>().Value.DataDir));
        // The host and Kestrel resolve their options while the app is built, before validation
        // runs; they read the raw values here so an invalid one surfaces as a validation error
        // together with the others (Preflight), never as an exception from deep in the host.
        var raw = ReadRaw(builder.Configuration);
        builder.Services.Configure<HostOptions>(host => host.ShutdownTimeout = TimeSpan.FromSeconds(raw.ShutdownTimeoutSeconds));
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
        builder.Services.AddOpenApi();
        builder.Services.AddProblemDetails();

        services?.Invoke(builder.Services);
        var modules = SelectModules(builder.Configuration[$"{NodeOptions.Section}:{nameof(NodeOptions.Modules)}"]);
        foreach (var module in modules)
        {
            module.AddServices(builder);
        }

        // Databases beyond the node's own (the shortener's shards) open on the sql module's engines;
        // modules see only ISqlDatabaseOpener, from the sql abstractions.
        builder.Services.TryAddSingleton<ISqlDatabaseOpener, SqlDatabaseOpener>();

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
        HomePage.Map(app, modules);
        foreach (var module in modules)
        {
            module.MapEndpoints(app);
        }

        return new BlueprintNode(app, modules);
    }

    /// <summary>
    /// Routing, then the endpoint-aware middleware in ASP.NET Core's order. Routing is placed here,
    /// after the modules' front middleware, so a hot path answered there costs no route match; and
    /// authentication and authorization are placed explicitly after it (left to the framework, they
    /// would run before routing and never see a route's policy).
    /// </summary>
    private static void UseRoutedMiddleware(WebApplication app)
    {
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

    /// <summary>The configuration a node would read, without building one (for verbs that work on a node's data).</summary>
    /// <param name="overrides">Keys that win over every other layer.</param>
    public static IConfiguration LoadConfiguration(IReadOnlyDictionary<string, string?>? overrides = null) =>
        AddLayers(new ConfigurationBuilder(), overrides).Build();

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
            throw StartupProblemException.PortInUse("HTTP", node.Bind, node.HttpPort, "--http-port", e);
        }
    }

    /// <summary>
    /// Checks what would stop the start before anything starts, so that each problem is reported
    /// once, plainly: every invalid option at once, then the data directory, then each port.
    /// </summary>
    private void Preflight()
    {
        App.Services.GetRequiredService<IStartupValidator>().Validate();
        _ = App.Services.GetRequiredService<DataDirectory>();
        var node = App.Services.GetRequiredService<IOptions<NodeOptions>>().Value;
        var ports = Modules.SelectMany(module => module.DescribePorts(App.Services)).ToList();
        if (node.HttpPort != 0)
        {
            ports.Insert(0, new ModulePort("HTTP", node.HttpPort, "--http-port"));
        }

        // Two listeners configured on one port would fail to bind with a misleading "in use".
        foreach (var clash in ports.GroupBy(port => port.Port).Where(group => group.Count() > 1))
        {
            var names = clash.Select(port => $"{port.Protocol} ({port.Flag})").ToList();
            throw new StartupProblemException($"port {clash.Key} is configured for both {string.Join(" and ", names)}; give each its own");
        }

        foreach (var port in ports)
        {
            if (!PortProbe.IsFree(node.BindAddress, port.Port))
            {
                throw StartupProblemException.PortInUse(port.Protocol, node.Bind, port.Port, port.Flag);
            }
        }
    }

    /// <summary>Stops gracefully: drains HTTP, then stops the modules in reverse order (checkpoints, closes).</summary>
    public Task StopAsync(CancellationToken cancellationToken = default) => App.StopAsync(cancellationToken);

    /// <summary>Every endpoint of the node, for the banner and the home page.</summary>
    public IReadOnlyList<(string Module, ModuleEndpoint Endpoint)> DescribeEndpoints()
    {
        var list = new List<(string, ModuleEndpoint)>
        {
            ("http", new ModuleEndpoint("HTTP", HttpAddress.ToString(), "/healthz /readyz /metrics /openapi/v1.json /api")),
        };
        foreach (var module in Modules)
        {
            list.AddRange(module.DescribeEndpoints(App.Services).Select(endpoint => (module.Name, endpoint)));
        }

        return list;
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

    private static List<IBlueprintModule> SelectModules(string? names)
    {
        var wanted = new NodeOptions { Modules = names ?? "" }.ModuleNames;
        return ModuleCatalog.CreateAll().Where(module => wanted.Count == 0 || wanted.Contains(module.Name)).ToList();
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync() => await App.DisposeAsync().ConfigureAwait(false);
}
