using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Blueprint.Shortener.Caching;
using Blueprint.Shortener.Clicks;
using Microsoft.Extensions.Time.Testing;

namespace Blueprint.Shortener.Tests;

/// <summary>The shortener end to end on one node: create, redirect, expire, delete, stats, pages, bad input.</summary>
public sealed class ShortenerApiTests
{
    private static readonly DateTimeOffset Start = new(2026, 11, 28, 10, 0, 0, TimeSpan.Zero);

    [Fact]
    public async Task A_created_link_redirects_and_reads_back()
    {
        await using var shortener = await ShortenerHarness.StartAsync();
        using var response = await shortener.PostAsync(new { url = "https://example.com/a?q=1" });
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken)).RootElement;
        var code = json.GetProperty("code").GetString()!;
        Assert.Matches("^[0-9A-Za-z]{7}$", code);
        Assert.Equal($"{shortener.Node.Node.HttpAddress.ToString().TrimEnd('/')}/{code}", json.GetProperty("shortUrl").GetString());
        Assert.Equal("https://example.com/a?q=1", json.GetProperty("url").GetString());
        Assert.Equal(JsonValueKind.Null, json.GetProperty("expiresAt").ValueKind);

        Assert.Equal((HttpStatusCode.Found, "https://example.com/a?q=1"), await shortener.FollowOnceAsync(code));
        // Again, now from the near cache.
        Assert.Equal((HttpStatusCode.Found, "https://example.com/a?q=1"), await shortener.FollowOnceAsync(code));
        using var head = await shortener.Client.SendAsync(new HttpRequestMessage(HttpMethod.Head, "/" + code), TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.Found, head.StatusCode);

        var read = await shortener.Client.GetFromJsonAsync<JsonElement>($"/api/links/{code}", TestContext.Current.CancellationToken);
        Assert.Equal("https://example.com/a?q=1", read.GetProperty("url").GetString());
        Assert.Equal(302, read.GetProperty("redirectType").GetInt32());
    }

    [Fact]
    public async Task An_alias_with_301_redirects_permanently_and_a_taken_alias_is_409()
    {
        await using var shortener = await ShortenerHarness.StartAsync();
        Assert.Equal("launch-2026", await shortener.CreateAsync(new { url = "https://example.com/launch", alias = "launch-2026", redirectType = 301 }));
        Assert.Equal((HttpStatusCode.MovedPermanently, "https://example.com/launch"), await shortener.FollowOnceAsync("launch-2026"));

        using var again = await shortener.PostAsync(new { url = "https://example.com/other", alias = "launch-2026" });
        Assert.Equal(HttpStatusCode.Conflict, again.StatusCode);
        Assert.Contains("taken", await ShortenerHarness.DetailAsync(again), StringComparison.Ordinal);
        Assert.Equal((HttpStatusCode.MovedPermanently, "https://example.com/launch"), await shortener.FollowOnceAsync("launch-2026"));
    }

    [Fact]
    public async Task Unknown_codes_are_404_and_the_Bloom_filter_answers_them_without_the_KV()
    {
        await using var shortener = await ShortenerHarness.StartAsync();
        var redis = (await shortener.Node.RedisAsync()).GetDatabase();
        Assert.Equal(HttpStatusCode.NotFound, (await shortener.FollowOnceAsync("zzzzzzz")).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await shortener.FollowOnceAsync("no.such")).Status);
        Assert.False(await redis.KeyExistsAsync("bp:short:link:zzzzzzz"), "the Bloom filter should have answered without touching the KV");

        // A code the filter wrongly thinks exists (a false positive) falls through to SQL and is cached as missing.
        shortener.Get<LinkCache>().Bloom.Add("ghost42");
        Assert.Equal(HttpStatusCode.NotFound, (await shortener.FollowOnceAsync("ghost42")).Status);
        Assert.Equal("!", (string?)await redis.StringGetAsync("bp:short:link:ghost42"));
    }

    [Fact]
    public async Task A_late_negative_fill_cannot_hide_a_link_created_meanwhile()
    {
        // A reader that found nothing in SQL just before the create fills the KV with "missing" (SET NX)
        // just after it. The create wrote the link itself, so that fill fails and the link redirects.
        await using var shortener = await ShortenerHarness.StartAsync(new Dictionary<string, string?> { ["Shortener:NearCacheSize"] = "0" });
        var redis = (await shortener.Node.RedisAsync()).GetDatabase();
        var code = await shortener.CreateAsync(new { url = "https://example.com/fresh", alias = "fresh-one" });
        Assert.False(await redis.StringSetAsync("bp:short:link:" + code, "!", TimeSpan.FromSeconds(30), StackExchange.Redis.When.NotExists));
        Assert.Equal((HttpStatusCode.Found, "https://example.com/fresh"), await shortener.FollowOnceAsync(code));
    }

    [Fact]
    public async Task Without_the_KV_redirects_are_answered_from_SQL()
    {
        await using var redis = await RedisServerPeer.StartAsync();
        await using var shortener = await ShortenerHarness.StartAsync(new Dictionary<string, string?>
        {
            ["Kv:ConnectionString"] = redis.Endpoint,
            ["Shortener:NearCacheSize"] = "0",
        });
        var code = await shortener.CreateAsync(new { url = "https://example.com/resilient" });
        await redis.DisposeAsync(); // the KV is gone
        Assert.Equal((HttpStatusCode.Found, "https://example.com/resilient"), await shortener.FollowOnceAsync(code));
        Assert.Equal(HttpStatusCode.NotFound, (await shortener.FollowOnceAsync("zzzzzzz")).Status);
    }

    [Fact]
    public async Task A_link_expires_with_410_even_from_the_near_cache()
    {
        var time = new FakeTimeProvider(Start);
        await using var shortener = await ShortenerHarness.StartAsync(time: time);
        var code = await shortener.CreateAsync(new { url = "https://example.com/sale", expiresAt = Start.AddHours(1) });
        Assert.Equal(HttpStatusCode.Found, (await shortener.FollowOnceAsync(code)).Status);
        time.Advance(TimeSpan.FromMinutes(59));
        Assert.Equal(HttpStatusCode.Found, (await shortener.FollowOnceAsync(code)).Status);
        time.Advance(TimeSpan.FromMinutes(1));
        Assert.Equal(HttpStatusCode.Gone, (await shortener.FollowOnceAsync(code)).Status);

        using var past = await shortener.PostAsync(new { url = "https://example.com/late", expiresAt = Start });
        Assert.Equal(HttpStatusCode.BadRequest, past.StatusCode);
        Assert.Equal("expiresAt must be in the future", await ShortenerHarness.DetailAsync(past));
    }

    [Fact]
    public async Task A_deleted_link_stops_redirecting_and_its_alias_can_be_used_again()
    {
        await using var shortener = await ShortenerHarness.StartAsync();
        var code = await shortener.CreateAsync(new { url = "https://example.com/old", alias = "reuse-me" });
        Assert.Equal(HttpStatusCode.Found, (await shortener.FollowOnceAsync(code)).Status);
        using (var deleted = await shortener.Client.DeleteAsync($"/api/links/{code}", TestContext.Current.CancellationToken))
        {
            Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        }

        Assert.Equal(HttpStatusCode.NotFound, (await shortener.FollowOnceAsync(code)).Status);
        using (var again = await shortener.Client.DeleteAsync($"/api/links/{code}", TestContext.Current.CancellationToken))
        {
            Assert.Equal(HttpStatusCode.NotFound, again.StatusCode);
        }

        await shortener.CreateAsync(new { url = "https://example.com/new", alias = "reuse-me" });
        Assert.Equal((HttpStatusCode.Found, "https://example.com/new"), await shortener.FollowOnceAsync("reuse-me"));
    }

    [Fact]
    public async Task Stats_count_clicks_per_day_referrer_and_agent_with_unique_visitors()
    {
        var time = new FakeTimeProvider(Start);
        await using var shortener = await ShortenerHarness.StartAsync(time: time);
        var code = await shortener.CreateAsync(new { url = "https://example.com/stats" });
        const string Chrome = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36";
        await shortener.FollowOnceAsync(code, "https://www.google.com/search?q=x", Chrome);
        await shortener.FollowOnceAsync(code, "https://news.ycombinator.com/item?id=1", Chrome);
        await shortener.FollowOnceAsync(code, "https://www.google.com/", "curl/8.5.0");
        time.Advance(TimeSpan.FromDays(1));
        await shortener.FollowOnceAsync(code, null, "curl/8.5.0");
        using (var head = await shortener.Client.SendAsync(new HttpRequestMessage(HttpMethod.Head, "/" + code), TestContext.Current.CancellationToken))
        {
            Assert.Equal(HttpStatusCode.Found, head.StatusCode); // not a click
        }

        await shortener.Get<ClickRecorder>().FlushAsync(TestContext.Current.CancellationToken);
        var stats = await shortener.Client.GetFromJsonAsync<JsonElement>($"/api/links/{code}/stats", TestContext.Current.CancellationToken);
        Assert.Equal(4, stats.GetProperty("totalClicks").GetInt64());
        Assert.Equal(2, stats.GetProperty("uniqueVisitors").GetInt64()); // one address, two user agents
        Assert.Equal(
            [("2026-11-28", 3L), ("2026-11-29", 1L)],
            stats.GetProperty("clicksPerDay").EnumerateArray().Select(day => (day.GetProperty("day").GetString(), day.GetProperty("clicks").GetInt64())).ToArray());
        Assert.Equal(
            [("google.com", 2L), ("(direct)", 1L), ("news.ycombinator.com", 1L)],
            stats.GetProperty("topReferrers").EnumerateArray().Select(r => (r.GetProperty("referrer").GetString(), r.GetProperty("clicks").GetInt64())).ToArray());
        Assert.Equal(
            [("Chrome", 2L), ("curl", 2L)],
            stats.GetProperty("userAgents").EnumerateArray().Select(r => (r.GetProperty("family").GetString(), r.GetProperty("clicks").GetInt64())).ToArray());
    }

    [Fact]
    public async Task Clicks_beyond_the_buffer_are_dropped_and_counted_not_waited_for()
    {
        await using var shortener = await ShortenerHarness.StartAsync(new Dictionary<string, string?>
        {
            ["Shortener:ClickBufferSize"] = "2",
            ["Shortener:ClickFlushMilliseconds"] = "60000",
        });
        var code = await shortener.CreateAsync(new { url = "https://example.com/busy" });
        var recorder = shortener.Get<ClickRecorder>();
        for (var i = 0; i < 5; i++)
        {
            Assert.Equal(HttpStatusCode.Found, (await shortener.FollowOnceAsync(code)).Status);
        }

        // The writer wakes once a minute here: the first two clicks wait, the other three were dropped.
        Assert.Equal(2, recorder.Pending);
        Assert.Equal(3, recorder.Dropped);
        await recorder.FlushAsync(TestContext.Current.CancellationToken);
        Assert.Equal(0, recorder.Pending);
        var stats = await shortener.Client.GetFromJsonAsync<JsonElement>($"/api/links/{code}/stats", TestContext.Current.CancellationToken);
        Assert.Equal(2, stats.GetProperty("totalClicks").GetInt64());
    }

    [Fact]
    public async Task Pages_walk_every_link_once_in_code_order()
    {
        await using var shortener = await ShortenerHarness.StartAsync();
        var created = new List<string>();
        for (var i = 0; i < 25; i++)
        {
            created.Add(await shortener.CreateAsync(new { url = $"https://example.com/{i}" }));
        }

        var seen = new List<string>();
        string? cursor = null;
        var pages = 0;
        do
        {
            var page = await shortener.Client.GetFromJsonAsync<JsonElement>(
                cursor is null ? "/api/links?limit=10" : $"/api/links?limit=10&cursor={cursor}", TestContext.Current.CancellationToken);
            seen.AddRange(page.GetProperty("items").EnumerateArray().Select(item => item.GetProperty("code").GetString()!));
            cursor = page.GetProperty("nextCursor").GetString();
            pages++;
        }
        while (cursor is not null && pages < 10);

        Assert.Equal(3, pages);
        Assert.Equal(created.Order(StringComparer.Ordinal), seen);

        using var bad = await shortener.Client.GetAsync("/api/links?limit=0", TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        Assert.Equal("limit must be from 1 to 1000", await ShortenerHarness.DetailAsync(bad));
    }

    [Fact]
    public async Task Management_needs_a_key_of_this_node()
    {
        await using var shortener = await ShortenerHarness.StartAsync();
        var code = await shortener.CreateAsync(new { url = "https://example.com/k" });
        using var anonymous = new HttpClient { BaseAddress = shortener.Node.Node.HttpAddress };
        using var wrongKey = new HttpClient { BaseAddress = shortener.Node.Node.HttpAddress };
        wrongKey.DefaultRequestHeaders.Add("X-Api-Key", "bpk_" + new string('x', 40));
        foreach (var client in new[] { anonymous, wrongKey })
        {
            using var create = await client.PostAsJsonAsync("/api/links", new { url = "https://example.com/x" }, TestContext.Current.CancellationToken);
            Assert.Equal(HttpStatusCode.Unauthorized, create.StatusCode);
            Assert.Contains("X-Api-Key", await ShortenerHarness.DetailAsync(create), StringComparison.Ordinal);
            using var read = await client.GetAsync($"/api/links/{code}", TestContext.Current.CancellationToken);
            Assert.Equal(HttpStatusCode.Unauthorized, read.StatusCode);
            using var delete = await client.DeleteAsync($"/api/links/{code}", TestContext.Current.CancellationToken);
            Assert.Equal(HttpStatusCode.Unauthorized, delete.StatusCode);
            using var list = await client.GetAsync("/api/links", TestContext.Current.CancellationToken);
            Assert.Equal(HttpStatusCode.Unauthorized, list.StatusCode);
        }

        using var bearer = new HttpClient { BaseAddress = shortener.Node.Node.HttpAddress };
        bearer.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", shortener.Key);
        using var ok = await bearer.GetAsync($"/api/links/{code}", TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
    }

    [Theory]
    [InlineData("kv,sql,shortener")]
    [InlineData("kv,sql,ratelimit,shortener")]
    public async Task Anonymous_creation_when_enabled_is_limited_per_client(string modules)
    {
        await using var shortener = await ShortenerHarness.StartAsync(new Dictionary<string, string?>
        {
            ["Shortener:AllowAnonymous"] = "true",
            ["Shortener:AnonymousCreatesPerMinute"] = "3",
        }, modules: modules);
        using var anonymous = new HttpClient { BaseAddress = shortener.Node.Node.HttpAddress };
        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < 4; i++)
        {
            using var response = await anonymous.PostAsJsonAsync("/api/links", new { url = $"https://example.com/anon/{i}" }, TestContext.Current.CancellationToken);
            statuses.Add(response.StatusCode);
            if (response.StatusCode == HttpStatusCode.TooManyRequests)
            {
                Assert.True(response.Headers.RetryAfter?.Delta > TimeSpan.Zero);
            }
        }

        Assert.Equal([HttpStatusCode.Created, HttpStatusCode.Created, HttpStatusCode.Created, HttpStatusCode.TooManyRequests], statuses);
        // A key is not limited.
        await shortener.CreateAsync(new { url = "https://example.com/keyed" });
    }

    [Fact]
    public async Task Bad_requests_get_400_with_the_reason()
    {
        await using var shortener = await ShortenerHarness.StartAsync(new Dictionary<string, string?>
        {
            ["Shortener:BlockedDomains:0"] = "evil.example",
        });
        var self = shortener.Node.Node.HttpAddress.ToString().TrimEnd('/');
        var cases = new (object Body, string Reason)[]
        {
            (new { url = "javascript:alert(1)" }, "scheme 'javascript' is not allowed"),
            (new { url = "ftp://example.com/f" }, "scheme 'ftp' is not allowed"),
            (new { url = "/relative" }, "absolute"),
            (new { url = "https://user:secret@example.com/" }, "credentials"),
            (new { url = "https://example.com/" + new string('a', 2048) }, "2048"),
            (new { url = $"{self}/loop" }, "this shortener"),
            (new { url = "https://cdn.evil.example/x" }, "blocked"),
            (new { url = "https://example.com/", alias = "api" }, "reserved"),
            (new { url = "https://example.com/", alias = "a/b" }, "only letters"),
            (new { url = "https://example.com/", alias = "ab" }, "3 to 64"),
            (new { url = "https://example.com/", redirectType = 303 }, "redirectType must be 301 or 302"),
            (new { alias = "nourl" }, "url is required"),
        };
        foreach (var (body, reason) in cases)
        {
            using var response = await shortener.PostAsync(body);
            Assert.True(response.StatusCode == HttpStatusCode.BadRequest, $"{JsonSerializer.Serialize(body)} → {(int)response.StatusCode}");
            Assert.Contains(reason, await ShortenerHarness.DetailAsync(response), StringComparison.Ordinal);
        }

        using (var notJson = await shortener.Client.PostAsync("/api/links", new StringContent("{\"url\":", Encoding.UTF8, "application/json"), TestContext.Current.CancellationToken))
        {
            Assert.Equal(HttpStatusCode.BadRequest, notJson.StatusCode);
            Assert.StartsWith("the body is not a valid link request", await ShortenerHarness.DetailAsync(notJson), StringComparison.Ordinal);
        }

        using (var huge = await shortener.Client.PostAsync("/api/links", new StringContent($"{{\"url\":\"https://example.com/{new string('a', 20_000)}\"}}", Encoding.UTF8, "application/json"), TestContext.Current.CancellationToken))
        {
            Assert.Equal(HttpStatusCode.RequestEntityTooLarge, huge.StatusCode);
        }

        // Nothing was stored by any of them.
        var page = await shortener.Client.GetFromJsonAsync<JsonElement>("/api/links", TestContext.Current.CancellationToken);
        Assert.Equal(0, page.GetProperty("items").GetArrayLength());
    }

    [Fact]
    public async Task Links_survive_a_restart_and_the_Bloom_filter_is_rebuilt()
    {
        using var directory = new TempDirectory("shortener-restart");
        string code;
        string key;
        await using (var first = await ShortenerHarness.StartAsync(dataDir: directory.Path))
        {
            code = await first.CreateAsync(new { url = "https://example.com/durable" });
            await first.CreateAsync(new { url = "https://example.com/alias", alias = "kept" });
            key = first.Key;
        }

        await using var second = await ShortenerHarness.StartAsync(dataDir: directory.Path);
        Assert.True(second.Get<LinkCache>().Bloom.Contains(code));
        Assert.True(second.Get<LinkCache>().Bloom.Contains("kept"));
        Assert.Equal((HttpStatusCode.Found, "https://example.com/durable"), await second.FollowOnceAsync(code));
        Assert.Equal((HttpStatusCode.Found, "https://example.com/alias"), await second.FollowOnceAsync("kept"));

        // The first run's key still works, and new codes do not reuse old IDs.
        using var client = new HttpClient { BaseAddress = second.Node.Node.HttpAddress };
        client.DefaultRequestHeaders.Add("X-Api-Key", key);
        using var response = await client.GetAsync($"/api/links/{code}", TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var next = await second.CreateAsync(new { url = "https://example.com/next" });
        Assert.NotEqual(code, next);
    }
}
