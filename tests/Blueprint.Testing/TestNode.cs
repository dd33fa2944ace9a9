using System.Globalization;
using Blueprint.Hosting;
using StackExchange.Redis;

namespace Blueprint.Testing;

/// <summary>
/// A real node started in-process on free loopback ports with its own data directory, for
/// integration tests. Every listener the catalog's modules declare gets a free port (unless the test
/// sets its key, or the listener is an optional one that port 0 turns off). Dispose stops it
/// gracefully; the data directory is deleted unless the test passed one in (to restart a node on the same data).
/// </summary>
public sealed class TestNode : IAsyncDisposable
{
    private readonly TempDirectory? _ownedDirectory;
    private readonly IReadOnlyDictionary<string, string?> _settings;
    private ConnectionMultiplexer? _redis;

    private TestNode(BlueprintNode node, string dataDir, IReadOnlyDictionary<string, string?> settings, TempDirectory? ownedDirectory)
    {
        Node = node;
        DataDir = dataDir;
        _settings = settings;
        _ownedDirectory = ownedDirectory;
        Http = new HttpClient { BaseAddress = node.HttpAddress, Timeout = TimeSpan.FromSeconds(30) };
    }

    /// <summary>
    /// The modules test nodes compose unless a test passes its own catalog: each test assembly sets it once, to the
    /// modules it tests and those they require (see <c>TestCatalog.cs</c> in each test project).
    /// </summary>
    public static ModuleCatalog? DefaultCatalog { get; set; }

    /// <summary>The catalog in use: <see cref="DefaultCatalog"/>, which the test assembly must have set.</summary>
    public static ModuleCatalog RequireCatalog() =>
        DefaultCatalog ?? throw new InvalidOperationException("TestNode.DefaultCatalog is not set: set it in the test assembly (TestCatalog.cs)");

    /// <summary>
    /// Free ports for every listener of <paramref name="catalog"/> that is on by default (optional ones that port 0 turns off
    /// are left off unless their default is a port), by configuration key: what makes
    /// parallel nodes (in-process or as processes) never meet on a port.
    /// </summary>
    public static Dictionary<string, string?> FreeListenerPorts(ModuleCatalog catalog)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        return catalog.Modules.SelectMany(module => module.Listeners)
            .Where(listener => !listener.OffWhenZero || listener.DefaultPort != 0)
            .ToDictionary(listener => listener.ConfigKey, _ => (string?)FreePorts.Next().ToString(CultureInfo.InvariantCulture));
    }

    /// <summary>The node.</summary>
    public BlueprintNode Node { get; }

    /// <summary>The node's data directory.</summary>
    public string DataDir { get; }

    /// <summary>The port configured for a listener's key (such as <c>Kv:Port</c>).</summary>
    public int PortOf(string configKey) => int.Parse(_settings[configKey]!, CultureInfo.InvariantCulture);

    /// <summary>The RESP port of the embedded KV (<c>Kv:Port</c>), which most data-module tests talk to.</summary>
    public int RespPort => PortOf("Kv:Port");

    /// <summary>A client for the node's HTTP port.</summary>
    public HttpClient Http { get; }

    /// <summary>The RESP endpoint as <c>host:port</c>.</summary>
    public string RespEndpoint => $"127.0.0.1:{RespPort}";

    /// <summary>Starts a node.</summary>
    /// <param name="dataDir">An existing data directory to reuse (restart tests); null for a fresh temporary one.</param>
    /// <param name="settings">Extra configuration keys, for example <c>Node:Modules</c>.</param>
    /// <param name="cancellationToken">Cancels the start.</param>
    public static Task<TestNode> StartAsync(
        string? dataDir = null,
        IReadOnlyDictionary<string, string?>? settings = null,
        CancellationToken cancellationToken = default) =>
        StartAsync(dataDir, settings, null, cancellationToken);

    /// <summary>Starts a node with registrations that win over the modules' defaults, such as a fake <see cref="TimeProvider"/>.</summary>
    public static Task<TestNode> StartAsync(
        string? dataDir,
        IReadOnlyDictionary<string, string?>? settings,
        Action<Microsoft.Extensions.DependencyInjection.IServiceCollection>? services,
        CancellationToken cancellationToken = default) =>
        StartAsync(RequireCatalog(), dataDir, settings, services, cancellationToken);

    /// <summary>Starts a node of the modules in <paramref name="catalog"/>.</summary>
    public static async Task<TestNode> StartAsync(
        ModuleCatalog catalog,
        string? dataDir,
        IReadOnlyDictionary<string, string?>? settings,
        Action<Microsoft.Extensions.DependencyInjection.IServiceCollection>? services,
        CancellationToken cancellationToken = default)
    {
        var owned = dataDir is null ? new TempDirectory("blueprint-node") : null;
        var directory = dataDir ?? owned!.Path;
        var overrides = FreeListenerPorts(catalog);
        overrides["Node:DataDir"] = directory;
        overrides["Node:Bind"] = "127.0.0.1";
        overrides["Node:HttpPort"] = "0";
        overrides["Logging:LogLevel:Default"] = "Warning";
        foreach (var (key, value) in settings ?? new Dictionary<string, string?>())
        {
            overrides[key] = value;
        }

        var node = BlueprintNode.Create(catalog, overrides, services);
        try
        {
            await node.StartAsync(cancellationToken);
        }
        catch
        {
            await node.DisposeAsync();
            owned?.Dispose();
            throw;
        }

        return new TestNode(node, directory, overrides, owned);
    }

    /// <summary>
    /// Starts a node of the default catalog with <paramref name="settings"/> that must stop it, and returns the lines its
    /// startup failure prints (one per bad setting).
    /// </summary>
    public static async Task<IReadOnlyList<string>> StartupFailureAsync(IReadOnlyDictionary<string, string?> settings, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(settings);
        using var data = new TempDirectory();
        var catalog = RequireCatalog();
        var overrides = FreeListenerPorts(catalog);
        overrides["Node:DataDir"] = data.Path;
        overrides["Node:HttpPort"] = "0";
        foreach (var (key, value) in settings)
        {
            overrides[key] = value;
        }

        await using var node = BlueprintNode.Create(catalog, overrides);
        try
        {
            await node.StartAsync(cancellationToken);
        }
        catch (Exception error) when (StartupFailure.Describe(error, node.Catalog) is { } lines)
        {
            return lines;
        }

        throw new InvalidOperationException("the node started, though its settings should have stopped it");
    }

    /// <summary>A StackExchange.Redis connection to the embedded KV, shared by the test.</summary>
    public async Task<ConnectionMultiplexer> RedisAsync()
    {
        _redis ??= await ConnectionMultiplexer.ConnectAsync(new ConfigurationOptions
        {
            EndPoints = { RespEndpoint },
            ConnectTimeout = 5_000,
            SyncTimeout = 5_000,
            AsyncTimeout = 5_000,
        });
        return _redis;
    }

    /// <summary>Stops the node gracefully and releases everything.</summary>
    public async ValueTask DisposeAsync()
    {
        if (_redis is not null)
        {
            await _redis.CloseAsync();
            _redis.Dispose();
        }

        Http.Dispose();
        using (var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30)))
        {
            await Node.StopAsync(timeout.Token);
        }

        await Node.DisposeAsync();
        _ownedDirectory?.Dispose();
    }
}
