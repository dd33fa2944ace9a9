using System.Globalization;
using Blueprint.Coordination.Etcd.Rpc;
using Blueprint.Coordination.Recipes;
using Google.Protobuf;

namespace Blueprint.Coordination.Tests.Recipes;

public abstract partial class RecipeTests
{
    [Fact]
    public async Task Lock_ConcurrentContenders_NoLostUpdateAndFencingTokensIncreaseInAcquisitionOrder()
    {
        const int contenders = 6;
        const int rounds = 4;
        var name = UniqueName("counter");
        var kv = new KV.KVClient(await EtcdAsync());
        var counter = ByteString.CopyFromUtf8(name + "-counter");
        var sessions = new List<EtcdSession>();
        for (var i = 0; i < contenders; i++)
        {
            sessions.Add(await SessionAsync());
        }

        var tokens = new List<long>();
        var inside = 0;
        var overlaps = 0;
        var work = sessions.Select(session => Task.Run(async () =>
        {
            var mutex = new DistributedLock(session, name);
            for (var round = 0; round < rounds; round++)
            {
                await using var held = await mutex.AcquireAsync(Ct);
                if (Interlocked.Increment(ref inside) != 1)
                {
                    Interlocked.Increment(ref overlaps);
                }

                lock (tokens)
                {
                    tokens.Add(held.FencingToken);
                }

                // A plain read-modify-write: only mutual exclusion keeps it from losing updates.
                var read = await kv.RangeAsync(new RangeRequest { Key = counter }, cancellationToken: Ct);
                var value = read.Kvs.Count == 0 ? 0 : int.Parse(read.Kvs[0].Value.ToStringUtf8(), CultureInfo.InvariantCulture);
                await Task.Yield();
                await kv.PutAsync(new PutRequest { Key = counter, Value = ByteString.CopyFromUtf8((value + 1).ToString(CultureInfo.InvariantCulture)) }, cancellationToken: Ct);
                Interlocked.Decrement(ref inside);
            }
        }, Ct)).ToArray();
        await Task.WhenAll(work).WaitAsync(Deadline, Ct);

        var final = await kv.RangeAsync(new RangeRequest { Key = counter }, cancellationToken: Ct);
        Assert.Equal((contenders * rounds).ToString(CultureInfo.InvariantCulture), final.Kvs[0].Value.ToStringUtf8());
        Assert.Equal(0, overlaps);
        Assert.Equal(contenders * rounds, tokens.Count);
        Assert.All(tokens.Zip(tokens.Skip(1)), pair => Assert.True(pair.First < pair.Second, $"token {pair.Second} followed {pair.First}"));
    }

    [Fact]
    public async Task Lock_HolderReleases_WaiterAcquiresWithLargerToken()
    {
        var name = UniqueName("handoff");
        var holderSession = await SessionAsync();
        var waiterSession = await SessionAsync();
        var held = await new DistributedLock(holderSession, name).AcquireAsync(Ct);
        Assert.Equal($"{name}/{holderSession.LeaseId:x}", held.Key);

        var waiting = new DistributedLock(waiterSession, name).AcquireAsync(Ct);
        await WaitForQueueLengthAsync(name, 2);
        Assert.False(waiting.IsCompleted, "the waiter acquired while the holder still held the lock");

        await held.ReleaseAsync(Ct);
        Assert.True(held.Lost.IsCancellationRequested);
        await using var next = await waiting.WaitAsync(Deadline, Ct);
        Assert.Equal($"{name}/{waiterSession.LeaseId:x}", next.Key);
        Assert.True(next.FencingToken > held.FencingToken);
    }

    [Fact]
    public async Task Lock_HolderLeaseRevoked_WaiterAcquiresAndHolderLostFires()
    {
        var name = UniqueName("revoked");
        var holderSession = await SessionAsync(ShortTtlSeconds);
        var waiterSession = await SessionAsync();
        var held = await new DistributedLock(holderSession, name).AcquireAsync(Ct);
        var waiting = new DistributedLock(waiterSession, name).AcquireAsync(Ct);
        await WaitForQueueLengthAsync(name, 2);

        // What the lease's expiry does to a paused holder, without waiting out the TTL.
        await RevokeAsync(holderSession.LeaseId);

        await using var next = await waiting.WaitAsync(Deadline, Ct);
        Assert.True(next.FencingToken > held.FencingToken);
        await WaitCancelledAsync(held.Lost);
        Assert.True(holderSession.Lost.IsCancellationRequested);
        Assert.False(next.Lost.IsCancellationRequested);
    }

