using System.Globalization;
using Microsoft.Extensions.DependencyInjection;

namespace Blueprint.Sql.Tests;

/// <summary>
/// What modules rely on from the relational store, run against the embedded SQLite and against a
/// real PostgreSQL: the same migrations and queries must behave the same on both.
/// </summary>
public abstract class SqlDatabaseContractTests
{
    private static readonly SqlMigration[] Migrations =
    [
        new(1, "create notes",
            "CREATE TABLE notes (id INTEGER PRIMARY KEY AUTOINCREMENT, body TEXT NOT NULL)",
            "CREATE TABLE notes (id SERIAL PRIMARY KEY, body TEXT NOT NULL)"),
        new(2, "add author", "ALTER TABLE notes ADD COLUMN author TEXT NOT NULL DEFAULT 'anonymous'"),
    ];

    /// <summary>The settings for a node on a fresh, empty database, plus its data directory (null for a new one).</summary>
    protected abstract Task<Dictionary<string, string?>> FreshDatabaseSettingsAsync();

    protected abstract SqlProvider ExpectedProvider { get; }

    protected abstract string TableExistsSql(string table);

    private static async Task<TestNode> StartAsync(Dictionary<string, string?> settings, string? dataDir = null) =>
        await TestNode.StartAsync(dataDir, settings, TestContext.Current.CancellationToken);

    [Fact]
    public async Task Migrate_Twice_AppliesEachMigrationOnce()
    {
        await using var node = await StartAsync(await FreshDatabaseSettingsAsync());
        var database = node.Node.Services.GetRequiredService<ISqlDatabase>();
        Assert.Equal(ExpectedProvider, database.Provider);

        Assert.Equal(2, await database.MigrateAsync("notes", Migrations, TestContext.Current.CancellationToken));
        Assert.Equal(0, await database.MigrateAsync("notes", Migrations, TestContext.Current.CancellationToken));
        Assert.Equal(2L, await ScalarAsync(database, "SELECT COUNT(*) FROM blueprint_migrations WHERE module = 'notes'"));
    }

    [Fact]
    public async Task Migrate_LaterVersionAdded_AppliesOnlyTheNewOne()
    {
        await using var node = await StartAsync(await FreshDatabaseSettingsAsync());
        var database = node.Node.Services.GetRequiredService<ISqlDatabase>();

        Assert.Equal(1, await database.MigrateAsync("notes", Migrations[..1], TestContext.Current.CancellationToken));
        Assert.Equal(1, await database.MigrateAsync("notes", Migrations, TestContext.Current.CancellationToken));
        await ExecuteAsync(database, "INSERT INTO notes (body) VALUES ('x')");
        Assert.Equal("anonymous", await ScalarAsync(database, "SELECT author FROM notes"));
    }

