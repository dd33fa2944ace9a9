using System.Data.Common;
using System.Globalization;
using Blueprint.Shortener.Storage;
using static Blueprint.Shortener.Storage.LinkSql;

namespace Blueprint.Shortener.Clicks;

/// <summary>Click counts, kept beside each link in its shard: aggregated batches in, statistics out.</summary>
internal sealed class ClickStore(ShardRouter router)
{
    /// <summary>Adds a batch of aggregated clicks, one transaction per shard; clicks of codes deleted meanwhile are left out.</summary>
    public async Task AddClicksAsync(ClickAggregate clicks, CancellationToken cancellationToken)
    {
        foreach (var group in clicks.Daily.Keys.Select(key => key.Code).Distinct(StringComparer.Ordinal).GroupBy(router.ShardOf))
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
        var connection = await router.ShardOf(code).OpenAsync(cancellationToken).ConfigureAwait(false);
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
}
