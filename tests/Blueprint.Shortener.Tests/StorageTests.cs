using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Blueprint.Core.Hashing;
using Blueprint.Hosting;
using Blueprint.Shortener.Clicks;
using Blueprint.Shortener.Storage;
using Blueprint.Sql;

namespace Blueprint.Shortener.Tests;

/// <summary>Where links live: shards by consistent hashing, PostgreSQL, the ID counter, the key command.</summary>
public sealed class StorageTests
{
    [Fact]
    public async Task Sharded_links_spread_over_every_shard_by_the_ring_and_list_as_one()
    {
        await using var shortener = await ShortenerHarness.StartAsync(new Dictionary<string, string?>
        {
            ["Shortener:Shards:0:Name"] = "s0",
            ["Shortener:Shards:1:Name"] = "s1",
            ["Shortener:Shards:2:Name"] = "s2",
        });
        var codes = new List<string>();
        for (var i = 0; i < 150; i++)
        {
            codes.Add(await shortener.CreateAsync(new { url = $"https://example.com/{i}" }));
        }

        codes.Add(await shortener.CreateAsync(new { url = "https://example.com/alias", alias = "sharded-alias" }));
        var ring = new HashRing<string>(["s0", "s1", "s2"]);
        var directory = new DataDirectory(shortener.Node.DataDir);
        var total = 0;
        foreach (var shard in new[] { "s0", "s1", "s2" })
        {
            var database = SqlDatabases.Open(new SqlOptions { ConnectionString = $"Data Source={Path.Combine(shortener.Node.DataDir, "shortener", shard + ".db")}" }, directory);
            await using (database)
            {
                var stored = new List<string>();
                var connection = await database.OpenAsync(TestContext.Current.CancellationToken);
                await using (connection)
                {
                    await using var command = connection.CreateCommand();
                    command.CommandText = "SELECT code FROM shortener_links";
                    await using var reader = await command.ExecuteReaderAsync(TestContext.Current.CancellationToken);
                    while (await reader.ReadAsync(TestContext.Current.CancellationToken))
                    {
                        stored.Add(reader.GetString(0));
                    }
                }

                Assert.NotEmpty(stored);
                Assert.All(stored, code => Assert.Equal(shard, ring.GetNode(code)));
                total += stored.Count;
            }
        }

        Assert.Equal(codes.Count, total);

        // The node's own database holds no links when shards are configured.
        Assert.Equal(0, await CountLinksAsync(shortener.Get<ShardRouter>().Primary));

        var seen = new List<string>();
        string? cursor = null;
        do
        {
            var page = await shortener.Client.GetFromJsonAsync<JsonElement>(
                cursor is null ? "/api/links?limit=40" : $"/api/links?limit=40&cursor={cursor}", TestContext.Current.CancellationToken);
            seen.AddRange(page.GetProperty("items").EnumerateArray().Select(item => item.GetProperty("code").GetString()!));
            cursor = page.GetProperty("nextCursor").GetString();
        }
        while (cursor is not null);

        Assert.Equal(codes.Order(StringComparer.Ordinal), seen);
        Assert.Equal((HttpStatusCode.Found, "https://example.com/alias"), await shortener.FollowOnceAsync("sharded-alias"));
        await shortener.FollowOnceAsync(codes[0]);
        await shortener.Get<ClickRecorder>().FlushAsync(TestContext.Current.CancellationToken);
        var stats = await shortener.Client.GetFromJsonAsync<JsonElement>($"/api/links/{codes[0]}/stats", TestContext.Current.CancellationToken);
        Assert.Equal(1, stats.GetProperty("totalClicks").GetInt64());
    }

