using System.Net;
using System.Net.Http.Json;
using System.Text.Json;

namespace Blueprint.Cache.Tests.Patterns;

/// <summary>The cache module's demo endpoints on a real node (kv, sql, cache): sources, counters, acknowledgements, problems.</summary>
public sealed class PatternEndpointTests
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(20);

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    private static Task<TestNode> StartAsync(Dictionary<string, string?>? settings = null) =>
        TestNode.StartAsync(settings: settings, cancellationToken: Token);

    [Fact]
    public async Task CacheAside_WriteThenTwoReads_FirstFromTheDatabaseThenFromTheCache()
    {
        await using var node = await StartAsync();
        using var put = await PutAsync(node, "cache-aside", "a", "one");
        Assert.Equal(HttpStatusCode.OK, put.StatusCode);
        Assert.Equal("database, cache key deleted", (await JsonAsync(put)).GetProperty("acknowledged").GetString());

        var first = await GetJsonAsync(node, "/cache/cache-aside/items/a");
        var second = await GetJsonAsync(node, "/cache/cache-aside/items/a");

        Assert.Equal(("one", "database"), (first.GetProperty("value").GetString(), first.GetProperty("source").GetString()));
        Assert.Equal(("one", "cache"), (second.GetProperty("value").GetString(), second.GetProperty("source").GetString()));
        var counters = (await GetJsonAsync(node, "/cache/cache-aside/stats")).GetProperty("counters");
        Assert.Equal((1, 1, 1, 1), (counters.GetProperty("databaseReads").GetInt64(), counters.GetProperty("databaseWrites").GetInt64(),
            counters.GetProperty("cacheHits").GetInt64(), counters.GetProperty("cacheMisses").GetInt64()));
    }

    [Fact]
    public async Task WriteThrough_Write_IsInTheTableWithAVersionAndInTheKv()
    {
        await using var node = await StartAsync();
        using (var first = await PutAsync(node, "write-through", "a", "one"))
        using (var second = await PutAsync(node, "write-through", "a", "two"))
        {
            Assert.Equal(HttpStatusCode.OK, second.StatusCode);
            Assert.Equal("database and cache", (await JsonAsync(second)).GetProperty("acknowledged").GetString());
        }

        var stored = await GetJsonAsync(node, "/cache/db/items/a");
        Assert.Equal(("two", 2), (stored.GetProperty("value").GetString(), stored.GetProperty("version").GetInt64()));
        var redis = (await node.RedisAsync()).GetDatabase();
        Assert.Equal("two", (string?)await redis.StringGetAsync("bp:cache:patterns:write-through:a"));
        Assert.InRange((await redis.KeyTimeToLiveAsync("bp:cache:patterns:write-through:a"))!.Value, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(60));
        var read = await GetJsonAsync(node, "/cache/write-through/items/a");
        Assert.Equal("cache", read.GetProperty("source").GetString());
    }

    [Fact]
    public async Task WriteBehind_Write_Is202CachedAtOnceAndInTheTableAfterTheFlush()
    {
        await using var node = await StartAsync(new() { ["Cache:Patterns:WriteBehindFlushMilliseconds"] = "50" });
        using var put = await PutAsync(node, "write-behind", "a", "one");
        Assert.Equal(HttpStatusCode.Accepted, put.StatusCode);
        Assert.Equal("cache and write-behind queue", (await JsonAsync(put)).GetProperty("acknowledged").GetString());
        Assert.Equal("cache", (await GetJsonAsync(node, "/cache/write-behind/items/a")).GetProperty("source").GetString());

        await Eventually.TrueAsync(async () =>
        {
            using var response = await node.Http.GetAsync(new Uri("/cache/db/items/a", UriKind.Relative), Token);
            return response.StatusCode == HttpStatusCode.OK;
        }, Deadline, () => "the write-behind never reached the table", Token);
        var stats = await GetJsonAsync(node, "/cache/write-behind/stats");
        Assert.Equal(1, stats.GetProperty("queue").GetProperty("flushed").GetInt64());
        Assert.Equal(0, stats.GetProperty("queue").GetProperty("queueDepth").GetInt32());
        Assert.Equal("Reject", stats.GetProperty("policy").GetProperty("fullPolicy").GetString());
        Assert.Equal(50, stats.GetProperty("policy").GetProperty("flushDelayMs").GetInt64());
    }

    [Fact]
    public async Task Delete_ThroughAPattern_LeavesNothingToRead()
    {
        await using var node = await StartAsync();
        using (await PutAsync(node, "read-through", "a", "one"))
        {
        }

        using var delete = await node.Http.DeleteAsync(new Uri("/cache/read-through/items/a", UriKind.Relative), Token);
        Assert.Equal(HttpStatusCode.OK, delete.StatusCode);
        using var read = await node.Http.GetAsync(new Uri("/cache/read-through/items/a", UriKind.Relative), Token);
        await AssertProblemAsync(read, HttpStatusCode.NotFound, "no item has the key 'a'");
    }

    [Fact]
    public async Task BadInput_IsProblemJsonWithTheReason()
    {
        await using var node = await StartAsync(new() { ["Cache:Patterns:ValueBytesMax"] = "8" });

        using (var unknown = await node.Http.GetAsync(new Uri("/cache/write-around/items/a", UriKind.Relative), Token))
        {
            await AssertProblemAsync(unknown, HttpStatusCode.NotFound, "use one of cache-aside, read-through, write-through, write-behind");
        }

        using (var badKey = await PutAsync(node, "cache-aside", "a%20b", "x"))
        {
            await AssertProblemAsync(badKey, HttpStatusCode.BadRequest, "a key is 1 to 128 characters");
        }

        using (var tooLarge = await PutAsync(node, "write-through", "a", "nine byte"))
        {
            await AssertProblemAsync(tooLarge, HttpStatusCode.RequestEntityTooLarge, "the value is 9 bytes of UTF-8; at most 8");
        }

        using (var noValue = await node.Http.PutAsJsonAsync("/cache/write-behind/items/a", new { other = 1 }, Token))
        {
            await AssertProblemAsync(noValue, HttpStatusCode.BadRequest, "needs a string 'value'");
        }

        using (var notJson = await node.Http.PutAsync(new Uri("/cache/write-behind/items/a", UriKind.Relative), new StringContent("value=1", System.Text.Encoding.UTF8, "application/json"), Token))
        {
            await AssertProblemAsync(notJson, HttpStatusCode.BadRequest, "not valid JSON");
        }

        // Nothing of the refused writes reached the table.
        using var stored = await node.Http.GetAsync(new Uri("/cache/db/items/a", UriKind.Relative), Token);
        Assert.Equal(HttpStatusCode.NotFound, stored.StatusCode);
    }

    [Fact]
    public async Task Options_Invalid_StopTheStartWithEveryProblem()
    {
        var error = await Assert.ThrowsAnyAsync<Exception>(() => StartAsync(new()
        {
            ["Cache:Patterns:WriteBehindQueueCapacity"] = "10",
            ["Cache:Patterns:WriteBehindBatchSizeMax"] = "20",
            ["Cache:Patterns:TtlSeconds"] = "0",
        }));

        Assert.Contains("Cache:Patterns:TtlSeconds = '0'", error.Message, StringComparison.Ordinal);
    }

    private static Task<HttpResponseMessage> PutAsync(TestNode node, string pattern, string key, string value) =>
        node.Http.PutAsJsonAsync($"/cache/{pattern}/items/{key}", new { value }, Token);

    private static async Task<JsonElement> GetJsonAsync(TestNode node, string path)
    {
        using var response = await node.Http.GetAsync(new Uri(path, UriKind.Relative), Token);
        Assert.True(response.IsSuccessStatusCode, $"{path}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync(Token)}");
        return await JsonAsync(response);
    }

    private static async Task<JsonElement> JsonAsync(HttpResponseMessage response) =>
        JsonDocument.Parse(await response.Content.ReadAsStringAsync(Token)).RootElement.Clone();

    private static async Task AssertProblemAsync(HttpResponseMessage response, HttpStatusCode status, string detailPart)
    {
        Assert.Equal(status, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var detail = (await JsonAsync(response)).GetProperty("detail").GetString();
        Assert.Contains(detailPart, detail, StringComparison.Ordinal);
    }
}
