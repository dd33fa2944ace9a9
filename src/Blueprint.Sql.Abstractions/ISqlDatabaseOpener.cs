namespace Blueprint.Sql;

/// <summary>
/// Opens databases other than the node's own, such as a module's shards, so a module can open them
/// without referencing the engines. The caller owns what it opens and disposes it.
/// </summary>
public interface ISqlDatabaseOpener
{
    /// <summary>
    /// Opens (lazily: nothing connects until the first <see cref="ISqlDatabase.OpenAsync"/>) the
    /// <paramref name="provider"/> database at <paramref name="connectionString"/>.
    /// </summary>
    /// <param name="provider">The engine.</param>
    /// <param name="connectionString">The connection string; for SQLite, null means the node's default file.</param>
    IOwnedSqlDatabase Open(SqlProvider provider, string? connectionString);
}

/// <summary>A database opened by an <see cref="ISqlDatabaseOpener"/>, which its owner disposes.</summary>
public interface IOwnedSqlDatabase : ISqlDatabase, IAsyncDisposable
{
    /// <summary>Checkpoints a SQLite database (folds the WAL into the file); nothing for PostgreSQL.</summary>
    /// <param name="cancellationToken">Cancels the checkpoint.</param>
    Task CheckpointAsync(CancellationToken cancellationToken);
}
