using System.Data.Common;
using System.Globalization;
using Blueprint.Core.Hashing;
using Blueprint.Hosting;
using Blueprint.Sql;
using Microsoft.Extensions.Options;

namespace Blueprint.Shortener.Storage;

/// <summary>
/// The links' source of truth: one SQL database, or several shards chosen by consistent hashing of
/// the code (<see cref="HashRing{TNode}"/>), so adding a shard moves only the codes of the ring
/// ranges it takes over. API keys and settings stay in the node's own database. The SQL is plain
/// enough to run unchanged on SQLite and PostgreSQL (upserts with <c>ON CONFLICT</c>).
/// </summary>
internal sealed class LinkStore : IAsyncDisposable
{
    /// <summary>The module name under which migrations are recorded.</summary>
    public const string ModuleName = "shortener";

    private readonly ISqlDatabase _primary;
    private readonly Dictionary<string, ISqlDatabase> _shards;
    private readonly List<IOwnedSqlDatabase> _owned = [];
    private readonly HashRing<string>? _ring;

    public LinkStore(ISqlDatabase primary, ISqlDatabaseOpener opener, IOptions<ShortenerOptions> options, DataDirectory dataDirectory)
    {
        _primary = primary;
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
    public ISqlDatabase Primary => _primary;

    /// <summary>Every database holding links.</summary>
    public IEnumerable<ISqlDatabase> Shards => _shards.Values;

    /// <summary>
    /// Every database that may hold a link: the shards and, while sharded, also the node's own
    /// (links not yet moved by <c>reshard</c> are still there).
    /// </summary>
    private IEnumerable<ISqlDatabase> Everywhere => _ring is null ? [_primary] : _shards.Values.Prepend(_primary);

    /// <summary>The database that holds <paramref name="code"/>.</summary>
    public ISqlDatabase ShardOf(string code) => _ring is null ? _primary : _shards[_ring.GetNode(code)];

    /// <summary>Applies the module's migrations to the node's database and every shard.</summary>
    public async Task MigrateAsync(CancellationToken cancellationToken)
    {
        await _primary.MigrateAsync(ModuleName, ShortenerSchema.Migrations, cancellationToken).ConfigureAwait(false);
        foreach (var shard in _owned)
        {
            await shard.MigrateAsync(ModuleName, ShortenerSchema.Migrations, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Inserts <paramref name="link"/>; false when its code is taken.</summary>
    public async Task<bool> TryInsertAsync(Link link, CancellationToken cancellationToken)
    {
        var connection = await ShardOf(link.Code).OpenAsync(cancellationToken).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            await using var command = InsertCommand(connection, link);
            return await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false) == 1;
        }
    }

    /// <summary>The link with <paramref name="code"/>, or null.</summary>
    public async Task<Link?> FindAsync(string code, CancellationToken cancellationToken)
    {
        var owner = ShardOf(code);
        var link = await FindInAsync(owner, code, cancellationToken).ConfigureAwait(false);
        // Mid-reshard a link may not be in its owner yet (the Bloom filter keeps most misses from getting here).
        foreach (var other in Everywhere)
        {
            if (link is not null)
            {
                break;
            }

            if (!ReferenceEquals(other, owner))
            {
                link = await FindInAsync(other, code, cancellationToken).ConfigureAwait(false);
            }
        }

        return link;
    }

    private static async Task<Link?> FindInAsync(ISqlDatabase database, string code, CancellationToken cancellationToken)
    {
        var connection = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            await using var command = Command(connection, $"SELECT {Columns} FROM shortener_links WHERE code = @code", ("@code", code));
            await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            return await reader.ReadAsync(cancellationToken).ConfigureAwait(false) ? ReadLink(reader) : null;
        }
    }

    /// <summary>Deletes the link and its click counts; false when there was none.</summary>
    public async Task<bool> DeleteAsync(string code, CancellationToken cancellationToken)
    {
        // Everywhere, so a copy left by a reshard in progress cannot come back.
        var deleted = false;
        foreach (var database in Everywhere)
        {
            deleted |= await DeleteFromAsync(database, code, cancellationToken).ConfigureAwait(false);
        }

        return deleted;
    }

    private static async Task<bool> DeleteFromAsync(ISqlDatabase database, string code, CancellationToken cancellationToken)
    {
        var connection = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
            await using (transaction.ConfigureAwait(false))
            {
                int deleted;
                await using (var command = Command(connection, "DELETE FROM shortener_links WHERE code = @code", ("@code", code)))
                {
                    command.Transaction = transaction;
                    deleted = await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
                }

                foreach (var (table, _) in ClickTables)
                {
                    await using var command = Command(connection, $"DELETE FROM {table} WHERE code = @code", ("@code", code));
                    command.Transaction = transaction;
                    await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
                }

                await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
                return deleted == 1;
            }
        }
    }

