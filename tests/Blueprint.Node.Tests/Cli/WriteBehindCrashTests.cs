using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;

namespace Blueprint.Node.Tests.Cli;

/// <summary>
/// The write-behind's loss window on a real node process (kv, sql, cache): after kill -9 the table holds exactly the
/// writes that were flushed, and the writes lost are exactly those acknowledged but still queued; after SIGTERM it
/// holds every acknowledged write.
/// </summary>
public sealed class WriteBehindCrashTests
{
    private const int Writes = 25;
    private const int BatchSizeMax = 10;
    private const int QueueCapacity = 1000;
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(60);

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Kill9_LosesExactlyTheAcknowledgedWritesStillQueued()
    {
        using var data = new TempDirectory("blueprint-write-behind-crash");
        await using (var node = await StartAsync(data.Path))
        {
            await WriteAllAsync(node.Client);
            // Two full batches are written at once; the last five wait for a flush delay of ten minutes.
            var queue = await Eventually.ValueAsync(
                () => QueueAsync(node.Client),
                stats => stats.GetProperty("flushed").GetInt64() == 2 * BatchSizeMax && stats.GetProperty("inFlight").GetInt32() == 0,
                Deadline, stats => $"queue: {stats}", Token);
            Assert.Equal(Writes - (2 * BatchSizeMax), queue.GetProperty("queueDepth").GetInt32());
            node.Process.Kill();
            await node.Process.WaitForExitAsync(Deadline);
        }

        await using var restarted = await StartAsync(data.Path);
        var persisted = await PersistedAsync(restarted.Client);
        Assert.Equal(Keys().Take(2 * BatchSizeMax), persisted);
        var lost = Keys().Except(persisted).ToList();
        Assert.Equal(Keys().Skip(2 * BatchSizeMax), lost);
        Assert.True(lost.Count <= QueueCapacity + BatchSizeMax, $"lost {lost.Count}, more than the stated bound");
        restarted.Process.Terminate();
        Assert.Equal(0, await restarted.Process.WaitForExitAsync(Deadline));
    }

    [Fact]
    public async Task Sigterm_FlushesEveryAcknowledgedWriteBeforeExiting()
    {
        using var data = new TempDirectory("blueprint-write-behind-stop");
        await using (var node = await StartAsync(data.Path))
        {
            await WriteAllAsync(node.Client);
            var queued = (await QueueAsync(node.Client)).GetProperty("queueDepth").GetInt32();
            Assert.True(queued > 0, "some writes should still be queued when the stop is asked for");
            node.Process.Terminate();
            Assert.Equal(0, await node.Process.WaitForExitAsync(Deadline));
        }

        await using var restarted = await StartAsync(data.Path);
        Assert.Equal(Keys(), await PersistedAsync(restarted.Client));
        restarted.Process.Terminate();
        Assert.Equal(0, await restarted.Process.WaitForExitAsync(Deadline));
    }

    private static IEnumerable<string> Keys() => Enumerable.Range(0, Writes).Select(i => $"k{i:D2}");

    private static async Task WriteAllAsync(HttpClient client)
    {
        foreach (var key in Keys())
        {
            using var response = await client.PutAsJsonAsync($"/cache/write-behind/items/{key}", new { value = $"value of {key}" }, Token);
            Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        }
    }

    private static async Task<JsonElement> QueueAsync(HttpClient client)
    {
        using var response = await client.GetAsync(new Uri("/cache/write-behind/stats", UriKind.Relative), Token);
        response.EnsureSuccessStatusCode();
        return JsonDocument.Parse(await response.Content.ReadAsStringAsync(Token)).RootElement.GetProperty("queue").Clone();
    }

    /// <summary>The keys the table holds, read with no cache in the way, each checked for its value.</summary>
    private static async Task<List<string>> PersistedAsync(HttpClient client)
    {
        var persisted = new List<string>();
        foreach (var key in Keys())
        {
            using var response = await client.GetAsync(new Uri($"/cache/db/items/{key}", UriKind.Relative), Token);
            if (response.StatusCode == HttpStatusCode.NotFound)
            {
                continue;
            }

            response.EnsureSuccessStatusCode();
            var item = JsonDocument.Parse(await response.Content.ReadAsStringAsync(Token)).RootElement;
            Assert.Equal($"value of {key}", item.GetProperty("value").GetString());
            persisted.Add(key);
        }

        return persisted;
    }

    private static async Task<RunningNode> StartAsync(string dataDir)
    {
        var httpPort = FreePorts.Next().ToString(CultureInfo.InvariantCulture);
        var process = NodeProcess.Start(
            ["run", "--modules", "kv,sql,cache", "--data-dir", dataDir, "--http-port", httpPort],
            dataDir,
            new Dictionary<string, string>
            {
                ["BLUEPRINT_Cache__Patterns__WriteBehindFlushMilliseconds"] = "600000",
                ["BLUEPRINT_Cache__Patterns__WriteBehindBatchSizeMax"] = BatchSizeMax.ToString(CultureInfo.InvariantCulture),
                ["BLUEPRINT_Cache__Patterns__WriteBehindQueueCapacity"] = QueueCapacity.ToString(CultureInfo.InvariantCulture),
            });
        try
        {
            await process.WaitForLineAsync(line => line.StartsWith("Press Ctrl-C", StringComparison.Ordinal), Deadline);
        }
        catch
        {
            await process.DisposeAsync();
            throw;
        }

        return new RunningNode(process, new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{httpPort}"), Timeout = Deadline });
    }

    private sealed record RunningNode(ProcessRunner Process, HttpClient Client) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync()
        {
            Client.Dispose();
            await Process.DisposeAsync();
        }
    }
}
