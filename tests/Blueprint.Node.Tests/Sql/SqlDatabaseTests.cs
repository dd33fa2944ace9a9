using System.Globalization;
using Blueprint.Sql;
using Microsoft.Extensions.DependencyInjection;

namespace Blueprint.Node.Tests.Sql;

public sealed class SqlDatabaseTests
{
    private static readonly Dictionary<string, string?> SqlOnly = new() { ["Node:Modules"] = "sql" };

    private static readonly SqlMigration[] Migrations =
    [
        new(1, "create notes", "CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT NOT NULL)"),
        new(2, "add author", "ALTER TABLE notes ADD COLUMN author TEXT NOT NULL DEFAULT 'anonymous'"),
    ];

    [Fact]
    public async Task Migrate_Twice_AppliesEachMigrationOnce()
    {
        await using var node = await TestNode.StartAsync(settings: SqlOnly, cancellationToken: TestContext.Current.CancellationToken);
        var database = node.Node.Services.GetRequiredService<ISqlDatabase>();

        Assert.Equal(2, await database.MigrateAsync("notes", Migrations, TestContext.Current.CancellationToken));
        Assert.Equal(0, await database.MigrateAsync("notes", Migrations, TestContext.Current.CancellationToken));
        Assert.Equal(2L, await ScalarAsync(database, "SELECT COUNT(*) FROM blueprint_migrations WHERE module = 'notes'"));
    }

    [Fact]
    public async Task Migrate_LaterVersionAdded_AppliesOnlyTheNewOne()
    {
        await using var node = await TestNode.StartAsync(settings: SqlOnly, cancellationToken: TestContext.Current.CancellationToken);
        var database = node.Node.Services.GetRequiredService<ISqlDatabase>();

        Assert.Equal(1, await database.MigrateAsync("notes", Migrations[..1], TestContext.Current.CancellationToken));
        Assert.Equal(1, await database.MigrateAsync("notes", Migrations, TestContext.Current.CancellationToken));
        await ExecuteAsync(database, "INSERT INTO notes (body) VALUES ('x')");
        Assert.Equal("anonymous", await ScalarAsync(database, "SELECT author FROM notes"));
    }

    [Fact]
    public async Task Migrate_GapInVersions_IsRejectedWithTheModuleName()
    {
        await using var node = await TestNode.StartAsync(settings: SqlOnly, cancellationToken: TestContext.Current.CancellationToken);
        var database = node.Node.Services.GetRequiredService<ISqlDatabase>();
        var broken = new[] { new SqlMigration(1, "a", "SELECT 1"), new SqlMigration(3, "c", "SELECT 1") };

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => database.MigrateAsync("gappy", broken, TestContext.Current.CancellationToken));
        Assert.Contains("gappy", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task FailingMigration_RollsBackAndIsNotRecorded()
    {
        await using var node = await TestNode.StartAsync(settings: SqlOnly, cancellationToken: TestContext.Current.CancellationToken);
        var database = node.Node.Services.GetRequiredService<ISqlDatabase>();
        var failing = new[] { new SqlMigration(1, "half", "CREATE TABLE half (id INTEGER); INSERT INTO no_such_table VALUES (1);") };

        await Assert.ThrowsAnyAsync<System.Data.Common.DbException>(() => database.MigrateAsync("half", failing, TestContext.Current.CancellationToken));
        Assert.Equal(0L, await ScalarAsync(database, "SELECT COUNT(*) FROM blueprint_migrations WHERE module = 'half'"));
        Assert.Equal(0L, await ScalarAsync(database, "SELECT COUNT(*) FROM sqlite_master WHERE name = 'half'"));
    }

    [Fact]
    public async Task Sqlite_UsesWalMode()
    {
        await using var node = await TestNode.StartAsync(settings: SqlOnly, cancellationToken: TestContext.Current.CancellationToken);
        var database = node.Node.Services.GetRequiredService<ISqlDatabase>();
        Assert.Equal(SqlProvider.Sqlite, database.Provider);
        Assert.Equal("wal", await ScalarAsync(database, "PRAGMA journal_mode"));
        Assert.Equal(2L, await ScalarAsync(database, "PRAGMA synchronous"));
    }

    [Fact]
    public async Task CommittedRow_SurvivesRestart()
    {
        using var data = new TempDirectory();
        await using (var first = await TestNode.StartAsync(data.Path, SqlOnly, TestContext.Current.CancellationToken))
        {
            var database = first.Node.Services.GetRequiredService<ISqlDatabase>();
            await database.MigrateAsync("notes", Migrations, TestContext.Current.CancellationToken);
            await ExecuteAsync(database, "INSERT INTO notes (body, author) VALUES ('kept', 'ada')");
        }

        Assert.True(File.Exists(Path.Combine(data.Path, "sql", "blueprint.db")));
        await using var second = await TestNode.StartAsync(data.Path, SqlOnly, TestContext.Current.CancellationToken);
        var again = second.Node.Services.GetRequiredService<ISqlDatabase>();
        Assert.Equal(0, await again.MigrateAsync("notes", Migrations, TestContext.Current.CancellationToken));
        Assert.Equal("ada", await ScalarAsync(again, "SELECT author FROM notes WHERE body = 'kept'"));
    }

    private static async Task<object?> ScalarAsync(ISqlDatabase database, string sql)
    {
        await using var connection = await database.OpenAsync(TestContext.Current.CancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        var value = await command.ExecuteScalarAsync(TestContext.Current.CancellationToken);
        return value is long or string ? value : Convert.ToInt64(value, CultureInfo.InvariantCulture);
    }

    private static async Task ExecuteAsync(ISqlDatabase database, string sql)
    {
        await using var connection = await database.OpenAsync(TestContext.Current.CancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        await command.ExecuteNonQueryAsync(TestContext.Current.CancellationToken);
    }
}
