// A lease kept alive in the background, as etcd's client/v3/concurrency Session (session.go):
// grant once, refresh over one LeaseKeepAlive stream every third of the TTL, revoke on close.
using Blueprint.Coordination.Etcd.Rpc;
using Grpc.Core;

namespace Blueprint.Coordination.Recipes;

/// <summary>
/// A lease held for the life of a client, kept alive in the background over the etcd v3
/// <c>LeaseKeepAlive</c> stream. Locks and elections attach their keys to this lease, so when the
/// process dies or is partitioned away, the server deletes them once the TTL runs out.
/// </summary>
/// <remarks>
/// <para>
/// <see cref="Lost"/> is the session's liveness as far as this client can tell: it fires when the
/// server answers a keep-alive with TTL 0 (the lease expired or was revoked), when no keep-alive
/// succeeded for the last granted TTL (measured from when that keep-alive was sent, so the client
/// gives up no later than the server), and on <see cref="DisposeAsync"/>.
/// </para>
/// <para>
/// A fired <see cref="Lost"/> is a hint, not a guarantee of timing: a process paused (GC, swap,
/// a stopped VM) sees it late. That is why locks carry a fencing token; see <see cref="LockHandle"/>.
/// </para>
/// </remarks>
public sealed class EtcdSession : IAsyncDisposable
{
    /// <summary>The TTL etcd's client asks for when none is given, and etcd's lock and election services grant for a request without a lease.</summary>
    internal const int DefaultTtlSeconds = 60;

    private readonly CancellationTokenSource _lost;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _keepAlive;
    private readonly bool _orphan;
    private int _disposed;

    private EtcdSession(CallInvoker etcd, long leaseId, TimeSpan ttl, TimeSpan left)
    {
        Kv = new KV.KVClient(etcd);
        Watch = new Etcd.Rpc.Watch.WatchClient(etcd);
        Lease = new Lease.LeaseClient(etcd);
        LeaseId = leaseId;
        Ttl = ttl;
        _lost = new CancellationTokenSource(left > TimeSpan.Zero ? left : TimeSpan.Zero);
        _keepAlive = Task.Run(KeepAliveAsync);
    }

    private EtcdSession(CallInvoker etcd, long leaseId)
    {
        Kv = new KV.KVClient(etcd);
        Watch = new Etcd.Rpc.Watch.WatchClient(etcd);
        Lease = new Lease.LeaseClient(etcd);
        LeaseId = leaseId;
        _orphan = true;
        _lost = new CancellationTokenSource();
        _keepAlive = Task.CompletedTask;
    }

    /// <summary>The lease every key of this session is attached to.</summary>
    public long LeaseId { get; }

    /// <summary>Cancelled when the lease expired or was revoked, when keep-alive failed for longer than the TTL, or when the session is disposed.</summary>
    public CancellationToken Lost => _lost.Token;

    /// <summary>The TTL the server granted.</summary>
    public TimeSpan Ttl { get; }

    internal KV.KVClient Kv { get; }

    internal Etcd.Rpc.Watch.WatchClient Watch { get; }

    internal Lease.LeaseClient Lease { get; }

    /// <summary>Grants a lease of <paramref name="ttlSeconds"/> and starts keeping it alive.</summary>
    /// <param name="etcd">A call invoker on an etcd v3 endpoint (a <c>GrpcChannel</c>'s, for example).</param>
    /// <param name="ttlSeconds">The lease TTL in seconds; the server may round it up to its minimum. <value>1 or more; default 60, as etcd's own client.</value></param>
    /// <param name="cancellationToken">Cancels the grant.</param>
    /// <exception cref="RpcException">The grant failed or its deadline passed.</exception>
    public static async Task<EtcdSession> CreateAsync(CallInvoker etcd, int ttlSeconds = DefaultTtlSeconds, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(etcd);
        ArgumentOutOfRangeException.ThrowIfLessThan(ttlSeconds, 1);
        var sentAt = DateTime.UtcNow;
        var granted = await GrantAsync(etcd, ttlSeconds, cancellationToken).ConfigureAwait(false);
        var ttl = TimeSpan.FromSeconds(granted.TTL);
        return new EtcdSession(etcd, granted.ID, ttl, ttl - (DateTime.UtcNow - sentAt));
    }

