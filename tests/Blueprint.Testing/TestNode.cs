using Blueprint.Node;
using StackExchange.Redis;

namespace Blueprint.Testing;

/// <summary>
/// A real node started in-process on free loopback ports with its own data directory, for
/// integration tests. Dispose stops it gracefully; the data directory is deleted unless the test
/// passed one in (to restart a node on the same data).
/// </summary>
public sealed class TestNode : IAsyncDisposable
{
    private readonly TempDirectory? _ownedDirectory;
    private ConnectionMultiplexer? _redis;

    private TestNode(BlueprintNode node, string dataDir, int respPort, TempDirectory? ownedDirectory)
    {
        Node = node;
        DataDir = dataDir;
        RespPort = respPort;
        _ownedDirectory = ownedDirectory;
        Http = new HttpClient { BaseAddress = node.HttpAddress, Timeout = TimeSpan.FromSeconds(30) };
    }

    /// <summary>The node.</summary>
    public BlueprintNode Node { get; }

    /// <summary>The node's data directory.</summary>
    public string DataDir { get; }

    /// <summary>The RESP port of the embedded KV.</summary>
    public int RespPort { get; }

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
    public static async Task<TestNode> StartAsync(
        string? dataDir,
        IReadOnlyDictionary<string, string?>? settings,
        Action<Microsoft.Extensions.DependencyInjection.IServiceCollection>? services,
        CancellationToken cancellationToken = default)
    {
        var owned = dataDir is null ? new TempDirectory("blueprint-node") : null;
        var directory = dataDir ?? owned!.Path;
        var respPort = FreePorts.Next();
        var overrides = new Dictionary<string, string?>
        {
            ["Node:DataDir"] = directory,
            ["Node:Bind"] = "127.0.0.1",
            ["Node:HttpPort"] = "0",
            ["Kv:Port"] = respPort.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Logging:LogLevel:Default"] = "Warning",
            ["RateLimit:GrpcPort"] = FreePorts.Next().ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Coordination:EtcdPort"] = FreePorts.Next().ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Coordination:RaftPort"] = FreePorts.Next().ToString(System.Globalization.CultureInfo.InvariantCulture),
        };
        foreach (var (key, value) in settings ?? new Dictionary<string, string?>())
        {
            overrides[key] = value;
        }

        var node = BlueprintNode.Create(overrides, services);
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

        return new TestNode(node, directory, respPort, owned);
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
