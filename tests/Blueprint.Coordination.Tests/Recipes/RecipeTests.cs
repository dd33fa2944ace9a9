using Blueprint.Coordination.Etcd.Rpc;
using Blueprint.Coordination.Recipes;
using Grpc.Core;

namespace Blueprint.Coordination.Tests.Recipes;

/// <summary>
/// The lock and election recipes against an etcd v3 endpoint. The bodies know only a
/// <see cref="CallInvoker"/>, so the same tests run against a real etcd (<see cref="EtcdRecipeTests"/>)
/// and against any other server that speaks the etcd v3 API: subclass and return its endpoint
/// from <see cref="StartEtcdAsync"/>.
/// </summary>
/// <remarks>
/// Nothing waits by sleeping: every wait is for an event (a watch, a task, a token) under
/// <see cref="Deadline"/>, and no assertion depends on how long something took.
/// </remarks>
public abstract partial class RecipeTests : IAsyncDisposable
{
    /// <summary>The bound on every wait; a correct run needs a small fraction of it.</summary>
    protected static readonly TimeSpan Deadline = TimeSpan.FromSeconds(30);

    /// <summary>A TTL short enough that a revoked lease is noticed by its keep-alive within a couple of seconds.</summary>
    protected const int ShortTtlSeconds = 5;

    private readonly List<IAsyncDisposable> _owned = [];
    private CallInvoker? _etcd;

    /// <summary>Starts (or connects to) an etcd v3 endpoint and returns a call invoker on it and what to dispose after the test.</summary>
    protected abstract Task<(CallInvoker Etcd, IAsyncDisposable Owner)> StartEtcdAsync();

    /// <summary>The test's cancellation token.</summary>
    protected static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>The endpoint of this test, started on first use.</summary>
    protected async Task<CallInvoker> EtcdAsync()
    {
        if (_etcd is null)
        {
            var (etcd, owner) = await StartEtcdAsync();
            _owned.Add(owner);
            _etcd = etcd;
        }

        return _etcd;
    }

    /// <summary>A new session, disposed after the test.</summary>
    protected async Task<EtcdSession> SessionAsync(int ttlSeconds = 60)
    {
        var session = await EtcdSession.CreateAsync(await EtcdAsync(), ttlSeconds, Ct);
        _owned.Add(session);
        return session;
    }

    /// <summary>A lock or election name no other test uses, so tests may share one server.</summary>
    protected static string UniqueName(string what) => $"recipes/{what}-{Guid.NewGuid():N}";

    /// <summary>Revokes a lease from outside its session, as its expiry would: the server deletes its keys.</summary>
    protected async Task RevokeAsync(long leaseId) =>
        await new Lease.LeaseClient(await EtcdAsync()).LeaseRevokeAsync(
            new LeaseRevokeRequest { ID = leaseId }, deadline: DateTime.UtcNow + Deadline, cancellationToken: Ct);

    /// <summary>Waits until exactly <paramref name="count"/> keys live under <c>name/</c>: the contenders are queued.</summary>
    protected async Task WaitForQueueLengthAsync(string name, int count)
    {
        var etcd = await EtcdAsync();
        var kv = new KV.KVClient(etcd);
        var watch = new Etcd.Rpc.Watch.WatchClient(etcd);
        var prefix = name + "/";
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        deadline.CancelAfter(Deadline);
        var seen = -1L;
        try
        {
            while (true)
            {
                var now = await kv.RangeAsync(
                    new RangeRequest { Key = EtcdKeys.Bytes(prefix), RangeEnd = EtcdKeys.PrefixEnd(prefix), CountOnly = true },
                    cancellationToken: deadline.Token);
                seen = now.Count;
                if (seen == count)
                {
                    return;
                }

                // Sleep-free: block until the prefix changes after the revision just read.
                using var call = watch.Watch(cancellationToken: deadline.Token);
                await call.RequestStream.WriteAsync(new WatchRequest
                {
                    CreateRequest = new WatchCreateRequest { Key = EtcdKeys.Bytes(prefix), RangeEnd = EtcdKeys.PrefixEnd(prefix), StartRevision = now.Header.Revision + 1 },
                }, deadline.Token);
                while (await call.ResponseStream.MoveNext(deadline.Token) && call.ResponseStream.Current.Events.Count == 0)
                {
                }
            }
        }
        catch (Exception error) when (error is OperationCanceledException or RpcException { StatusCode: StatusCode.Cancelled } && !Ct.IsCancellationRequested)
        {
            throw new TimeoutException($"{count} keys under {prefix} not seen within {Deadline} (last count {seen})", error);
        }
    }

    /// <summary>Waits for <paramref name="token"/> to be cancelled, within <see cref="Deadline"/>.</summary>
    protected static async Task WaitCancelledAsync(CancellationToken token)
    {
        TaskCompletionSource fired = new(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var registration = token.Register(() => fired.TrySetResult());
        await fired.Task.WaitAsync(Deadline, Ct);
    }

    /// <summary>Disposes the sessions (newest first), then the endpoint.</summary>
    public async ValueTask DisposeAsync()
    {
        for (var i = _owned.Count - 1; i >= 0; i--)
        {
            await _owned[i].DisposeAsync();
        }

        GC.SuppressFinalize(this);
    }
}
