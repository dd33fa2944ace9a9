using Blueprint.Core.Hashing;
using Blueprint.Hosting;
using Blueprint.Sql;
using Microsoft.Extensions.Options;

namespace Blueprint.Shortener.Storage;

/// <summary>
/// Where links live: one SQL database, or several shards chosen by consistent hashing of the code
/// (<see cref="HashRing{TNode}"/>), so adding a shard moves only the codes of the ring ranges it takes over.
/// API keys and settings stay in the node's own database. Owns the shard databases it opened.
/// </summary>
internal sealed class ShardRouter : IAsyncDisposable
{
    private readonly Dictionary<string, ISqlDatabase> _shards;
    private readonly List<IOwnedSqlDatabase> _owned = [];
    private readonly HashRing<string>? _ring;

    public ShardRouter(ISqlDatabase primary, ISqlDatabaseOpener opener, IOptions<ShortenerOptions> options, DataDirectory dataDirectory)
    {
        Primary = primary;
        _shards = new Dictionary<string, ISqlDatabase>(StringComparer.Ordinal);
        var shards = options.Value.Shards;
        if (shards.Count == 0)
        {
            _shards["primary"] = primary;
            return;
        }

        foreach (var shard in shards)
        {
            var connection = shard.ConnectionString;
            if (shard.Provider == "sqlite" && string.IsNullOrWhiteSpace(connection))
            {
                connection = $"Data Source={Path.Combine(dataDirectory.For("shortener"), shard.Name + ".db")}";
            }

            var database = opener.Open(shard.Provider == "postgres" ? SqlProvider.Postgres : SqlProvider.Sqlite, connection);
            _owned.Add(database);
            _shards[shard.Name] = database;
        }

        _ring = new HashRing<string>(_shards.Keys);
    }

    /// <summary>The node's own database (API keys, settings).</summary>
    public ISqlDatabase Primary { get; }

    /// <summary>Every database holding links.</summary>
    public IEnumerable<ISqlDatabase> Shards => _shards.Values;

    /// <summary>Whether links are spread over shards (else the node's own database holds them).</summary>
    public bool IsSharded => _ring is not null;

    /// <summary>The node's database, then every shard this router opened: where a reshard looks for misplaced links.</summary>
    public IEnumerable<ISqlDatabase> Sources => _owned.Cast<ISqlDatabase>().Prepend(Primary);

    /// <summary>
    /// Every database that may hold a link: the shards and, while sharded, also the node's own
    /// (links not yet moved by <c>reshard</c> are still there).
    /// </summary>
    public IEnumerable<ISqlDatabase> Everywhere => _ring is null ? [Primary] : _shards.Values.Prepend(Primary);

    /// <summary>The database that holds <paramref name="code"/>.</summary>
    public ISqlDatabase ShardOf(string code) => _ring is null ? Primary : _shards[_ring.GetNode(code)];

    /// <summary>Applies the module's migrations to the node's database and every shard.</summary>
    public async Task MigrateAsync(CancellationToken cancellationToken)
    {
        await Primary.MigrateAsync(LinkSql.ModuleName, ShortenerSchema.Migrations, cancellationToken).ConfigureAwait(false);
        foreach (var shard in _owned)
        {
            await shard.MigrateAsync(LinkSql.ModuleName, ShortenerSchema.Migrations, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Checkpoints and closes the shards this router opened.</summary>
    public async ValueTask DisposeAsync()
    {
        foreach (var shard in _owned)
        {
            await shard.CheckpointAsync(CancellationToken.None).ConfigureAwait(false);
            await shard.DisposeAsync().ConfigureAwait(false);
        }
    }
}
