using StackExchange.Redis;

namespace Blueprint.Cache.Patterns;

/// <summary>
/// <see cref="IPatternCache{TKey, TValue}"/> over a RESP engine (the embedded Garnet or a Redis) through
/// StackExchange.Redis: strings under <c>prefix + key</c>, each with its TTL (<c>SET key value PX ttl [NX]</c>,
/// <c>GET</c>, <c>DEL</c>). The client's own timeouts bound each call; cancellation is checked before it is sent.
/// </summary>
/// <param name="database">The engine's database.</param>
/// <param name="keyPrefix">Put before every key, so that patterns sharing one engine keep apart.</param>
public sealed class RespPatternCache(IDatabase database, string keyPrefix) : IPatternCache<string, string>
{
    private readonly IDatabase _database = database ?? throw new ArgumentNullException(nameof(database));
    private readonly string _keyPrefix = keyPrefix ?? throw new ArgumentNullException(nameof(keyPrefix));

    /// <summary>The engine key of <paramref name="key"/>.</summary>
    public RedisKey KeyOf(string key) => _keyPrefix + key;

    /// <inheritdoc />
    public async ValueTask<string?> GetAsync(string key, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        return await _database.StringGetAsync(KeyOf(key)).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async ValueTask SetAsync(string key, string value, TimeSpan ttl, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        await _database.StringSetAsync(KeyOf(key), value, ttl).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async ValueTask<bool> AddAsync(string key, string value, TimeSpan ttl, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        return await _database.StringSetAsync(KeyOf(key), value, ttl, When.NotExists).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async ValueTask RemoveAsync(string key, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        await _database.KeyDeleteAsync(KeyOf(key)).ConfigureAwait(false);
    }
}
