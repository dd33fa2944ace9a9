using System.Data.Common;
using System.Globalization;
using Blueprint.Hosting;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Blueprint.Sql;

/// <summary>
/// <see cref="ISqlDatabase"/> over SQLite or PostgreSQL. SQLite runs in WAL mode with
/// <c>synchronous=FULL</c>, so a committed transaction survives a crash, and a busy timeout so
/// concurrent writers wait instead of failing.
/// </summary>
internal sealed class SqlDatabase : ISqlDatabase, IAsyncDisposable
{
    private readonly SqlOptions _options;
    private readonly string _connectionString;
    private readonly NpgsqlDataSource? _postgres;

    public SqlDatabase(IOptions<SqlOptions> options, DataDirectory dataDirectory)
    {
        _options = options.Value;
        if (_options.IsPostgres)
        {
            Provider = SqlProvider.Postgres;
            var builder = new NpgsqlConnectionStringBuilder(_options.ConnectionString)
            {
                CommandTimeout = _options.CommandTimeoutSeconds,
            };
            if (builder.Timeout == 0)
            {
                builder.Timeout = 15;
            }

            _connectionString = builder.ConnectionString;
            Location = $"postgres://{builder.Host}:{builder.Port}/{builder.Database}";
            _postgres = NpgsqlDataSource.Create(_connectionString);
        }
        else
        {
            Provider = SqlProvider.Sqlite;
            var builder = string.IsNullOrWhiteSpace(_options.ConnectionString)
                ? new SqliteConnectionStringBuilder { DataSource = Path.Combine(dataDirectory.For("sql"), "blueprint.db") }
                : new SqliteConnectionStringBuilder(_options.ConnectionString);
            builder.Mode = SqliteOpenMode.ReadWriteCreate;
            builder.Pooling = true;
            builder.DefaultTimeout = _options.CommandTimeoutSeconds;
            _connectionString = builder.ConnectionString;
            Location = $"sqlite:{Path.GetFullPath(builder.DataSource)}";
        }
    }

    public SqlProvider Provider { get; }

    public string Location { get; }

    public async ValueTask<DbConnection> OpenAsync(CancellationToken cancellationToken = default)
    {
        if (_postgres is not null)
        {
            return await _postgres.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        }

        var connection = new SqliteConnection(_connectionString);
        try
        {
            await connection.OpenAsync(cancellationToken).ConfigureAwait(false);
            // Per-connection settings: WAL itself persists in the file, the rest does not.
            await ExecuteAsync(connection, null, string.Create(CultureInfo.InvariantCulture,
                $"PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON; PRAGMA busy_timeout={_options.CommandTimeoutSeconds * 1000};"),
                cancellationToken).ConfigureAwait(false);
            return connection;
        }
        catch
        {
            await connection.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    public async Task<int> MigrateAsync(string moduleName, IReadOnlyList<SqlMigration> migrations, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(moduleName);
        var module = moduleName;
        ArgumentNullException.ThrowIfNull(migrations);
        for (var i = 0; i < migrations.Count; i++)
        {
            if (migrations[i].Version != i + 1)
            {
                throw new InvalidOperationException(
                    $"migrations of module '{module}' must be numbered 1, 2, 3… without gaps; position {i + 1} has version {migrations[i].Version}");
            }
        }

        var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            await ExecuteAsync(connection, null,
                "CREATE TABLE IF NOT EXISTS blueprint_migrations (module TEXT NOT NULL, version INTEGER NOT NULL, name TEXT NOT NULL, applied_at TEXT NOT NULL, PRIMARY KEY (module, version))",
                cancellationToken).ConfigureAwait(false);

            var applied = 0;
            foreach (var migration in migrations)
            {
                var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
                await using (transaction.ConfigureAwait(false))
                {
                    // Checked inside the transaction so two nodes migrating one database apply each step once.
                    if (await IsAppliedAsync(connection, transaction, module, migration.Version, cancellationToken).ConfigureAwait(false))
                    {
                        continue;
                    }

                    await ExecuteAsync(connection, transaction, migration.For(Provider), cancellationToken).ConfigureAwait(false);
                    await using var record = connection.CreateCommand();
                    record.Transaction = transaction;
                    record.CommandText = "INSERT INTO blueprint_migrations (module, version, name, applied_at) VALUES (@module, @version, @name, @at)";
                    AddParameter(record, "@module", module);
                    AddParameter(record, "@version", migration.Version);
                    AddParameter(record, "@name", migration.Name);
                    AddParameter(record, "@at", DateTimeOffset.UtcNow.ToString("O", CultureInfo.InvariantCulture));
                    await record.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
                    await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
                    applied++;
                }
            }

            return applied;
        }
    }

    /// <summary>Folds the WAL back into the main file so the database is one self-contained file after a stop.</summary>
    public async Task CheckpointAsync(CancellationToken cancellationToken)
    {
        if (Provider != SqlProvider.Sqlite)
        {
            return;
        }

        var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            await ExecuteAsync(connection, null, "PRAGMA wal_checkpoint(TRUNCATE);", cancellationToken).ConfigureAwait(false);
        }

        SqliteConnection.ClearAllPools();
    }

    private static async Task<bool> IsAppliedAsync(DbConnection connection, DbTransaction transaction, string module, int version, CancellationToken cancellationToken)
    {
        await using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = "SELECT COUNT(*) FROM blueprint_migrations WHERE module = @module AND version = @version";
        AddParameter(command, "@module", module);
        AddParameter(command, "@version", version);
        var count = Convert.ToInt64(await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false), CultureInfo.InvariantCulture);
        return count > 0;
    }

    private static async Task ExecuteAsync(DbConnection connection, DbTransaction? transaction, string sql, CancellationToken cancellationToken)
    {
        await using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = sql;
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    private static void AddParameter(DbCommand command, string name, object value)
    {
        var parameter = command.CreateParameter();
        parameter.ParameterName = name;
        parameter.Value = value;
        command.Parameters.Add(parameter);
    }

    public async ValueTask DisposeAsync()
    {
        if (_postgres is not null)
        {
            await _postgres.DisposeAsync().ConfigureAwait(false);
        }
    }
}
