using System.Reflection;
using Blueprint.Core.RateLimiting;
using Blueprint.Core.RateLimiting.Stores;
using Blueprint.Kv;
using StackExchange.Redis;

namespace Blueprint.RateLimit.Store;

/// <summary>
/// Decides on the KV engine (embedded Garnet or an external Redis): one Lua script per algorithm, each an atomic
/// port of its pure core in <c>Blueprint.Core.RateLimiting</c> with time in microseconds, run by EVALSHA in one
/// round trip. The scripts are loaded once with SCRIPT LOAD and reloaded when the server has forgotten them
/// (NOSCRIPT after a restart or SCRIPT FLUSH). Every key expires once its limit would be fully available again.
/// </summary>
public sealed class KvRateLimitStore : IRateLimitStore
{
    /// <summary>The key prefix used when none is given.</summary>
    public const string DefaultKeyPrefix = "rl:";

    /// <summary>How long a key outlives the moment its limit would be back to its initial state, in milliseconds.</summary>
    internal const long DefaultTtlMarginMilliseconds = 1_000;

    private static readonly string[] ScriptTexts = LoadScriptTexts();

    /// <summary>The Lua text the store loads for <paramref name="algorithm"/>: the shared prelude and the algorithm's script.</summary>
    public static string ScriptText(RateLimitAlgorithm algorithm) => ScriptTexts[(int)algorithm];

    private static readonly RedisValue ServerClock = RedisValue.EmptyString;

    private readonly IKvConnection _connection;
    private readonly RedisKey _prefix;
    private readonly RedisValue _ttlMarginMilliseconds;

    // One SHA-1 per algorithm, filled by SCRIPT LOAD on first use and replaced after a NOSCRIPT.
    private readonly byte[]?[] _hashes = new byte[ScriptTexts.Length][];

    /// <summary>Creates a store on <paramref name="connection"/>.</summary>
    /// <param name="connection">The KV connection.</param>
    /// <param name="keyPrefix">Prepended to every key, so limits share the keyspace with other modules safely.</param>
    public KvRateLimitStore(IKvConnection connection, string keyPrefix = DefaultKeyPrefix)
        : this(connection, keyPrefix, DefaultTtlMarginMilliseconds)
    {
    }

    /// <summary>Creates a store with an explicit TTL margin (tests).</summary>
    internal KvRateLimitStore(IKvConnection connection, string keyPrefix, long ttlMarginMilliseconds)
    {
        ArgumentNullException.ThrowIfNull(connection);
        ArgumentNullException.ThrowIfNull(keyPrefix);
        ArgumentOutOfRangeException.ThrowIfLessThan(ttlMarginMilliseconds, 1);
        _connection = connection;
        _prefix = keyPrefix;
        _ttlMarginMilliseconds = ttlMarginMilliseconds;
    }

    /// <inheritdoc/>
    public ValueTask<RateLimitOutcome> DecideAsync(string key, LimitSpec limit, int hits, CancellationToken cancellationToken = default) =>
        DecideAsync(key, limit, hits, nowMicroseconds: null, cancellationToken);

