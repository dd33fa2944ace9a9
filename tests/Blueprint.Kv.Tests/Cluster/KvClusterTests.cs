using System.Globalization;
using StackExchange.Redis;

namespace Blueprint.Kv.Tests.Cluster;

/// <summary>
/// The kv module as a Redis Cluster of three node processes, driven by clients nobody here wrote: redis-cli in cluster
/// mode and StackExchange.Redis, while a node is added and slots move, and while a primary is killed.
/// </summary>
[Trait("Category", "Cluster")]
public sealed class KvClusterTests
{
    [Fact]
    public async Task RedisCli_FollowsMoved_AndClusterSlotsListsThreeShards()
    {
        await using var cluster = await KvClusterProcesses.StartAsync();

        // Keys in the three shards' slots (foo 12182, bar 5061, hello 866), written and read through node 2 only.
        string[] keys = ["foo", "bar", "hello", "{user:1}:name", "counter"];
        foreach (var key in keys)
        {
            Assert.Equal("OK", await RedisCliAsync(cluster.RespPort(2), "-c", "set", key, "value-of-" + key));
        }

        foreach (var key in keys)
        {
            Assert.Equal("value-of-" + key, await RedisCliAsync(cluster.RespPort(3), "-c", "get", key));
        }

        // Without -c the client sees the redirection itself.
        var owner = await RedisCliAsync(cluster.RespPort(1), "cluster", "keyslot", "foo");
        Assert.Equal("12182", owner);
        Assert.StartsWith("MOVED 12182 127.0.0.1:", await RedisCliAsync(cluster.RespPort(1), "get", "foo"), StringComparison.Ordinal);

        // CLUSTER SLOTS: three ranges covering every slot, each with a primary and a replica on another node.
        var client = await cluster.ConnectClientAsync();
        await using (client)
        {
            var slots = (RedisResult[])(await client.GetServer("127.0.0.1", cluster.RespPort(1)).ExecuteAsync("CLUSTER", "SLOTS"))!;
            Assert.Equal(3, slots.Length);
            Assert.Equal(16_384, slots.Sum(range => (int)((RedisResult[])range!)[1] - (int)((RedisResult[])range!)[0] + 1));
            foreach (var range in slots.Select(range => (RedisResult[])range!))
            {
                Assert.Equal(4, range.Length); // start, end, primary, one replica
                var primaryPort = (int)((RedisResult[])range[2]!)[1];
                var replicaPort = (int)((RedisResult[])range[3]!)[1];
                var primaryNode = Enumerable.Range(1, 3).Single(node => cluster.RespPort(node) == primaryPort);
                Assert.Equal(cluster.ReplicaPort(primaryNode == 1 ? 3 : primaryNode - 1), replicaPort);
            }
        }
    }

    [Fact]
    public async Task KilledPrimary_IsReplacedByItsReplica_AndTheClientRecovers()
    {
        await using var cluster = await KvClusterProcesses.StartAsync();
        await using var client = await cluster.ConnectClientAsync();
        var database = client.GetDatabase();
        const int KeyCount = 300;
        var values = new string[KeyCount];
        for (var i = 0; i < KeyCount; i++)
        {
            values[i] = $"value-{i.ToString(CultureInfo.InvariantCulture)}";
            Assert.True(await database.StringSetAsync($"key:{i.ToString(CultureInfo.InvariantCulture)}", values[i]));
        }

        // Replication is asynchronous, as in Redis Cluster: wait until node 1's replica (on node 3) holds what it holds.
        var replicaOfOne = cluster.ReplicaPort(3);
        await Eventually.TrueAsync(
            async () => await KvClusterProcesses.DbSizeAsync(cluster.RespPort(1)) is var size and > 0 && size == await KvClusterProcesses.DbSizeAsync(replicaOfOne),
            KvClusterProcesses.Deadline,
            () => "node 1's replica never caught up",
            TestContext.Current.CancellationToken);

        cluster.Kill(1);
        // Node 1's own replica server died with it; node 3's replica server now serves node 1's slots.
        await cluster.WaitFormedAsync(primaries: 3, replicas: 1, askNode: 2);
        var promoted = (await cluster.NodesAsync(2)).Single(node => node.Endpoint.Port == replicaOfOne);
        Assert.True(promoted.IsPrimary && promoted.SlotCount == 5_461, $"node 1's replica did not take its slots: {promoted}");

        // The client recovers: every key reads its last acknowledged value, and writes work again.
        await Eventually.TrueAsync(
            async () =>
            {
                try
                {
                    for (var i = 0; i < KeyCount; i++)
                    {
                        if (await database.StringGetAsync($"key:{i.ToString(CultureInfo.InvariantCulture)}") != values[i])
                        {
                            return false;
                        }
                    }

                    return await database.StringSetAsync("after-failover", "yes");
                }
                catch (RedisException)
                {
                    return false;
                }
            },
            KvClusterProcesses.Deadline,
            () => "the client did not recover after the failover",
            TestContext.Current.CancellationToken);
    }

