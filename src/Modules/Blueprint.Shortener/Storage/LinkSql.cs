using System.Data.Common;
using System.Globalization;
using Blueprint.Sql;

namespace Blueprint.Shortener.Storage;

/// <summary>
/// The shortener's SQL, shared by links, clicks and resharding. Plain enough to run unchanged on SQLite and
/// PostgreSQL (upserts with <c>ON CONFLICT</c>).
/// </summary>
internal static class LinkSql
{
    /// <summary>The module name under which migrations are recorded.</summary>
    public const string ModuleName = "shortener";

    /// <summary>The click tables and the column each counts by.</summary>
    public static readonly (string Table, string Column)[] ClickTables =
        [("shortener_clicks_daily", "day"), ("shortener_clicks_referrers", "referrer"), ("shortener_clicks_agents", "family")];

    public const string Columns = "code, url, id, redirect_type, created_at, expires_at";

    public static Link ReadLink(DbDataReader reader) => new(
        reader.GetString(0),
        reader.GetString(1),
        reader.IsDBNull(2) ? null : reader.GetInt64(2),
        Convert.ToInt32(reader.GetValue(3), CultureInfo.InvariantCulture),
        DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(4)),
        reader.IsDBNull(5) ? null : DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(5)));

    public static DbCommand Command(DbConnection connection, string sql, params (string Name, object? Value)[] parameters) => connection.Command(sql, parameters);

    /// <summary>Up to <paramref name="limit"/> links of <paramref name="database"/> with codes after <paramref name="after"/>, in code order.</summary>
    public static async Task<List<Link>> PageAsync(ISqlDatabase database, string after, int limit, CancellationToken cancellationToken)
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

    /// <summary>Deletes a link and its click rows from one database, in one transaction; false when it was not there.</summary>
    public static async Task<bool> DeleteFromAsync(ISqlDatabase database, string code, CancellationToken cancellationToken)
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

    /// <summary>The insert of a link that leaves an existing code alone.</summary>
    public static DbCommand InsertCommand(DbConnection connection, Link link) => Command(connection,
        "INSERT INTO shortener_links (code, url, id, redirect_type, created_at, expires_at) VALUES (@code, @url, @id, @type, @created, @expires) ON CONFLICT (code) DO NOTHING",
        ("@code", link.Code), ("@url", link.Url), ("@id", link.Id), ("@type", link.RedirectType),
        ("@created", link.CreatedAt.ToUnixTimeMilliseconds()), ("@expires", link.ExpiresAt?.ToUnixTimeMilliseconds()));

    /// <summary>One number from <paramref name="sql"/> on <paramref name="database"/>.</summary>
    public static async Task<long> ScalarAsync(ISqlDatabase database, string sql, CancellationToken cancellationToken)
    {
        var connection = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            await using var command = Command(connection, sql);
            return Convert.ToInt64(await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false), CultureInfo.InvariantCulture);
        }
    }
}