    /// <summary>Decides at an explicit time instead of the server clock, so tests are deterministic.</summary>
    /// <param name="key">The counter's key, without the prefix.</param>
    /// <param name="limit">The limit.</param>
    /// <param name="hits">Requests this decision covers.</param>
    /// <param name="nowMicroseconds">The time in microseconds, or null for the server's TIME.</param>
    /// <param name="cancellationToken">Cancels the wait (the command itself may still run).</param>
    /// <returns>The outcome.</returns>
    internal async ValueTask<RateLimitOutcome> DecideAsync(string key, LimitSpec limit, int hits, long? nowMicroseconds, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(limit);
        ArgumentOutOfRangeException.ThrowIfNegative(hits);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(hits, limit.HitsMax);
        cancellationToken.ThrowIfCancellationRequested();

        var (permits, ticks) = Parameters(limit);
        int script = (int)limit.Algorithm;
        RedisKey[] keys = [_prefix.Append(key)];
        RedisValue[] arguments =
        [
            nowMicroseconds is { } now ? now : ServerClock,
            hits,
            permits,
            ticks,
            _ttlMarginMilliseconds,
        ];

        var multiplexer = await _connection.GetAsync(cancellationToken).ConfigureAwait(false);
        var database = multiplexer.GetDatabase();
        var hash = _hashes[script] ?? await LoadAsync(database, script).ConfigureAwait(false);
        RedisResult reply;
        try
        {
            reply = await database.ScriptEvaluateAsync(hash, keys, arguments).WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (RedisServerException e) when (e.Message.StartsWith("NOSCRIPT", StringComparison.Ordinal))
        {
            // The server lost its script cache (restart, failover, SCRIPT FLUSH): load again and retry once.
            hash = await LoadAsync(database, script).ConfigureAwait(false);
            reply = await database.ScriptEvaluateAsync(hash, keys, arguments).WaitAsync(cancellationToken).ConfigureAwait(false);
        }

        return ToOutcome(reply);
    }

    /// <summary>The two parameters of <paramref name="limit"/>'s script, in permits and microseconds, checked so the Lua arithmetic stays exact.</summary>
    internal static (long Permits, long Microseconds) Parameters(LimitSpec limit)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(limit.RequestsPerUnit, 1, nameof(limit));
        long unit = limit.UnitMicroseconds;
        ArgumentOutOfRangeException.ThrowIfLessThan(unit, 1, nameof(limit));
        (long permits, long microseconds) = limit.Algorithm switch
        {
            RateLimitAlgorithm.TokenBucket or RateLimitAlgorithm.Gcra or RateLimitAlgorithm.LeakyBucket =>
                (limit.EffectiveBurstPermits, limit.MicrosecondsPerPermit),
            RateLimitAlgorithm.SlidingWindowCounter or RateLimitAlgorithm.FixedWindow => (limit.RequestsPerUnit, unit),
            RateLimitAlgorithm.SlidingLog when limit.RequestsPerUnit <= SlidingLog.LimitPermitsMax => (limit.RequestsPerUnit, unit),
            RateLimitAlgorithm.SlidingLog => throw new ArgumentOutOfRangeException(
                nameof(limit), limit.RequestsPerUnit, $"A sliding log keeps one timestamp per permit, so at most {SlidingLog.LimitPermitsMax} requests per unit; use a sliding window counter."),
            _ => throw new ArgumentOutOfRangeException(nameof(limit), limit.Algorithm, "Unknown algorithm."),
        };

        // Every product of permits and microseconds (and each window) must be exact in a double (Redis Lua 5.1).
        const long exactMax = 1L << 53;
        if (permits > exactMax / microseconds)
        {
            throw new ArgumentOutOfRangeException(nameof(limit), $"{permits} permits × {microseconds} µs exceeds 2^53, which a Redis Lua script cannot compute exactly.");
        }

        return (permits, microseconds);
    }

    private static RateLimitOutcome ToOutcome(RedisResult reply) => new(
        (long)reply[0] == 1,
        (long)reply[1],
        TimeSpan.FromTicks((long)reply[2] * TimeSpan.TicksPerMicrosecond),
        TimeSpan.FromTicks((long)reply[3] * TimeSpan.TicksPerMicrosecond));

    private async Task<byte[]> LoadAsync(IDatabaseAsync database, int script)
    {
        var reply = await database.ExecuteAsync("SCRIPT", "LOAD", ScriptTexts[script]).ConfigureAwait(false);
        var hash = Convert.FromHexString((string)reply!);
        _hashes[script] = hash;
        return hash;
    }

    private static string[] LoadScriptTexts()
    {
        // Indexed by RateLimitAlgorithm.
        string[] names = ["token_bucket", "gcra", "sliding_window_counter", "sliding_log", "fixed_window", "leaky_bucket"];
        var assembly = typeof(KvRateLimitStore).Assembly;
        var prelude = ReadResource(assembly, "Blueprint.RateLimit.Scripts._prelude.lua");
        var texts = new string[names.Length];
        for (int i = 0; i < names.Length; i++)
        {
            // A Redis script cannot include another: the shared argument handling is prepended.
            texts[i] = prelude + "\n" + ReadResource(assembly, $"Blueprint.RateLimit.Scripts.{names[i]}.lua");
        }

        return texts;
    }

    private static string ReadResource(Assembly assembly, string name)
    {
        using var stream = assembly.GetManifestResourceStream(name)
            ?? throw new InvalidOperationException($"The embedded script {name} is missing.");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }
}
