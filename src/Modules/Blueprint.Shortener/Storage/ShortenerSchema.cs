using Blueprint.Sql;

namespace Blueprint.Shortener.Storage;

/// <summary>The shortener's tables. Every database (the node's and each shard) gets all of them; times are Unix milliseconds.</summary>
internal static class ShortenerSchema
{
    private const string Links = """
        CREATE TABLE shortener_links (
            code TEXT NOT NULL PRIMARY KEY,
            url TEXT NOT NULL,
            id BIGINT NULL,
            redirect_type INTEGER NOT NULL,
            created_at BIGINT NOT NULL,
            expires_at BIGINT NULL);
        CREATE INDEX shortener_links_id ON shortener_links (id);
        """;

    public static IReadOnlyList<SqlMigration> Migrations { get; } =
    [
        // On PostgreSQL the code sorts in byte order ("C"), as in SQLite: keyset pages and the cross-shard merge agree.
        new(1, "links", Links, Links.Replace("code TEXT NOT NULL", "code TEXT COLLATE \"C\" NOT NULL", StringComparison.Ordinal)),
        new(2, "clicks",
            """
            CREATE TABLE shortener_clicks_daily (code TEXT NOT NULL, day INTEGER NOT NULL, clicks BIGINT NOT NULL, PRIMARY KEY (code, day));
            CREATE TABLE shortener_clicks_referrers (code TEXT NOT NULL, referrer TEXT NOT NULL, clicks BIGINT NOT NULL, PRIMARY KEY (code, referrer));
            CREATE TABLE shortener_clicks_agents (code TEXT NOT NULL, family TEXT NOT NULL, clicks BIGINT NOT NULL, PRIMARY KEY (code, family));
            """),
        new(3, "keys and settings",
            """
            CREATE TABLE shortener_api_keys (hash TEXT NOT NULL PRIMARY KEY, prefix TEXT NOT NULL, created_at BIGINT NOT NULL);
            CREATE TABLE shortener_settings (name TEXT NOT NULL PRIMARY KEY, value TEXT NOT NULL);
            """),
    ];
}
