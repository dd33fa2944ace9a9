using System.Net;
using Blueprint.Shortener.Caching;
using Blueprint.Shortener.Storage;

namespace Blueprint.Shortener.Tests;

/// <summary>Two nodes sharing one KV and one SQL database, as a cluster of shortener nodes behind a load balancer would.</summary>
public sealed class ClusterTests
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(10);

    private static async Task<(ShortenerHarness A, ShortenerHarness B)> StartPairAsync()
    {
        var a = await ShortenerHarness.StartAsync();
        try
        {
            var b = await ShortenerHarness.StartAsync(new Dictionary<string, string?>
            {
                ["Kv:ConnectionString"] = a.Node.RespEndpoint,
                ["Sql:ConnectionString"] = $"Data Source={Path.Combine(a.Node.DataDir, "sql", "blueprint.db")}",
            });
            return (a, b);
        }
        catch
        {
            await a.DisposeAsync();
            throw;
        }
    }

    [Fact]
    public async Task Hundred_thousand_creations_from_two_nodes_at_once_give_distinct_codes()
    {
        var (a, b) = await StartPairAsync();
        await using (a)
        await using (b)
        {
            const int PerNode = 50_000;
            const int Workers = 8;
            async Task<List<string>> CreateManyAsync(ShortenerHarness node, string tag)
            {
                var service = node.Get<ShortenerService>();
                var lists = await Task.WhenAll(Enumerable.Range(0, Workers).Select(worker => Task.Run(async () =>
                {
                    var codes = new List<string>(PerNode / Workers);
                    for (var i = 0; i < PerNode / Workers; i++)
                    {
                        var (link, error, reason) = await service.CreateAsync(
                            new CreateLink($"https://example.com/{tag}/{worker}/{i}", null, null, 302, null), TestContext.Current.CancellationToken);
                        Assert.True(error == CreateError.None, reason);
                        codes.Add(link!.Code);
                    }

                    return codes;
                })));
                return lists.SelectMany(list => list).ToList();
            }

            var both = await Task.WhenAll(CreateManyAsync(a, "a"), CreateManyAsync(b, "b"));
            var all = both.SelectMany(list => list).ToList();
            Assert.Equal(2 * PerNode, all.Count);
            Assert.Equal(all.Count, all.Distinct(StringComparer.Ordinal).Count());
            Assert.All(all, code => Assert.Matches("^[0-9A-Za-z]{7}$", code));
            Assert.Equal(2 * PerNode, await a.Get<LinkStore>().CountAsync(TestContext.Current.CancellationToken));
            Assert.Equal(2 * PerNode, await b.Get<LinkStore>().CountAsync(TestContext.Current.CancellationToken));
        }
    }

    [Fact]
    public async Task An_alias_race_between_two_nodes_has_exactly_one_winner()
    {
        var (a, b) = await StartPairAsync();
        await using (a)
        await using (b)
        {
            for (var round = 0; round < 20; round++)
            {
                var alias = $"race-{round}";
                var responses = await Task.WhenAll(
                    a.PostAsync(new { url = "https://example.com/from-a", alias }),
                    b.PostAsync(new { url = "https://example.com/from-b", alias }));
                var statuses = responses.Select(response => response.StatusCode).Order().ToArray();
                Assert.Equal([HttpStatusCode.Created, HttpStatusCode.Conflict], statuses);
                var winner = responses[0].StatusCode == HttpStatusCode.Created ? "https://example.com/from-a" : "https://example.com/from-b";
                foreach (var response in responses)
                {
                    response.Dispose();
                }

                // Both nodes redirect to the winner's target.
                Assert.Equal(winner, (await a.FollowOnceAsync(alias)).Location);
                Assert.Equal(winner, (await EventuallyAsync(b, alias, status => status == HttpStatusCode.Found)).Location);
            }
        }
    }

    [Fact]
    public async Task A_delete_on_one_node_stops_redirects_on_the_other()
    {
        var (a, b) = await StartPairAsync();
        await using (a)
        await using (b)
        {
            var code = await a.CreateAsync(new { url = "https://example.com/doomed" });
            // B learns of the new code through pub/sub (its Bloom filter), then caches it near.
            await EventuallyAsync(b, code, status => status == HttpStatusCode.Found);
            Assert.Equal((HttpStatusCode.Found, "https://example.com/doomed"), await b.FollowOnceAsync(code));

            using (var deleted = await a.Client.DeleteAsync($"/api/links/{code}", TestContext.Current.CancellationToken))
            {
                Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
            }

            Assert.Equal(HttpStatusCode.NotFound, (await a.FollowOnceAsync(code)).Status);
            await EventuallyAsync(b, code, status => status == HttpStatusCode.NotFound);
            Assert.Equal(HttpStatusCode.NotFound, (await b.FollowOnceAsync(code)).Status);
        }
    }

    [Fact]
    public async Task Without_the_invalidation_message_the_other_node_would_serve_a_stale_link()
    {
        // The control for the test above: a delete made behind the module's back (SQL only, no
        // message) leaves the other node's near cache serving the link, so that test can fail.
        var (a, b) = await StartPairAsync();
        await using (a)
        await using (b)
        {
            var code = await a.CreateAsync(new { url = "https://example.com/stale" });
            await EventuallyAsync(b, code, status => status == HttpStatusCode.Found);
            Assert.True(await a.Get<LinkStore>().DeleteAsync(code, TestContext.Current.CancellationToken));
            Assert.Equal((HttpStatusCode.Found, "https://example.com/stale"), await b.FollowOnceAsync(code));
            Assert.True(b.Get<LinkCache>().Bloom.Contains(code));
        }
    }

    private static Task<(HttpStatusCode Status, string? Location)> EventuallyAsync(ShortenerHarness node, string code, Func<HttpStatusCode, bool> condition) =>
        Eventually.ValueAsync(
            () => node.FollowOnceAsync(code),
            answer => condition(answer.Status),
            Deadline,
            answer => $"{code} still answered {(int)answer.Status}",
            TestContext.Current.CancellationToken);
}
