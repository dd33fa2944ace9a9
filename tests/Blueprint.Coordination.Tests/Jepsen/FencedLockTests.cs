using System.Diagnostics;
using Blueprint.Coordination.Etcd.Rpc;
using Blueprint.Coordination.Recipes;
using Blueprint.Coordination.Tests.Recipes;
using Grpc.Core;

namespace Blueprint.Coordination.Tests.Jepsen;

/// <summary>
/// The lock workload under faults: clients take <see cref="DistributedLock"/> through random members and, holding it,
/// do a read-modify-write on a store that rejects stale fencing tokens, while the nemesis kills and partitions members.
/// A lock built on leases cannot promise that two clients never believe they hold it at once (a paused or cut-off holder
/// acts after its lease is gone); the fencing token makes that harmless. Checked: every acquisition got its own token,
/// the store accepted writes only in increasing token order, and no holder got in while an earlier holder's key was
/// still there (<see cref="LockHolds"/>).
/// </summary>
[Collection(Support.ProcessClusters.Name)]
public sealed class FencedLockTests
{
    [Fact]
    public async Task Fenced_writes_under_kills_and_partitions_are_accepted_only_in_token_order()
    {
        await using var cluster = await ProcessCluster.StartAsync(3);
        var store = new FencedStore();
        var accepted = new List<long>();
        var rejected = 0;
        var tokens = new List<long>();
        var holds = new List<LockHold>();
        var nemesis = new Nemesis(cluster, seed: 7);
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        var workers = Enumerable.Range(0, 4).Select(worker => Task.Run(() => WorkAsync(worker), CancellationToken.None)).ToList();
        await Task.WhenAll([.. workers, nemesis.RunAsync(TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(1.5), stop.Token)]);
        await nemesis.HealAllAsync();

        var context = $"{accepted.Count} accepted writes, {rejected} stale writes rejected, {tokens.Count} acquisitions, {holds.Count(h => h.HeldAtCheck == true)} holds confirmed by a read\nnemesis:\n{string.Join("\n", nemesis.Log)}";
        Assert.True(accepted.Count >= 5, $"too few fenced writes for the check to mean much: {context}\n{cluster.Logs()}");
        Assert.Equal(tokens.Count, tokens.Distinct().Count());
        for (var i = 1; i < accepted.Count; i++)
        {
            Assert.True(accepted[i] > accepted[i - 1], $"write {i} has token {accepted[i]} after {accepted[i - 1]}: {context}");
        }

        Assert.True(holds.Count(h => h.HeldAtCheck == true) >= 5, $"too few confirmed holds for the overlap check to mean much: {context}");
        Assert.Null(LockHolds.FindOverlap(holds));

        async Task WorkAsync(int worker)
        {
            var random = new Random(worker);
            while (!stop.IsCancellationRequested)
            {
                var member = cluster.Channels[random.Next(cluster.Channels.Count)].CreateCallInvoker();
                var kv = new KV.KVClient(member);
                try
                {
                    await using var session = await EtcdSession.CreateAsync(member, ttlSeconds: 2, stop.Token);
                    using var attempt = CancellationTokenSource.CreateLinkedTokenSource(stop.Token);
                    attempt.CancelAfter(TimeSpan.FromSeconds(5));
                    await using var held = await new DistributedLock(session, "jepsen/lock").AcquireAsync(attempt.Token);
                    long acquiredAt = Stopwatch.GetTimestamp();
                    lock (tokens)
                    {
                        tokens.Add(held.FencingToken);
                    }

                    // The protected write, fenced: a holder whose lease ended meanwhile may still try; it is refused.
                    lock (accepted)
                    {
                        if (store.TryWrite("owner", $"worker {worker}", held.FencingToken))
                        {
                            accepted.Add(held.FencingToken);
                        }
                        else
                        {
                            rejected++;
                        }
                    }

                    // Is the key still ours? A linearizable read, begun after everything above.
                    long checkedAt = Stopwatch.GetTimestamp();
                    bool? heldAtCheck = null;
                    try
                    {
                        var own = await kv.RangeAsync(new RangeRequest { Key = EtcdKeys.Bytes(held.Key) }, deadline: DateTime.UtcNow.AddSeconds(2), cancellationToken: stop.Token);
                        heldAtCheck = own.Kvs.Count == 1 && own.Kvs[0].CreateRevision == held.FencingToken;
                    }
                    catch (RpcException)
                    {
                        // Unknown: the hold takes no part in the check.
                    }

                    lock (holds)
                    {
                        holds.Add(new LockHold(held.FencingToken, acquiredAt, checkedAt, heldAtCheck));
                    }

                    await held.ReleaseAsync(CancellationToken.None);
                }
                catch (Exception e) when (e is RpcException or OperationCanceledException or SessionLostException)
                {
                    // A fault got in the way: try again with a new session.
                }
            }
        }
    }
}