    [Fact]
    public async Task Resharding_copies_then_prunes_and_every_link_still_redirects_with_its_clicks()
    {
        using var directory = new TempDirectory("shortener-reshard");
        var codes = new List<string>();
        await using (var single = await ShortenerHarness.StartAsync(dataDir: directory.Path))
        {
            for (var i = 0; i < 40; i++)
            {
                codes.Add(await single.CreateAsync(new { url = $"https://example.com/{i}" }));
            }

            codes.Add(await single.CreateAsync(new { url = "https://example.com/alias", alias = "moved-alias" }));
            for (var i = 0; i < 3; i++)
            {
                await single.FollowOnceAsync("moved-alias", "https://ref.example/", "curl/8.5.0");
            }

            await single.Get<ClickRecorder>().FlushAsync(TestContext.Current.CancellationToken);
        }

        var shards = new Dictionary<string, string?>
        {
            ["Shortener:Shards:0:Name"] = "s0",
            ["Shortener:Shards:1:Name"] = "s1",
            ["Shortener:Shards:2:Name"] = "s2",
        };
        var options = new ShortenerOptions { Shards = [new() { Name = "s0" }, new() { Name = "s1" }, new() { Name = "s2" }] };
        var data = new DataDirectory(directory.Path);
        var primary = SqlDatabases.Open(new SqlOptions(), data);
        await using (primary)
        {
            Assert.Equal((41L, 0L), await ShortenerMaintenance.ReshardAsync(primary, new SqlDatabaseOpener(data), options, data, prune: false, TestContext.Current.CancellationToken));
            Assert.Equal((0L, 0L), await ShortenerMaintenance.ReshardAsync(primary, new SqlDatabaseOpener(data), options, data, prune: false, TestContext.Current.CancellationToken));
            Assert.Equal(41, await CountLinksAsync(primary)); // copied, not yet moved: nodes on the old list still find them
        }

        // A node already on the new list, mid-roll: it finds every link, and a delete there is not undone by the prune.
        await using (var rolled = await ShortenerHarness.StartAsync(shards, dataDir: directory.Path))
        {
            Assert.Equal(HttpStatusCode.Found, (await rolled.FollowOnceAsync(codes[0])).Status);
            using var deleted = await rolled.Client.DeleteAsync($"/api/links/{codes[0]}", TestContext.Current.CancellationToken);
            Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        }

        // The prune through the verb, configured as an operator would: environment variables with the new list.
        await using (var verb = NodeProcess.Start(["shortener", "reshard", "--data-dir", directory.Path, "--prune"], directory.Path, new Dictionary<string, string>
        {
            ["BLUEPRINT_Shortener__Shards__0__Name"] = "s0",
            ["BLUEPRINT_Shortener__Shards__1__Name"] = "s1",
            ["BLUEPRINT_Shortener__Shards__2__Name"] = "s2",
        }))
        {
            Assert.Equal(0, await verb.WaitForExitAsync(TimeSpan.FromSeconds(60)));
            Assert.Equal("copied 0 links to their shards; deleted 40 from where they were", verb.StandardOutput.Trim());
        }

        await using var sharded = await ShortenerHarness.StartAsync(shards, dataDir: directory.Path);
        Assert.Equal(0, await CountLinksAsync(sharded.Get<ShardRouter>().Primary));
        Assert.Equal(40, await sharded.Get<LinkStore>().CountAsync(TestContext.Current.CancellationToken));
        Assert.Equal(HttpStatusCode.NotFound, (await sharded.FollowOnceAsync(codes[0])).Status);
        foreach (var code in codes.Skip(1))
        {
            Assert.Equal(HttpStatusCode.Found, (await sharded.FollowOnceAsync(code)).Status);
        }

        var stats = await sharded.Client.GetFromJsonAsync<JsonElement>("/api/links/moved-alias/stats", TestContext.Current.CancellationToken);
        Assert.Equal(3, stats.GetProperty("totalClicks").GetInt64());
        Assert.Equal("ref.example", stats.GetProperty("topReferrers")[0].GetProperty("referrer").GetString());
    }

