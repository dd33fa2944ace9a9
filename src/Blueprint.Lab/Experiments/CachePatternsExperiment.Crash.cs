using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Blueprint.Lab.Experiments.Messaging;
using Blueprint.Lab.Processes;
using Microsoft.Data.Sqlite;

namespace Blueprint.Lab.Experiments;

/// <summary>Write-behind's loss window on a node killed with SIGKILL.</summary>
public sealed partial class CachePatternsExperiment
{
    /// <summary>The node's write-behind batch: written at once when full.</summary>
    private const int CrashBatchSizeMax = 100;

    /// <summary>The node's write-behind queue.</summary>
    private const int CrashQueueCapacity = 10_000;

    /// <summary>The node's flush delay: what a crash right after a burst of writes loses at most.</summary>
    private const int CrashFlushMilliseconds = 1000;

    /// <summary>
    /// Starts a <c>kv,sql,cache</c> node, acknowledges writes through <c>PUT /cache/write-behind/items/{key}</c> (202),
    /// reads the queue's counters, kills the node with SIGKILL and reads its SQLite file: which acknowledged writes
    /// survived.
    /// </summary>
    private static async Task<CrashRun> CrashAsync(ExperimentOptions options, int writes)
    {
        using KvNodeProcess node = await KvNodeProcess.StartAsync(options.Environment, "kv,sql,cache", new Dictionary<string, string>
        {
            ["BLUEPRINT_Cache__Patterns__WriteBehindFlushMilliseconds"] = CrashFlushMilliseconds.ToString(CultureInfo.InvariantCulture),
            ["BLUEPRINT_Cache__Patterns__WriteBehindBatchSizeMax"] = CrashBatchSizeMax.ToString(CultureInfo.InvariantCulture),
            ["BLUEPRINT_Cache__Patterns__WriteBehindQueueCapacity"] = CrashQueueCapacity.ToString(CultureInfo.InvariantCulture),
        }, CancellationToken.None).ConfigureAwait(false);
        using HttpClient client = new() { BaseAddress = new Uri($"http://127.0.0.1:{node.HttpPort.ToString(CultureInfo.InvariantCulture)}"), Timeout = TimeSpan.FromSeconds(30) };
        HashSet<string> acknowledged = new(StringComparer.Ordinal);
        for (int i = 0; i < writes; i++)
        {
            string key = $"crash:{i.ToString(CultureInfo.InvariantCulture)}";
            using HttpResponseMessage response = await client.PutAsJsonAsync($"/cache/write-behind/items/{key}", new { value = key }).ConfigureAwait(false);
            if (response.StatusCode == HttpStatusCode.Accepted)
            {
                _ = acknowledged.Add(key);
            }
        }

        using HttpResponseMessage statsResponse = await client.GetAsync(new Uri("/cache/write-behind/stats", UriKind.Relative)).ConfigureAwait(false);
        _ = statsResponse.EnsureSuccessStatusCode();
        using JsonDocument stats = JsonDocument.Parse(await statsResponse.Content.ReadAsStringAsync().ConfigureAwait(false));
        JsonElement queue = stats.RootElement.GetProperty("queue");
        long flushedBeforeKill = queue.GetProperty("flushed").GetInt64();
        int unflushedBeforeKill = queue.GetProperty("queueDepth").GetInt32() + queue.GetProperty("inFlight").GetInt32();
        node.Crash();

        // SQLite recovers the file from its WAL on open, as the restarted node would.
        HashSet<string> persisted = new(StringComparer.Ordinal);
        await using (SqliteConnection connection = new(new SqliteConnectionStringBuilder { DataSource = node.SqlitePath, Mode = SqliteOpenMode.ReadWrite, Pooling = false }.ToString()))
        {
            await connection.OpenAsync().ConfigureAwait(false);
            await using SqliteCommand command = connection.CreateCommand();
            command.CommandText = "SELECT item_key, item_value FROM cache_demo_items";
            await using SqliteDataReader reader = await command.ExecuteReaderAsync().ConfigureAwait(false);
            while (await reader.ReadAsync().ConfigureAwait(false))
            {
                RunInvariant.Holds(reader.GetString(0) == reader.GetString(1), $"the table holds '{reader.GetString(1)}' for '{reader.GetString(0)}'");
                _ = persisted.Add(reader.GetString(0));
            }
        }

        return new CrashRun(writes, acknowledged.Count, flushedBeforeKill, unflushedBeforeKill, persisted.Count, acknowledged.Except(persisted).Count(), persisted.Except(acknowledged).Count());
    }

    /// <summary>What a crash did to acknowledged writes.</summary>
    /// <param name="Sent">Writes sent.</param>
    /// <param name="Acknowledged">Writes answered 202.</param>
    /// <param name="FlushedBeforeKill">Records the node said it had flushed, read after the last write and just before the kill.</param>
    /// <param name="UnflushedBeforeKill">Records queued or in flight at that moment: the most the crash may lose.</param>
    /// <param name="Persisted">Records in the table after the crash.</param>
    /// <param name="Lost">Acknowledged writes not in the table.</param>
    /// <param name="Unacknowledged">Records in the table that were never acknowledged (must be none).</param>
    private sealed record CrashRun(int Sent, int Acknowledged, long FlushedBeforeKill, int UnflushedBeforeKill, int Persisted, int Lost, int Unacknowledged);
}