    /// <summary>
    /// Up to <paramref name="limit"/> links with codes after <paramref name="after"/>, in ordinal
    /// code order (keyset pagination: no offset, stable under inserts). Across shards, each is asked
    /// for a page and the pages are merged.
    /// </summary>
    public async Task<IReadOnlyList<Link>> ListAsync(string? after, int limit, CancellationToken cancellationToken)
    {
        var merged = new List<Link>();
        foreach (var shard in _shards.Values)
        {
            merged.AddRange(await PageAsync(shard, after ?? "", limit, cancellationToken).ConfigureAwait(false));
        }

        merged.Sort((left, right) => string.CompareOrdinal(left.Code, right.Code));
        return merged.Count > limit ? merged.GetRange(0, limit) : merged;
    }

    /// <summary>
    /// Moves every link (with its click rows) that is not in the shard the ring assigns it to, from
    /// the node's database or any shard: copied first (<c>ON CONFLICT DO NOTHING</c>, so a rerun is
    /// harmless), and deleted from where it was only when <paramref name="prune"/> is set. Run with
    /// the new shard list; see docs/shortener.md for the procedure.
    /// </summary>
    public async Task<(long Copied, long Pruned)> ReshardAsync(bool prune, CancellationToken cancellationToken)
    {
        if (_ring is null)
        {
            return (0, 0);
        }

        long copied = 0;
        long pruned = 0;
        foreach (var source in _owned.Cast<ISqlDatabase>().Prepend(_primary))
        {
            var after = "";
            while (true)
            {
                var page = await PageAsync(source, after, 1000, cancellationToken).ConfigureAwait(false);
                if (page.Count == 0)
                {
                    break;
                }

                after = page[^1].Code;
                foreach (var link in page)
                {
                    var owner = ShardOf(link.Code);
                    // The same database listed twice (a shard that is the node's own): nothing to move, and never prune.
                    if (ReferenceEquals(owner, source) || owner.Location == source.Location)
                    {
                        continue;
                    }

                    if (await CopyAsync(source, owner, link, cancellationToken).ConfigureAwait(false))
                    {
                        copied++;
                    }

                    if (prune && await DeleteFromAsync(source, link.Code, cancellationToken).ConfigureAwait(false))
                    {
                        pruned++;
                    }
                }
            }
        }

        return (copied, pruned);
    }