    [Fact]
    public async Task The_shortener_runs_on_PostgreSQL_with_byte_order_pages_and_counted_clicks()
    {
        await using var postgres = await PostgresPeer.StartAsync();
        await using var shortener = await ShortenerHarness.StartAsync(new Dictionary<string, string?>
        {
            ["Sql:Provider"] = "postgres",
            ["Sql:ConnectionString"] = await postgres.CreateDatabaseAsync(),
        });
        foreach (var alias in new[] { "alpha", "Zeta", "Beta", "beta_2" })
        {
            await shortener.CreateAsync(new { url = $"https://example.com/{alias}", alias });
        }

        var page = await shortener.Client.GetFromJsonAsync<JsonElement>("/api/links?limit=3", TestContext.Current.CancellationToken);
        Assert.Equal(["Beta", "Zeta", "alpha"], page.GetProperty("items").EnumerateArray().Select(item => item.GetProperty("code").GetString()).ToArray());
        Assert.Equal("alpha", page.GetProperty("nextCursor").GetString());

        for (var i = 0; i < 3; i++)
        {
            await shortener.FollowOnceAsync("Zeta", "https://www.example.org/", "curl/8.5.0");
        }

        await shortener.Get<ClickRecorder>().FlushAsync(TestContext.Current.CancellationToken);
        await shortener.FollowOnceAsync("Zeta", "https://www.example.org/", "curl/8.5.0");
        await shortener.Get<ClickRecorder>().FlushAsync(TestContext.Current.CancellationToken);
        var stats = await shortener.Client.GetFromJsonAsync<JsonElement>("/api/links/Zeta/stats", TestContext.Current.CancellationToken);
        Assert.Equal(4, stats.GetProperty("totalClicks").GetInt64());
        Assert.Equal("example.org", stats.GetProperty("topReferrers")[0].GetProperty("referrer").GetString());

        using var deleted = await shortener.Client.DeleteAsync("/api/links/Zeta", TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await shortener.FollowOnceAsync("Zeta")).Status);
        using var taken = await shortener.PostAsync(new { url = "https://example.com/again", alias = "alpha" });
        Assert.Equal(HttpStatusCode.Conflict, taken.StatusCode);
    }

    [Fact]
    public async Task After_the_KV_loses_its_counter_a_starting_node_leases_past_every_stored_id()
    {
        await using var a = await ShortenerHarness.StartAsync();
        var first = await a.CreateAsync(new { url = "https://example.com/1" });
        var second = await a.CreateAsync(new { url = "https://example.com/2" });
        var store = a.Get<LinkStore>();
        var maxId = await store.MaxIdAsync(TestContext.Current.CancellationToken);
        Assert.Equal((await store.FindAsync(second, TestContext.Current.CancellationToken))!.Id, maxId);

        // The KV forgets everything (an ephemeral KV restarted); a second node then starts on the same SQL.
        Assert.True(await (await a.Node.RedisAsync()).GetDatabase().KeyDeleteAsync("bp:short:ids"));
        await using var b = await ShortenerHarness.StartAsync(new Dictionary<string, string?>
        {
            ["Kv:ConnectionString"] = a.Node.RespEndpoint,
            ["Sql:ConnectionString"] = $"Data Source={Path.Combine(a.Node.DataDir, "sql", "blueprint.db")}",
        });
        var third = await b.CreateAsync(new { url = "https://example.com/3" });
        var link = await b.Get<LinkStore>().FindAsync(third, TestContext.Current.CancellationToken);
        Assert.True(link!.Id > maxId, $"the new link has ID {link.Id}, not past the stored maximum {maxId}");
        Assert.DoesNotContain(third, new[] { first, second });
        // B's block starts right after the stored maximum: found by raising the counter, not by colliding and retrying.
        Assert.Equal(maxId + 1, link.Id);
        Assert.Equal(maxId + 1 + 1000, (long)await (await a.Node.RedisAsync()).GetDatabase().StringGetAsync("bp:short:ids"));
    }

    [Fact]
    public async Task The_create_key_command_prints_a_key_the_node_then_accepts()
    {
        using var directory = new TempDirectory("shortener-key");
        var data = Path.Combine(directory.Path, "data");
        await using (var command = NodeProcess.Start(["shortener", "create-key", "--data-dir", data], directory.Path))
        {
            Assert.Equal(0, await command.WaitForExitAsync(TimeSpan.FromSeconds(60)));
            var lines = command.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries);
            var key = Assert.Single(lines).Trim();
            Assert.Matches("^bpk_[0-9A-Za-z]{40}$", key);

            await using var node = await TestNode.StartAsync(data, new Dictionary<string, string?> { ["Node:Modules"] = "kv,sql,shortener" }, TestContext.Current.CancellationToken);
            using var client = new HttpClient { BaseAddress = node.Node.HttpAddress };
            client.DefaultRequestHeaders.Add("X-Api-Key", key);
            using var created = await client.PostAsJsonAsync("/api/links", new { url = "https://example.com/cli" }, TestContext.Current.CancellationToken);
            Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        }

        var file = Path.Combine(directory.Path, "not-a-directory");
        await File.WriteAllTextAsync(file, "x", TestContext.Current.CancellationToken);
        await using var refused = NodeProcess.Start(["shortener", "create-key", "--data-dir", Path.Combine(file, "data")], directory.Path);
        Assert.Equal(2, await refused.WaitForExitAsync(TimeSpan.FromSeconds(60)));
        Assert.StartsWith("blueprint: data directory", refused.StandardError.Trim(), StringComparison.Ordinal);
        Assert.Empty(refused.StandardOutput.Trim());
    }

    private static async Task<long> CountLinksAsync(ISqlDatabase database)
    {
        var connection = await database.OpenAsync(TestContext.Current.CancellationToken);
        await using (connection)
        {
            await using var command = connection.CreateCommand();
            command.CommandText = "SELECT COUNT(*) FROM shortener_links";
            return Convert.ToInt64(await command.ExecuteScalarAsync(TestContext.Current.CancellationToken), System.Globalization.CultureInfo.InvariantCulture);
        }
    }
}
