using Blueprint.Hosting;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Blueprint.Sql;

/// <summary>The sql module: a relational store (SQLite in WAL mode, or PostgreSQL) with per-module migrations.</summary>
public sealed class SqlModule : IBlueprintModule
{
    /// <inheritdoc />
    public string Name => "sql";

    /// <inheritdoc />
    public string Description => "Relational store with ACID transactions and per-module migrations (SQLite in WAL mode, or PostgreSQL).";

    /// <inheritdoc />
    public IReadOnlyList<string> CheatSheetRows { get; } = ["Relational (SQL)"];

    /// <inheritdoc />
    public void AddServices(IHostApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.AddValidatedOptions<SqlOptions>(SqlOptions.Section);
        builder.Services.AddSingleton<SqlDatabase>();
        builder.Services.AddSingleton<ISqlDatabase>(services => services.GetRequiredService<SqlDatabase>());
        // Databases beyond the node's own (the shortener's shards); modules see only the opener, from the sql abstractions.
        builder.Services.AddSingleton<ISqlDatabaseOpener, SqlDatabaseOpener>();
        builder.Services.AddHostedService<SqlLifecycle>();
        builder.Services.AddHealthChecks().AddCheck<SqlHealthCheck>("sql", tags: [ServiceDefaults.ReadyTag]);
    }

    /// <inheritdoc />
    public void MapEndpoints(IEndpointRouteBuilder endpoints)
    {
    }

    /// <inheritdoc />
    public IEnumerable<ModuleEndpoint> DescribeEndpoints(IServiceProvider services)
    {
        yield return new ModuleEndpoint("SQL", services.GetRequiredService<ISqlDatabase>().Location);
    }
}
