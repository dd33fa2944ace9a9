using StackExchange.Redis;

namespace Blueprint.Kv;

/// <summary>
/// The one way modules reach the key-value engine: a StackExchange.Redis connection to the
/// embedded server, or to an external Redis when <c>Kv:ConnectionString</c> is set. Module code
/// does not know which.
/// </summary>
public interface IKvConnection
{
    /// <summary>Where the engine is, as <c>host:port</c>.</summary>
    string Endpoint { get; }

    /// <summary>Whether the engine is the embedded server.</summary>
    bool IsEmbedded { get; }

    /// <summary>The shared multiplexer, connected on first use.</summary>
    ValueTask<IConnectionMultiplexer> GetAsync(CancellationToken cancellationToken = default);
}
