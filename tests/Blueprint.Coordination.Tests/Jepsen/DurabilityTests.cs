using System.Collections.Concurrent;
using System.Globalization;
using Blueprint.Coordination.Etcd.Rpc;
using Google.Protobuf;
using Grpc.Core;

namespace Blueprint.Coordination.Tests.Jepsen;

/// <summary>Every acknowledged write survives kill -9 of every member at once, mid-write, and a restart.</summary>
[Collection(Support.ProcessClusters.Name)]
public sealed class DurabilityTests
{
    [Fact]
    public async Task Whole_cluster_kill_9_mid_write_loses_no_acknowledged_write()
    {
        await using var cluster = await ProcessCluster.StartAsync(3);
        var acknowledged = new ConcurrentDictionary<string, string>();
        using var stop = new CancellationTokenSource();
        var writers = Enumerable.Range(0, 4).Select(writer => Task.Run(async () =>
        {
            var kv = new KV.KVClient(cluster.Channels[writer % cluster.Channels.Count]);
            for (var i = 0; !stop.IsCancellationRequested; i++)
            {
                var key = $"durable/{writer.ToString(CultureInfo.InvariantCulture)}/{i.ToString("D6", CultureInfo.InvariantCulture)}";
                try
                {
                    await kv.PutAsync(new PutRequest { Key = ByteString.CopyFromUtf8(key), Value = ByteString.CopyFromUtf8(key) }, deadline: DateTime.UtcNow.AddSeconds(2));
                    acknowledged[key] = key;
                }
                catch (RpcException)
                {
                    // Unknown outcome (the members are being killed): not acknowledged, so not required.
                }
            }
        })).ToList();

        // Kill every member while the writers are busy: once enough writes were acknowledged.
        await Eventually.TrueAsync(
            () => acknowledged.Count >= 200,
            TimeSpan.FromSeconds(60),
            () => $"{acknowledged.Count} writes acknowledged, 200 wanted",
            TestContext.Current.CancellationToken);

        for (var member = 0; member < 3; member++)
        {
            await cluster.KillAsync(member);
        }

        await stop.CancelAsync();
        await Task.WhenAll(writers);
        var required = acknowledged.Keys.ToList();

        for (var member = 0; member < 3; member++)
        {
            await cluster.RestartAsync(member);
        }

        await cluster.WaitForLeaderAsync(ProcessCluster.StartDeadline);
        var range = await new KV.KVClient(cluster.Channels[1]).RangeAsync(
            new RangeRequest { Key = ByteString.CopyFromUtf8("durable/"), RangeEnd = ByteString.CopyFromUtf8("durable0") },
            deadline: DateTime.UtcNow.AddSeconds(10), cancellationToken: TestContext.Current.CancellationToken);
        var present = range.Kvs.Select(kv => kv.Key.ToStringUtf8()).ToHashSet(StringComparer.Ordinal);
        var lost = required.Where(key => !present.Contains(key)).Order(StringComparer.Ordinal).ToList();
        Assert.True(lost.Count == 0, $"{lost.Count} of {required.Count} acknowledged writes lost, e.g. {string.Join(", ", lost.Take(5))}");
        Assert.True(required.Count >= 200);
    }
}