    /// <summary>
    /// A session on a lease someone else keeps alive (etcd's <c>Session.Orphan</c>, as its lock and election services
    /// use): no keep-alive, no revoke on dispose, and <see cref="Lost"/> fires only on dispose; a lease that ends
    /// shows as the session's keys being deleted. Lease 0 grants a new lease of <see cref="DefaultTtlSeconds"/>
    /// that nobody keeps alive, as etcd's services do.
    /// </summary>
    internal static async Task<EtcdSession> OrphanAsync(CallInvoker etcd, long leaseId, CancellationToken cancellationToken)
    {
        if (leaseId == 0)
        {
            leaseId = (await GrantAsync(etcd, DefaultTtlSeconds, cancellationToken).ConfigureAwait(false)).ID;
        }

        return new EtcdSession(etcd, leaseId);
    }

    /// <summary>A session that only reads (an election's leader): no lease of its own.</summary>
    internal static EtcdSession Reader(CallInvoker etcd) => new(etcd, leaseId: 0);

    private static async Task<LeaseGrantResponse> GrantAsync(CallInvoker etcd, int ttlSeconds, CancellationToken cancellationToken)
    {
        var granted = await new Lease.LeaseClient(etcd).LeaseGrantAsync(
            new LeaseGrantRequest { TTL = ttlSeconds },
            deadline: RecipeTimeouts.CallDeadline(),
            cancellationToken: cancellationToken).ConfigureAwait(false);
        if (!string.IsNullOrEmpty(granted.Error))
        {
            throw new RpcException(new Status(StatusCode.Unknown, $"lease grant failed: {granted.Error}"));
        }

        return granted;
    }

    /// <summary>
    /// Stops the keep-alive and revokes the lease, which deletes every key attached to it (releasing
    /// the session's locks and leaderships at once). When the revoke does not finish within a few
    /// seconds the lease is left to expire on its own. Fires <see cref="Lost"/>.
    /// </summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
        {
            return;
        }

        await _stop.CancelAsync().ConfigureAwait(false);
        await _keepAlive.ConfigureAwait(false);
        if (_orphan)
        {
            await _lost.CancelAsync().ConfigureAwait(false);
            _stop.Dispose();
            return;
        }

        try
        {
            using var timeout = new CancellationTokenSource(RecipeTimeouts.Revoke);
            await Lease.LeaseRevokeAsync(
                new LeaseRevokeRequest { ID = LeaseId },
                deadline: DateTime.UtcNow + RecipeTimeouts.Revoke,
                cancellationToken: timeout.Token).ConfigureAwait(false);
        }
        catch (RpcException)
        {
            // Already expired (NotFound) or the server is unreachable: the TTL deletes the keys.
        }
        catch (OperationCanceledException)
        {
        }

        // _lost stays undisposed: handles and waiters may still read Lost after the session ends.
        await _lost.CancelAsync().ConfigureAwait(false);
        _stop.Dispose();
    }

    private async Task KeepAliveAsync()
    {
        // _lost was created to cancel after one TTL; each answered keep-alive pushes that back to the
        // TTL it reports, counted from when the request was sent (the server counts from receipt).
        while (!_stop.IsCancellationRequested && !_lost.IsCancellationRequested)
        {
            try
            {
                await KeepAliveStreamAsync().ConfigureAwait(false);
                return;
            }
            catch (Exception error) when (error is RpcException or IOException or InvalidOperationException)
            {
                // The stream broke; reopen it while the lease may still be alive.
            }
            catch (OperationCanceledException)
            {
                return;
            }

            try
            {
                await Task.Delay(RecipeTimeouts.Retry, _stop.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    private async Task KeepAliveStreamAsync()
    {
        using var both = CancellationTokenSource.CreateLinkedTokenSource(_stop.Token, _lost.Token);
        using var call = Lease.LeaseKeepAlive(cancellationToken: both.Token);
        var request = new LeaseKeepAliveRequest { ID = LeaseId };
        while (true)
        {
            var sentAt = DateTime.UtcNow;
            await call.RequestStream.WriteAsync(request, both.Token).ConfigureAwait(false);
            if (!await call.ResponseStream.MoveNext(both.Token).ConfigureAwait(false))
            {
                throw new InvalidOperationException("the keep-alive stream ended");
            }

            var answer = call.ResponseStream.Current;
            if (answer.TTL <= 0)
            {
                // The server no longer knows the lease: it expired or someone revoked it.
                await _lost.CancelAsync().ConfigureAwait(false);
                return;
            }

            var ttl = TimeSpan.FromSeconds(answer.TTL);
            var left = ttl - (DateTime.UtcNow - sentAt);
            if (left <= TimeSpan.Zero)
            {
                await _lost.CancelAsync().ConfigureAwait(false);
                return;
            }

            _lost.CancelAfter(left);
            await Task.Delay(ttl / 3, both.Token).ConfigureAwait(false);
        }
    }
}
