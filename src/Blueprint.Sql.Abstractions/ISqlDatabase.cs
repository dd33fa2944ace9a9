using System.Data.Common;

namespace Blueprint.Sql;

/// <summary>
/// The one way modules reach the relational engine: open a connection, and apply the module's own
/// migrations. SQLite by default; PostgreSQL when configured. Each module owns its tables.
/// </summary>
public interface ISqlDatabase
{
    /// <summary>Which engine this is; a module may pick dialect-specific SQL by it.</summary>
    SqlProvider Provider { get; }

    /// <summary>A short description of where the data lives (a file path or a host), without secrets.</summary>
    string Location { get; }

    /// <summary>Opens a new connection; dispose it when done (connections are pooled).</summary>
    ValueTask<DbConnection> OpenAsync(CancellationToken cancellationToken = default);

    /// <summary>
    /// Applies, in order and each in its own transaction, the migrations of <paramref name="moduleName"/>
    /// that have not run yet. Returns how many ran.
    /// </summary>
    Task<int> MigrateAsync(string moduleName, IReadOnlyList<SqlMigration> migrations, CancellationToken cancellationToken = default);
}

/// <summary>The relational engines Blueprint speaks to.</summary>
public enum SqlProvider
{
    /// <summary>SQLite, a file in the data directory, in WAL mode.</summary>
    Sqlite,

    /// <summary>PostgreSQL through Npgsql.</summary>
    Postgres,
}

/// <summary>One schema change of one module.</summary>
/// <param name="Version">Its position in the module's sequence, from 1, without gaps.</param>
/// <param name="Name">What it does, for the migrations table.</param>
/// <param name="Sqlite">The SQL for SQLite.</param>
/// <param name="Postgres">The SQL for PostgreSQL; null when it is the same as <paramref name="Sqlite"/>.</param>
public sealed record SqlMigration(int Version, string Name, string Sqlite, string? Postgres = null)
{
    /// <summary>The SQL for <paramref name="provider"/>.</summary>
    public string For(SqlProvider provider) => provider == SqlProvider.Postgres ? Postgres ?? Sqlite : Sqlite;
}