    [Fact]
    public async Task Lock_WaiterLeaseRevokedWhileWaiting_ThrowsSessionLost()
    {
        var name = UniqueName("lost-waiter");
        var holderSession = await SessionAsync();
        var waiterSession = await SessionAsync(ShortTtlSeconds);
        await using var held = await new DistributedLock(holderSession, name).AcquireAsync(Ct);
        var waiting = new DistributedLock(waiterSession, name).AcquireAsync(Ct);
        await WaitForQueueLengthAsync(name, 2);

        await RevokeAsync(waiterSession.LeaseId);

        await Assert.ThrowsAsync<SessionLostException>(() => waiting.WaitAsync(Deadline, Ct));
        await Assert.ThrowsAsync<SessionLostException>(() => new DistributedLock(waiterSession, name).AcquireAsync(Ct));
        Assert.False(held.Lost.IsCancellationRequested);
    }

    [Fact]
    public async Task Lock_MiddleWaiterCancelled_ItsKeyIsRemovedAndTheNextWaiterStillAcquires()
    {
        var name = UniqueName("cancelled");
        var first = await SessionAsync();
        var second = await SessionAsync();
        var third = await SessionAsync();
        var held = await new DistributedLock(first, name).AcquireAsync(Ct);
        using var giveUp = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        var secondWaiting = new DistributedLock(second, name).AcquireAsync(giveUp.Token);
        await WaitForQueueLengthAsync(name, 2);
        var thirdWaiting = new DistributedLock(third, name).AcquireAsync(Ct);
        await WaitForQueueLengthAsync(name, 3);

        // The third waiter watches the second's key; cancelling the second wakes it to look again.
        await giveUp.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => secondWaiting.WaitAsync(Deadline, Ct));
        await WaitForQueueLengthAsync(name, 2);
        Assert.False(thirdWaiting.IsCompleted, "the third waiter acquired while the first still held the lock");

        await held.ReleaseAsync(Ct);
        await using var next = await thirdWaiting.WaitAsync(Deadline, Ct);
        Assert.Equal($"{name}/{third.LeaseId:x}", next.Key);
    }

    [Fact]
    public async Task Fencing_StaleHolderWritesAfterSuccessor_FencedStoreRejectsAndUnfencedStoreLosesTheUpdate()
    {
        var name = UniqueName("fenced");
        var fencedStore = new FencedStore();
        var unfencedStore = new FencedStore(fenced: false);
        var staleSession = await SessionAsync(ShortTtlSeconds);
        var successorSession = await SessionAsync();
        var stale = await new DistributedLock(staleSession, name).AcquireAsync(Ct);
        Assert.True(fencedStore.TryWrite("report", "draft by the first holder", stale.FencingToken));
        unfencedStore.TryWrite("report", "draft by the first holder", stale.FencingToken);

        // The first holder pauses; its lease ends; the successor acquires and writes.
        await RevokeAsync(staleSession.LeaseId);
        await using var successor = await new DistributedLock(successorSession, name).AcquireAsync(Ct).WaitAsync(Deadline, Ct);
        Assert.True(fencedStore.TryWrite("report", "final by the successor", successor.FencingToken));
        unfencedStore.TryWrite("report", "final by the successor", successor.FencingToken);

        // The first holder resumes, still believing it holds the lock, and writes.
        Assert.False(fencedStore.TryWrite("report", "stale overwrite", stale.FencingToken));
        Assert.Equal("final by the successor", fencedStore.Read("report"));
        Assert.True(unfencedStore.TryWrite("report", "stale overwrite", stale.FencingToken));
        Assert.Equal("stale overwrite", unfencedStore.Read("report"));
    }

    [Fact]
    public async Task Session_Disposed_RevokesLeaseDeletingItsLockKeyAndFiresLost()
    {
        var name = UniqueName("disposed");
        var session = await SessionAsync();
        var held = await new DistributedLock(session, name).AcquireAsync(Ct);
        await WaitForQueueLengthAsync(name, 1);

        await session.DisposeAsync();

        Assert.True(session.Lost.IsCancellationRequested);
        Assert.True(held.Lost.IsCancellationRequested);
        await WaitForQueueLengthAsync(name, 0);
    }
}