    /// <summary>
    /// Known gap: with Garnet 2.2.8 under client load, a bystander's slot map does not always converge after the moves and a
    /// server sometimes stops answering (even PING), so this test runs only with BLUEPRINT_KV_REBALANCE_TESTS=1 until that
    /// is solved (docs/cache.md).
    /// </summary>
    [Fact]
    public async Task AddedNode_TakesSlotsWithTheirKeys_WhileClientsWork()
    {
        Assert.SkipUnless(Environment.GetEnvironmentVariable("BLUEPRINT_KV_REBALANCE_TESTS") == "1", "rebalancing under load runs with BLUEPRINT_KV_REBALANCE_TESTS=1 (a known Garnet migration hang, docs/cache.md)");
        await using var cluster = await KvClusterProcesses.StartAsync();
        await using var client = await cluster.ConnectClientAsync();
        var database = client.GetDatabase();
        const int KeyCount = 300;
        var values = new string[KeyCount];

        // One writer per key set: each SET is followed by a GET of the same key, which must return that acknowledged write.
        using var stop = new CancellationTokenSource();
        var wrong = new List<string>();
        var failures = 0;
        var lastFailure = "";
        var operations = 0;
        var writer = Task.Run(
            async () =>
        {
            for (var round = 0; !stop.IsCancellationRequested; round++)
            {
                for (var i = 0; i < KeyCount && !stop.IsCancellationRequested; i++)
                {
                    var key = $"key:{i.ToString(CultureInfo.InvariantCulture)}";
                    var value = $"round-{round.ToString(CultureInfo.InvariantCulture)}";
                    try
                    {
                        await database.StringSetAsync(key, value);
                        values[i] = value;
                        var read = await database.StringGetAsync(key);
                        if (read != value)
                        {
                            lock (wrong)
                            {
                                wrong.Add($"{key}: wrote {value}, read {read}");
                            }
                        }

                        operations++;
                    }
                    catch (Exception e) when (e is RedisException or TimeoutException)
                    {
                        // Not acknowledged (it may or may not have landed): the key is written again until a round succeeds.
                        failures++;
                        lastFailure = $"{key}: {e.Message}";
                        values[i] = null!;
                    }
                }
            }
        },
            TestContext.Current.CancellationToken);

        var added = await cluster.AddNodeAsync();
        await Eventually.TrueAsync(async () => (await cluster.NodesAsync(1)).Any(node => node.Endpoint.Port == cluster.RespPort(added) && node.SeemsUp && node.IsPrimary), KvClusterProcesses.Deadline, () => "the added node never joined", TestContext.Current.CancellationToken);
        var before = operations;
        var (exit, output) = await cluster.VerbAsync("rebalance", "--endpoint", $"127.0.0.1:{cluster.RespPort(1).ToString(CultureInfo.InvariantCulture)}");
        Assert.True(exit == 0, output);
        Assert.Contains($"to 127.0.0.1:{cluster.RespPort(added).ToString(CultureInfo.InvariantCulture)}", output, StringComparison.Ordinal);
        await Eventually.TrueAsync(() => operations > before + 500, KvClusterProcesses.Deadline, () => $"the writer stalled at {operations} operations, {failures} failures, last {lastFailure}", TestContext.Current.CancellationToken);
        await stop.CancelAsync();
        await writer;

        Assert.Empty(wrong);
        TestContext.Current.TestOutputHelper?.WriteLine($"{operations} acknowledged writes, {failures} failed or timed out while slots moved");
        // Every node learns the moves by gossip: node 1 ends up seeing four equal primaries.
        await Eventually.ValueAsync(
            () => cluster.NodesAsync(1),
            nodes => nodes.Count(node => node.IsPrimary && node.SlotCount == 4_096) == 4,
            KvClusterProcesses.Deadline,
            nodes => string.Join(", ", nodes.Select(node => $"{node.Endpoint} {node.SlotCount}")),
            TestContext.Current.CancellationToken);
        var movedKeys = await KvClusterProcesses.DbSizeAsync(cluster.RespPort(added));
        Assert.True(movedKeys > 0, "no key moved to the added node");
        // A key whose last write was not acknowledged is written once more, until acknowledged.
        for (var i = 0; i < KeyCount; i++)
        {
            var key = $"key:{i.ToString(CultureInfo.InvariantCulture)}";
            if (values[i] is null)
            {
                await Eventually.TrueAsync(
                    async () =>
                    {
                        try
                        {
                            return await database.StringSetAsync(key, "final");
                        }
                        catch (Exception e) when (e is RedisException or TimeoutException)
                        {
                            return false;
                        }
                    },
                    KvClusterProcesses.Deadline,
                    () => $"{key} could not be written after the rebalance",
                    TestContext.Current.CancellationToken);
                values[i] = "final";
            }

            Assert.Equal(values[i], await database.StringGetAsync(key));
        }
    }

    [Theory]
    [InlineData("--endpoint", "no-port-here", "--endpoint must be host:port")]
    [InlineData("--timeout-ms", "5", "--timeout-ms must be from 100 to 600000")]
    public async Task Rebalance_WithABadArgument_ExitsTwoNamingIt(string flag, string value, string message)
    {
        using var directory = new TempDirectory("blueprint-kv-verb");
        await using var verb = NodeProcess.Start(["kv", "rebalance", flag, value], directory.Path);
        Assert.Equal(2, await verb.WaitForExitAsync(KvClusterProcesses.Deadline));
        Assert.Contains(message, verb.StandardError, StringComparison.Ordinal);
    }

    private static async Task<string> RedisCliAsync(int port, params string[] command)
    {
        var binary = Peers.Require("redis-cli", "redis-tools");
        await using var cli = ProcessRunner.Start(binary, ["-h", "127.0.0.1", "-p", port.ToString(CultureInfo.InvariantCulture), .. command]);
        var exit = await cli.WaitForExitAsync(TimeSpan.FromSeconds(20));
        Assert.Equal(0, exit);
        return cli.StandardOutput.Trim();
    }
}
