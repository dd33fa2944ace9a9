using Blueprint.Hosting;
using Microsoft.Extensions.Options;

namespace Blueprint.Sql;

/// <summary>
/// Opens databases other than the node's own: a module's shards, or the node's database from a
/// command-line verb that runs without a node. The caller owns what it opens and disposes it.
/// </summary>
public static class SqlDatabases
{
    /// <summary>Opens (lazily: nothing connects until the first <see cref="ISqlDatabase.OpenAsync"/>) the database <paramref name="options"/> describe.</summary>
    /// <param name="options">The engine and connection string; a SQLite database without a connection string is <c>&lt;data-dir&gt;/sql/blueprint.db</c>.</param>
    /// <param name="dataDirectory">The node's data directory.</param>
    public static OwnedSqlDatabase Open(SqlOptions options, DataDirectory dataDirectory) =>
        new(new SqlDatabase(Options.Create(options), dataDirectory));
}

/// <summary>A database opened by <see cref="SqlDatabases.Open"/>, which its owner disposes.</summary>
public sealed class OwnedSqlDatabase : IOwnedSqlDatabase
{
    private readonly SqlDatabase _inner;

    internal OwnedSqlDatabase(SqlDatabase inner) => _inner = inner;

    /// <inheritdoc />
    public SqlProvider Provider => _inner.Provider;

    /// <inheritdoc />
    public string Location => _inner.Location;

    /// <inheritdoc />
    public ValueTask<System.Data.Common.DbConnection> OpenAsync(CancellationToken cancellationToken = default) => _inner.OpenAsync(cancellationToken);

    /// <inheritdoc />
    public Task<int> MigrateAsync(string moduleName, IReadOnlyList<SqlMigration> migrations, CancellationToken cancellationToken = default) =>
        _inner.MigrateAsync(moduleName, migrations, cancellationToken);

    /// <inheritdoc />
    public Task CheckpointAsync(CancellationToken cancellationToken) => _inner.CheckpointAsync(cancellationToken);

    /// <inheritdoc />
    public ValueTask DisposeAsync() => _inner.DisposeAsync();
}

/// <summary>
/// <see cref="ISqlDatabaseOpener"/> on this module's engines: opens with <see cref="SqlDatabases.Open"/> and
/// the default options otherwise.
/// </summary>
/// <param name="dataDirectory">The node's data directory.</param>
public sealed class SqlDatabaseOpener(DataDirectory dataDirectory) : ISqlDatabaseOpener
{
    /// <inheritdoc />
    public IOwnedSqlDatabase Open(SqlProvider provider, string? connectionString) => SqlDatabases.Open(
        new SqlOptions { Provider = provider == SqlProvider.Postgres ? "postgres" : "sqlite", ConnectionString = connectionString },
        dataDirectory);
}