    /// <summary>Every code, shard by shard, streamed (for the Bloom filter).</summary>
    public async IAsyncEnumerable<string> AllCodesAsync([System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        foreach (var shard in Everywhere)
        {
            var connection = await shard.OpenAsync(cancellationToken).ConfigureAwait(false);
            await using (connection.ConfigureAwait(false))
            {
                await using var command = Command(connection, "SELECT code FROM shortener_links");
                await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
                while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                {
                    yield return reader.GetString(0);
                }
            }
        }
    }

    /// <summary>How many links there are, over every shard.</summary>
    public async Task<long> CountAsync(CancellationToken cancellationToken)
    {
        long count = 0;
        foreach (var shard in Everywhere)
        {
            count += await ScalarAsync(shard, "SELECT COUNT(*) FROM shortener_links", cancellationToken).ConfigureAwait(false);
        }

        return count;
    }

    /// <summary>The highest generated ID stored anywhere, or -1.</summary>
    public async Task<long> MaxIdAsync(CancellationToken cancellationToken)
    {
        long max = -1;
        foreach (var shard in Everywhere)
        {
            max = Math.Max(max, await ScalarAsync(shard, "SELECT COALESCE(MAX(id), -1) FROM shortener_links", cancellationToken).ConfigureAwait(false));
        }

        return max;
    }

    /// <summary>Adds a batch of aggregated clicks, one transaction per shard; clicks of codes deleted meanwhile are left out.</summary>
    public async Task AddClicksAsync(ClickAggregate clicks, CancellationToken cancellationToken)
    {
        foreach (var group in clicks.Daily.Keys.Select(key => key.Code).Distinct(StringComparer.Ordinal).GroupBy(ShardOf))
        {
            var codes = group.ToHashSet(StringComparer.Ordinal);
            var connection = await group.Key.OpenAsync(cancellationToken).ConfigureAwait(false);
            await using (connection.ConfigureAwait(false))
            {
                var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
                await using (transaction.ConfigureAwait(false))
                {
                    // In key order, so two nodes writing the same rows lock them in the same order (no deadlock on PostgreSQL).
                    foreach (var ((code, day), count) in clicks.Daily.Where(pair => codes.Contains(pair.Key.Code)).OrderBy(pair => pair.Key.Code, StringComparer.Ordinal).ThenBy(pair => pair.Key.Day))
                    {
                        await UpsertAsync(connection, transaction, "shortener_clicks_daily", "day", code, day, count, cancellationToken).ConfigureAwait(false);
                    }

                    foreach (var ((code, referrer), count) in clicks.Referrers.Where(pair => codes.Contains(pair.Key.Code)).OrderBy(pair => pair.Key.Code, StringComparer.Ordinal).ThenBy(pair => pair.Key.Referrer, StringComparer.Ordinal))
                    {
                        await UpsertAsync(connection, transaction, "shortener_clicks_referrers", "referrer", code, referrer, count, cancellationToken).ConfigureAwait(false);
                    }

                    foreach (var ((code, family), count) in clicks.Agents.Where(pair => codes.Contains(pair.Key.Code)).OrderBy(pair => pair.Key.Code, StringComparer.Ordinal).ThenBy(pair => pair.Key.Family, StringComparer.Ordinal))
                    {
                        await UpsertAsync(connection, transaction, "shortener_clicks_agents", "family", code, family, count, cancellationToken).ConfigureAwait(false);
                    }

                    await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
                }
            }
        }
    }

    /// <summary>The click statistics of <paramref name="code"/>: the last <paramref name="days"/> days, the top <paramref name="referrers"/> referrers.</summary>
    public async Task<LinkStats> StatsAsync(string code, int days, int referrers, CancellationToken cancellationToken)
    {
        var connection = await ShardOf(code).OpenAsync(cancellationToken).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            long total;
            await using (var command = Command(connection, "SELECT COALESCE(SUM(clicks), 0) FROM shortener_clicks_daily WHERE code = @code", ("@code", code)))
            {
                total = Convert.ToInt64(await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false), CultureInfo.InvariantCulture);
            }

            var perDay = new List<(DateOnly, long)>();
            await using (var command = Command(connection, "SELECT day, clicks FROM shortener_clicks_daily WHERE code = @code ORDER BY day DESC LIMIT @days", ("@code", code), ("@days", days)))
            await using (var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false))
            {
                while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                {
                    perDay.Add((DateOnly.FromDayNumber(DateOnly.FromDateTime(DateTime.UnixEpoch).DayNumber + Convert.ToInt32(reader.GetValue(0), CultureInfo.InvariantCulture)), reader.GetInt64(1)));
                }
            }

