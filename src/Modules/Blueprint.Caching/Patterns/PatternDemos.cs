using Blueprint.Cache.Patterns;
using Blueprint.Kv;
using Blueprint.Sql;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Blueprint.Caching.Patterns;

/// <summary>
/// The four patterns of the demo, each over its own keys in the kv module's engine and all over one SQL table
/// (<c>cache_demo_items</c>): writing through one pattern and reading through another shows a cache that was not
/// told. Built when the node starts (after the kv and sql modules); at stop the write-behind flushes everything it
/// acknowledged, within the node's graceful shutdown.
/// </summary>
internal sealed class PatternDemos(
    IKvConnection kv, ISqlDatabase sql, IOptions<CachePatternsOptions> options, TimeProvider time, ILogger<PatternDemos> logger)
    : IHostedService, IAsyncDisposable
{
    /// <summary>The table every pattern writes.</summary>
    public const string Table = "cache_demo_items";

    /// <summary>The pattern names, in the order of the docs.</summary>
    public static readonly IReadOnlyList<string> Names = ["cache-aside", "read-through", "write-through", "write-behind"];

    private static readonly IReadOnlyList<SqlMigration> Migrations = [new(1, "demo items", DbRecordStore.CreateTableSql(Table))];

    private Dictionary<string, ICachingPattern<string, string>>? _patterns;
    private WriteBehind<string, string>? _writeBehind;

    /// <summary>The options in force.</summary>
    public CachePatternsOptions Options { get; } = options.Value;

    /// <summary>The table, read directly (no cache in the way).</summary>
    public DbRecordStore Store { get; } = new(cancellationToken => sql.OpenAsync(cancellationToken), Table, time);

    /// <summary>The write-behind pattern, for its queue's counters.</summary>
    public WriteBehind<string, string> WriteBehind => _writeBehind ?? throw NotStarted();

    /// <summary>The pattern named <paramref name="name"/>, or null.</summary>
    public ICachingPattern<string, string>? Find(string name) =>
        (_patterns ?? throw NotStarted()).GetValueOrDefault(name);

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        await sql.MigrateAsync("cache-patterns", Migrations, cancellationToken).ConfigureAwait(false);
        var database = (await kv.GetAsync(cancellationToken).ConfigureAwait(false)).GetDatabase();
        var ttl = Options.Ttl();
        RespPatternCache CacheOf(string pattern) => new(database, $"{Options.KeyPrefix}{pattern}:");
        _writeBehind = new WriteBehind<string, string>(CacheOf("write-behind"), Store, ttl, Options.WriteBehind(), time, logger);
        ICachingPattern<string, string>[] patterns =
        [
            new CacheAside<string, string>(CacheOf("cache-aside"), Store, ttl),
            new ReadThrough<string, string>(CacheOf("read-through"), Store, ttl),
            new WriteThrough<string, string>(CacheOf("write-through"), Store, ttl),
            _writeBehind,
        ];
        Invariant(patterns.Select(pattern => pattern.Name).SequenceEqual(Names), "each pattern's cache keys carry its own name");
        _patterns = patterns.ToDictionary(pattern => pattern.Name, StringComparer.Ordinal);
    }

    /// <summary>Flushes the write-behind queue (with its retries); the node's shutdown timeout bounds the wait.</summary>
    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (_writeBehind is { } writeBehind)
        {
            await writeBehind.StopAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_writeBehind is { } writeBehind)
        {
            await writeBehind.DisposeAsync().ConfigureAwait(false);
        }

        foreach (var disposable in _patterns?.Values.OfType<IDisposable>() ?? [])
        {
            disposable.Dispose();
        }
    }

    private static void Invariant(bool holds, string rule)
    {
        if (!holds)
        {
            throw new InvalidOperationException($"invariant broken: {rule}");
        }
    }

    private static InvalidOperationException NotStarted() => new("the caching-pattern demos are used before the node started them");
}