    [Fact]
    public async Task Migrate_GapInVersions_IsRejectedWithTheModuleName()
    {
        await using var node = await StartAsync(await FreshDatabaseSettingsAsync());
        var database = node.Node.Services.GetRequiredService<ISqlDatabase>();
        var broken = new[] { new SqlMigration(1, "a", "SELECT 1"), new SqlMigration(3, "c", "SELECT 1") };

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => database.MigrateAsync("gappy", broken, TestContext.Current.CancellationToken));
        Assert.Contains("gappy", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task FailingMigration_RollsBackAndIsNotRecorded()
    {
        await using var node = await StartAsync(await FreshDatabaseSettingsAsync());
        var database = node.Node.Services.GetRequiredService<ISqlDatabase>();
        var failing = new[] { new SqlMigration(1, "half", "CREATE TABLE half (id INTEGER); INSERT INTO no_such_table VALUES (1);") };

        await Assert.ThrowsAnyAsync<System.Data.Common.DbException>(() => database.MigrateAsync("half", failing, TestContext.Current.CancellationToken));
        Assert.Equal(0L, await ScalarAsync(database, "SELECT COUNT(*) FROM blueprint_migrations WHERE module = 'half'"));
        Assert.Equal(0L, await ScalarAsync(database, TableExistsSql("half")));
    }

    [Fact]
    public async Task CommittedRow_SurvivesRestart()
    {
        using var data = new TempDirectory();
        var settings = await FreshDatabaseSettingsAsync();
        await using (var first = await StartAsync(settings, data.Path))
        {
            var database = first.Node.Services.GetRequiredService<ISqlDatabase>();
            await database.MigrateAsync("notes", Migrations, TestContext.Current.CancellationToken);
            await ExecuteAsync(database, "INSERT INTO notes (body, author) VALUES ('kept', 'ada')");
        }

        await using var second = await StartAsync(settings, data.Path);
        var again = second.Node.Services.GetRequiredService<ISqlDatabase>();
        Assert.Equal(0, await again.MigrateAsync("notes", Migrations, TestContext.Current.CancellationToken));
        Assert.Equal("ada", await ScalarAsync(again, "SELECT author FROM notes WHERE body = 'kept'"));
    }

    [Fact]
    public async Task Readyz_ReportsTheDatabaseHealthy()
    {
        await using var node = await StartAsync(await FreshDatabaseSettingsAsync());
        var body = await node.Http.GetStringAsync("/readyz", TestContext.Current.CancellationToken);
        Assert.Contains("\"sql\":{\"status\":\"Healthy\"", body, StringComparison.Ordinal);
    }

    protected static async Task<object?> ScalarAsync(ISqlDatabase database, string sql)
    {
        await using var connection = await database.OpenAsync(TestContext.Current.CancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        var value = await command.ExecuteScalarAsync(TestContext.Current.CancellationToken);
        return value is string ? value : Convert.ToInt64(value, CultureInfo.InvariantCulture);
    }

    private static async Task ExecuteAsync(ISqlDatabase database, string sql)
    {
        await using var connection = await database.OpenAsync(TestContext.Current.CancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        await command.ExecuteNonQueryAsync(TestContext.Current.CancellationToken);
    }
}

public sealed class SqliteDatabaseTests : SqlDatabaseContractTests
{
    protected override SqlProvider ExpectedProvider => SqlProvider.Sqlite;

    protected override Task<Dictionary<string, string?>> FreshDatabaseSettingsAsync() =>
        Task.FromResult(new Dictionary<string, string?> { ["Node:Modules"] = "sql" });

    protected override string TableExistsSql(string table) => $"SELECT COUNT(*) FROM sqlite_master WHERE name = '{table}'";

    [Fact]
    public async Task Sqlite_UsesWalWithFullSync()
    {
        await using var node = await TestNode.StartAsync(settings: await FreshDatabaseSettingsAsync(), cancellationToken: TestContext.Current.CancellationToken);
        var database = node.Node.Services.GetRequiredService<ISqlDatabase>();
        Assert.Equal("wal", await ScalarAsync(database, "PRAGMA journal_mode"));
        Assert.Equal(2L, await ScalarAsync(database, "PRAGMA synchronous"));
        Assert.True(File.Exists(Path.Combine(node.DataDir, "sql", "blueprint.db")));
    }
}

public sealed class PostgresDatabaseTests : SqlDatabaseContractTests, IClassFixture<PostgresDatabaseTests.Server>
{
    private readonly Server _server;

    public PostgresDatabaseTests(Server server) => _server = server;

    protected override SqlProvider ExpectedProvider => SqlProvider.Postgres;

    protected override async Task<Dictionary<string, string?>> FreshDatabaseSettingsAsync() => new()
    {
        ["Node:Modules"] = "sql",
        ["Sql:Provider"] = "postgres",
        ["Sql:ConnectionString"] = await (await _server.PeerAsync()).CreateDatabaseAsync(),
    };

    protected override string TableExistsSql(string table) => $"SELECT COUNT(*) FROM information_schema.tables WHERE table_name = '{table}'";

    /// <summary>One PostgreSQL server for the class; each test gets its own database in it.</summary>
    public sealed class Server : IAsyncDisposable
    {
        private readonly SemaphoreSlim _gate = new(1, 1);
        private PostgresPeer? _peer;

        public async Task<PostgresPeer> PeerAsync()
        {
            await _gate.WaitAsync();
            try
            {
                return _peer ??= await PostgresPeer.StartAsync();
            }
            finally
            {
                _gate.Release();
            }
        }

        public async ValueTask DisposeAsync()
        {
            if (_peer is not null)
            {
                await _peer.DisposeAsync();
            }

            _gate.Dispose();
        }
    }
}
