using Blueprint.Hosting;
namespace Blueprint.Node.Tests.Cli;

public sealed class ConfigurationValidationTests
{
    private static async Task<IReadOnlyList<string>> StartFailureLinesAsync(Dictionary<string, string?> settings)
    {
        using var data = new TempDirectory();
        if (!settings.TryGetValue("Node:DataDir", out var dataDir) || dataDir is null)
        {
            settings["Node:DataDir"] = data.Path;
        }

        settings.TryAdd("Node:HttpPort", "0");
        await using var node = BlueprintNode.Create(TestNode.RequireCatalog(), settings);
        var error = await Assert.ThrowsAnyAsync<Exception>(() => node.StartAsync(TestContext.Current.CancellationToken));
        var lines = StartupFailure.Describe(error, node.Catalog);
        Assert.NotNull(lines);
        return lines;
    }

    [Fact]
    public async Task SeveralInvalidValues_AllReportedAtOnceWithKeyValueAndRule()
    {
        var lines = await StartFailureLinesAsync(new Dictionary<string, string?>
        {
            ["Node:DataDir"] = null,
            ["Node:HttpPort"] = "70000",
            ["Node:LogFormat"] = "xml",
            ["Kv:Port"] = "0",
            ["Kv:MemorySize"] = "lots",
            ["Sql:Provider"] = "oracle",
        });

        Assert.Contains(lines, line => line.StartsWith("Node:HttpPort = '70000': must be a port", StringComparison.Ordinal) && line.EndsWith("(flag --http-port)", StringComparison.Ordinal));
        Assert.Contains(lines, line => line.StartsWith("Node:LogFormat = 'xml': must be 'text' or 'json'", StringComparison.Ordinal));
        Assert.Contains(lines, line => line.StartsWith("Kv:Port = '0'", StringComparison.Ordinal) && line.EndsWith("(flag --resp-port)", StringComparison.Ordinal));
        Assert.Contains(lines, line => line.StartsWith("Kv:MemorySize = 'lots': must be a size", StringComparison.Ordinal));
        Assert.Contains(lines, line => line.StartsWith("Sql:Provider = 'oracle'", StringComparison.Ordinal));
        Assert.Equal(5, lines.Count);
    }

    [Fact]
    public async Task UnknownModule_NamesItAndTheAvailableOnes()
    {
        var lines = await StartFailureLinesAsync(new Dictionary<string, string?> { ["Node:Modules"] = "kv,warp-drive" });
        var line = Assert.Single(lines);
        Assert.Contains("warp-drive", line, StringComparison.Ordinal);
        Assert.Contains("available: kv, sql, cache, ratelimit", line, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ModuleWithoutWhatItNeeds_IsRejectedNamingTheMissingModule()
    {
        var lines = await StartFailureLinesAsync(new Dictionary<string, string?> { ["Node:Modules"] = "sql,ratelimit" });
        Assert.Contains("ratelimit needs kv; add it to the list", Assert.Single(lines), StringComparison.Ordinal);
    }

    [Fact]
    public async Task PostgresWithoutConnectionString_IsRejected()
    {
        var lines = await StartFailureLinesAsync(new Dictionary<string, string?> { ["Node:Modules"] = "sql", ["Sql:Provider"] = "postgres" });
        Assert.Contains(lines, line => line.StartsWith("Sql:ConnectionString = '': must be set when Sql:Provider is 'postgres'", StringComparison.Ordinal));
    }

    [Fact]
    public async Task NonIpBind_IsRejected()
    {
        var lines = await StartFailureLinesAsync(new Dictionary<string, string?> { ["Node:Bind"] = "example.invalid", ["Node:Modules"] = "sql" });
        Assert.Contains(lines, line => line.StartsWith("Node:Bind = 'example.invalid': must be an IP address", StringComparison.Ordinal) && line.EndsWith("(flag --bind)", StringComparison.Ordinal));
    }

    [Fact]
    public async Task UnwritableDataDir_IsAStartupProblemNamingTheFlag()
    {
        using var parent = new TempDirectory();
        var blocker = Path.Combine(parent.Path, "a-file");
        await File.WriteAllTextAsync(blocker, "not a directory", TestContext.Current.CancellationToken);

        // A path under a regular file cannot be created, even by root.
        var lines = await StartFailureLinesAsync(new Dictionary<string, string?> { ["Node:DataDir"] = Path.Combine(blocker, "data"), ["Node:Modules"] = "sql" });
        var line = Assert.Single(lines);
        Assert.Contains("is not writable", line, StringComparison.Ordinal);
        Assert.Contains("--data-dir", line, StringComparison.Ordinal);
    }
}
