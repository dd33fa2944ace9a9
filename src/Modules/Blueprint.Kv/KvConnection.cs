using Blueprint.Hosting;
using Microsoft.Extensions.Options;
using OpenTelemetry.Instrumentation.StackExchangeRedis;
using StackExchange.Redis;

namespace Blueprint.Kv;

/// <summary>The shared multiplexer behind <see cref="IKvConnection"/>; connects once, lazily, with bounded timeouts.</summary>
internal sealed class KvConnection(IOptions<KvOptions> kvOptions, IOptions<NodeOptions> nodeOptions) : IKvConnection, IAsyncDisposable
{
    private readonly SemaphoreSlim _connectLock = new(1, 1);
    private ConnectionMultiplexer? _multiplexer;
    private StackExchangeRedisInstrumentation? _instrumentation;

    public string Endpoint => kvOptions.Value.IsExternal
        ? kvOptions.Value.ConnectionString!.Split(',')[0]
        : $"{nodeOptions.Value.ClientHost}:{kvOptions.Value.Port}";

    public bool IsEmbedded => !kvOptions.Value.IsExternal;

    public async ValueTask<IConnectionMultiplexer> GetAsync(CancellationToken cancellationToken = default)
    {
        if (_multiplexer is { } ready)
        {
            return ready;
        }

        await _connectLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (_multiplexer is null)
            {
                var multiplexer = await ConnectionMultiplexer.ConnectAsync(CreateConfiguration()).ConfigureAwait(false);
                _instrumentation?.AddConnection(multiplexer);
                _multiplexer = multiplexer;
            }

            return _multiplexer;
        }
        finally
        {
            _connectLock.Release();
        }
    }

    /// <summary>Traces this connection's commands once it exists.</summary>
    internal void Instrument(StackExchangeRedisInstrumentation instrumentation)
    {
        _instrumentation = instrumentation;
        if (_multiplexer is { } multiplexer)
        {
            instrumentation.AddConnection(multiplexer);
        }
    }

    private ConfigurationOptions CreateConfiguration()
    {
        var options = kvOptions.Value;
        var configuration = options.IsExternal
            ? ConfigurationOptions.Parse(options.ConnectionString!)
            : new ConfigurationOptions { EndPoints = { Endpoint }, AllowAdmin = true };
        if (!options.IsExternal && options.Cluster && Cluster.ClusterEndpoint.TryParseList(options.ClusterMembers ?? "", out var members, out _))
        {
            // Any member can tell the client the slot map; listing them all survives this node's primary being down.
            foreach (var member in members.Where(member => member.ToString() != Endpoint))
            {
                configuration.EndPoints.Add(member.Host, member.Port);
            }
        }

        configuration.ConnectTimeout = options.TimeoutMs;
        configuration.SyncTimeout = options.TimeoutMs;
        configuration.AsyncTimeout = options.TimeoutMs;
        // A restart of the engine must not leave the node permanently disconnected.
        configuration.AbortOnConnectFail = false;
        configuration.ClientName = ServiceDefaults.ServiceName;
        return configuration;
    }

    /// <summary>A wildcard bind is reached through loopback.</summary>
    public async ValueTask DisposeAsync()
    {
        if (_multiplexer is { } multiplexer)
        {
            await multiplexer.CloseAsync().ConfigureAwait(false);
            multiplexer.Dispose();
        }

        _connectLock.Dispose();
    }
}
