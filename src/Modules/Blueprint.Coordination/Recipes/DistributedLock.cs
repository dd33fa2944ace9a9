// The mutex of etcd's client/v3/concurrency (mutex.go): contenders queue as keys under the lock's
// prefix, ordered by create revision; the oldest key holds the lock.
namespace Blueprint.Coordination.Recipes;

/// <summary>
/// A lock named <c>name</c> over the etcd v3 API, compatible with etcd's own
/// <c>concurrency.Mutex</c>: a holder is the key <c>name/&lt;lease id hex&gt;</c> with the smallest
/// create revision under <c>name/</c>, attached to the session's lease.
/// </summary>
/// <remarks>
/// <para>
/// To acquire, one transaction puts the session's key when it does not exist yet (reading it when it
/// does) and reads the current holder; when that is not the caller, the caller watches only the key
/// just ahead of it (the newest key created before its own) until it is deleted, then looks again.
/// A release wakes one waiter, never the whole queue.
/// </para>
/// <para>
/// <b>The lock is a lease, not a guarantee.</b> If the holder pauses (GC, swap, a stopped VM, a
/// slow network) for longer than the TTL, the lease expires, the next waiter acquires, and the
/// paused process resumes still believing it holds the lock (Kleppmann, "How to do distributed
/// locking", 2016). No client-side check closes that gap, because the pause can fall between the
/// check and the write. The protected resource must check instead: every write carries
/// <see cref="LockHandle.FencingToken"/>, the key's create revision, which etcd's linearizable
/// log makes strictly increasing across successive holders, and the resource rejects a token
/// lower than the highest it has seen.
/// </para>
/// <para>
/// One session holds a given lock at most once: acquiring the same name twice on one session
/// returns the same key (as etcd's mutex does), and releasing either handle releases both.
/// </para>
/// </remarks>
public sealed class DistributedLock
{
    private readonly EtcdSession _session;
    private readonly string _name;
    private readonly string _prefix;

    /// <summary>Creates the lock named <paramref name="name"/> on <paramref name="session"/>.</summary>
    /// <param name="session">The session whose lease the lock key lives on.</param>
    /// <param name="name">The lock's name; its keys live under <c>name/</c>.</param>
    public DistributedLock(EtcdSession session, string name)
    {
        ArgumentNullException.ThrowIfNull(session);
        _session = session;
        _name = name;
        _prefix = EtcdKeys.Prefix(name);
    }

    /// <summary>Waits until this session holds the lock.</summary>
    /// <param name="cancellationToken">Stops waiting; the caller's place in the queue is given up.</param>
    /// <returns>The held lock; dispose or release it to let the next waiter in.</returns>
    /// <exception cref="SessionLostException">The session's lease ended before or while waiting.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> fired.</exception>
    /// <exception cref="Grpc.Core.RpcException">etcd failed a request (each one has a deadline).</exception>
    public async Task<LockHandle> AcquireAsync(CancellationToken cancellationToken = default)
    {
        var (key, createRevision) = await KeyQueue.TakeTurnAsync(
            _session, _prefix, value: "", onExisting: null, $"lock '{_name}'", cancellationToken).ConfigureAwait(false);
        return new LockHandle(_session, key, createRevision);
    }
}