            perDay.Reverse();
            var top = await PairsAsync(connection, "SELECT referrer, clicks FROM shortener_clicks_referrers WHERE code = @code ORDER BY clicks DESC, referrer LIMIT @limit", code, referrers, cancellationToken).ConfigureAwait(false);
            var agents = await PairsAsync(connection, "SELECT family, clicks FROM shortener_clicks_agents WHERE code = @code ORDER BY clicks DESC, family LIMIT @limit", code, 100, cancellationToken).ConfigureAwait(false);
            return new LinkStats(total, perDay, top, agents);
        }
    }

    /// <summary>Reads a setting from the node's database, first inserting <paramref name="proposed"/> if there is none (the first node to start wins).</summary>
    public async Task<string> GetOrAddSettingAsync(string name, string proposed, CancellationToken cancellationToken)
    {
        var connection = await _primary.OpenAsync(cancellationToken).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            await using (var insert = Command(connection, "INSERT INTO shortener_settings (name, value) VALUES (@name, @value) ON CONFLICT (name) DO NOTHING", ("@name", name), ("@value", proposed)))
            {
                await insert.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            }

            await using var select = Command(connection, "SELECT value FROM shortener_settings WHERE name = @name", ("@name", name));
            return (string)(await select.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false))!;
        }
    }

    internal const string Columns = "code, url, id, redirect_type, created_at, expires_at";

    internal static Link ReadLink(DbDataReader reader) => new(
        reader.GetString(0),
        reader.GetString(1),
        reader.IsDBNull(2) ? null : reader.GetInt64(2),
        Convert.ToInt32(reader.GetValue(3), CultureInfo.InvariantCulture),
        DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(4)),
        reader.IsDBNull(5) ? null : DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(5)));

    internal static DbCommand Command(DbConnection connection, string sql, params (string Name, object? Value)[] parameters)
    {
        var command = connection.CreateCommand();
        command.CommandText = sql;
        foreach (var (name, value) in parameters)
        {
            var parameter = command.CreateParameter();
            parameter.ParameterName = name;
            parameter.Value = value ?? DBNull.Value;
            command.Parameters.Add(parameter);
        }

        return command;
    }

    private static async Task<List<Link>> PageAsync(ISqlDatabase database, string after, int limit, CancellationToken cancellationToken)
    {
        var page = new List<Link>();
        var connection = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            await using var command = Command(connection,
                $"SELECT {Columns} FROM shortener_links WHERE code > @after ORDER BY code LIMIT @limit", ("@after", after), ("@limit", limit));
            await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                page.Add(ReadLink(reader));
            }
        }

        return page;
    }

    /// <summary>Copies a link and its click rows into <paramref name="target"/>, in one transaction; false when the target already had it.</summary>
    private static async Task<bool> CopyAsync(ISqlDatabase source, ISqlDatabase target, Link link, CancellationToken cancellationToken)
    {
        var rows = new List<(string Table, string Column, object Key, long Clicks)>();
        var from = await source.OpenAsync(cancellationToken).ConfigureAwait(false);
        await using (from.ConfigureAwait(false))
        {
            foreach (var (table, column) in ClickTables)
            {
                await using var command = Command(from, $"SELECT {column}, clicks FROM {table} WHERE code = @code", ("@code", link.Code));
                await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
                while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                {
                    rows.Add((table, column, reader.GetValue(0), reader.GetInt64(1)));
                }
            }
        }

        var to = await target.OpenAsync(cancellationToken).ConfigureAwait(false);
        await using (to.ConfigureAwait(false))
        {
            var transaction = await to.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
            await using (transaction.ConfigureAwait(false))
            {
                int inserted;
                await using (var insert = InsertCommand(to, link))
                {
                    insert.Transaction = transaction;
                    inserted = await insert.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
                }

                foreach (var (table, column, key, clicks) in rows)
                {
                    await using var command = Command(to,
                        $"INSERT INTO {table} (code, {column}, clicks) VALUES (@code, @key, @clicks) ON CONFLICT (code, {column}) DO NOTHING",
                        ("@code", link.Code), ("@key", key), ("@clicks", clicks));
                    command.Transaction = transaction;
                    await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
                }

                await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
                return inserted == 1;
            }
        }
    }

    private static DbCommand InsertCommand(DbConnection connection, Link link) => Command(connection,
        "INSERT INTO shortener_links (code, url, id, redirect_type, created_at, expires_at) VALUES (@code, @url, @id, @type, @created, @expires) ON CONFLICT (code) DO NOTHING",
        ("@code", link.Code), ("@url", link.Url), ("@id", link.Id), ("@type", link.RedirectType),
        ("@created", link.CreatedAt.ToUnixTimeMilliseconds()), ("@expires", link.ExpiresAt?.ToUnixTimeMilliseconds()));

    private static readonly (string Table, string Column)[] ClickTables =
        [("shortener_clicks_daily", "day"), ("shortener_clicks_referrers", "referrer"), ("shortener_clicks_agents", "family")];

    private static async Task<long> ScalarAsync(ISqlDatabase database, string sql, CancellationToken cancellationToken)
    {
        var connection = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            await using var command = Command(connection, sql);
            return Convert.ToInt64(await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false), CultureInfo.InvariantCulture);
        }
    }

    private static async Task UpsertAsync(DbConnection connection, DbTransaction transaction, string table, string column, string code, object key, long count, CancellationToken cancellationToken)
    {
        // The WHERE EXISTS drops clicks of a link deleted after they were buffered.
        await using var command = Command(connection,
            $"INSERT INTO {table} (code, {column}, clicks) SELECT @code, @key, @count WHERE EXISTS (SELECT 1 FROM shortener_links WHERE code = @code) " +
            $"ON CONFLICT (code, {column}) DO UPDATE SET clicks = {table}.clicks + excluded.clicks",
            ("@code", code), ("@key", key), ("@count", count));
        command.Transaction = transaction;
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    private static async Task<IReadOnlyList<(string, long)>> PairsAsync(DbConnection connection, string sql, string code, int limit, CancellationToken cancellationToken)
    {
        var pairs = new List<(string, long)>();
        await using var command = Command(connection, sql, ("@code", code), ("@limit", limit));
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            pairs.Add((reader.GetString(0), reader.GetInt64(1)));
        }

        return pairs;
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var shard in _owned)
        {
            await shard.CheckpointAsync(CancellationToken.None).ConfigureAwait(false);
            await shard.DisposeAsync().ConfigureAwait(false);
        }
    }
}
