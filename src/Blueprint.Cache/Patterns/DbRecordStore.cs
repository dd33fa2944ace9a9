using System.Data;
using System.Data.Common;
using System.Text.RegularExpressions;

namespace Blueprint.Cache.Patterns;

/// <summary>A record as the database holds it.</summary>
/// <param name="Key">The key.</param>
/// <param name="Value">The value.</param>
/// <param name="Version">1 when first written, one more at each write.</param>
/// <param name="UpdatedAt">When it was last written.</param>
public sealed record StoredRecord(string Key, string Value, long Version, DateTimeOffset UpdatedAt);

/// <summary>
/// <see cref="IRecordStore{TKey, TValue}"/> over one SQL table of string keys and values, through ADO.NET: the same
/// statements run on SQLite and PostgreSQL (<c>INSERT … ON CONFLICT … DO UPDATE</c>, named parameters). Each record
/// carries a version, one more at each write, and the time of its last write, so a reader of the table can tell which
/// write it holds. A batch is one transaction.
/// </summary>
public sealed partial class DbRecordStore : IRecordStore<string, string>
{
    private readonly Func<CancellationToken, ValueTask<DbConnection>> _open;
    private readonly TimeProvider _time;
    private readonly string _select;
    private readonly string _upsert;
    private readonly string _delete;

    /// <summary>Creates the store.</summary>
    /// <param name="open">Opens a connection (the store disposes it).</param>
    /// <param name="table">The table, made by <see cref="CreateTableSql"/>.</param>
    /// <param name="time">The clock of <c>updated_at</c>.</param>
    public DbRecordStore(Func<CancellationToken, ValueTask<DbConnection>> open, string table, TimeProvider time)
    {
        _open = open ?? throw new ArgumentNullException(nameof(open));
        _time = time ?? throw new ArgumentNullException(nameof(time));
        CheckTable(table);
        _select = $"SELECT item_value, version, updated_at FROM {table} WHERE item_key = @key";
        _upsert = $"""
            INSERT INTO {table} (item_key, item_value, version, updated_at) VALUES (@key, @value, 1, @now)
            ON CONFLICT (item_key) DO UPDATE SET item_value = excluded.item_value, version = {table}.version + 1, updated_at = excluded.updated_at
            """;
        _delete = $"DELETE FROM {table} WHERE item_key = @key";
    }

    /// <summary>The statement that creates the table (the same on SQLite and PostgreSQL); times are Unix milliseconds.</summary>
    public static string CreateTableSql(string table)
    {
        CheckTable(table);
        return $"CREATE TABLE {table} (item_key TEXT NOT NULL PRIMARY KEY, item_value TEXT NOT NULL, version BIGINT NOT NULL, updated_at BIGINT NOT NULL)";
    }

    /// <inheritdoc />
    public async ValueTask<string?> LoadAsync(string key, CancellationToken cancellationToken) =>
        (await LoadRecordAsync(key, cancellationToken).ConfigureAwait(false))?.Value;

    /// <summary>The record with its version and time of last write, or null.</summary>
    public async ValueTask<StoredRecord?> LoadRecordAsync(string key, CancellationToken cancellationToken)
    {
        var connection = await _open(cancellationToken).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            await using var command = Command(connection, null, _select, key, null);
            await using var reader = await command.ExecuteReaderAsync(CommandBehavior.SingleRow, cancellationToken).ConfigureAwait(false);
            return await reader.ReadAsync(cancellationToken).ConfigureAwait(false)
                ? new StoredRecord(key, reader.GetString(0), reader.GetInt64(1), DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(2)))
                : null;
        }
    }

    /// <inheritdoc />
    public ValueTask SaveAsync(string key, string value, CancellationToken cancellationToken) =>
        SaveBatchAsync([new RecordWrite<string, string>(key, value)], cancellationToken);

    /// <inheritdoc />
    public ValueTask DeleteAsync(string key, CancellationToken cancellationToken) =>
        SaveBatchAsync([new RecordWrite<string, string>(key, null)], cancellationToken);

    /// <inheritdoc />
    public async ValueTask SaveBatchAsync(IReadOnlyList<RecordWrite<string, string>> writes, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(writes);
        var connection = await _open(cancellationToken).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
            await using (transaction.ConfigureAwait(false))
            {
                var now = _time.GetUtcNow().ToUnixTimeMilliseconds();
                foreach (var write in writes)
                {
                    await using var command = Command(connection, transaction, write.IsDelete ? _delete : _upsert, write.Key, write.Value, now);
                    await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
                }

                await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
            }
        }
    }

    private static DbCommand Command(DbConnection connection, DbTransaction? transaction, string sql, string key, string? value, long now = 0)
    {
        var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = sql;
        Add(command, "@key", key);
        if (value is not null)
        {
            Add(command, "@value", value);
            Add(command, "@now", now);
        }

        return command;
    }

    private static void Add(DbCommand command, string name, object value)
    {
        var parameter = command.CreateParameter();
        parameter.ParameterName = name;
        parameter.Value = value;
        command.Parameters.Add(parameter);
    }

    private static void CheckTable(string table)
    {
        if (table is null || !TableName().IsMatch(table))
        {
            throw new ArgumentException("a table name is 1 to 63 lowercase letters, digits or '_', starting with a letter or '_'", nameof(table));
        }
    }

    [GeneratedRegex("^[a-z_][a-z0-9_]{0,62}$")]
    private static partial Regex TableName();
}
