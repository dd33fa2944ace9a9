namespace Blueprint.Coordination.Recipes;

/// <summary>
/// A held <see cref="DistributedLock"/>. Pass <see cref="FencingToken"/> with every write to the
/// resource the lock protects, and have the resource refuse tokens lower than the highest it has
/// seen: that, not the lock, is what keeps a paused former holder from doing damage.
/// </summary>
/// <example>
/// <code>
/// await using var held = await new DistributedLock(session, "invoices").AcquireAsync(ct);
/// await store.WriteAsync("invoice-42", body, held.FencingToken, held.Lost);
/// // where the store does: if (token &lt; highestSeen) reject; else highestSeen = token; write.
/// </code>
/// </example>
public sealed class LockHandle : IAsyncDisposable
{
    private readonly OwnedKey _key;

    internal LockHandle(EtcdSession session, string key, long fencingToken) => _key = new OwnedKey(session, key, fencingToken);

    /// <summary>The lock key, <c>name/&lt;lease id hex&gt;</c>.</summary>
    public string Key => _key.Key;

    /// <summary>
    /// The lock key's create revision: assigned by etcd's linearizable log, strictly increasing
    /// across successive holders of the lock, so a resource can reject writes from a stale holder.
    /// </summary>
    public long FencingToken => _key.CreateRevision;

    /// <summary>
    /// Cancelled when the session is lost (its lease expired, was revoked, or could not be kept
    /// alive) or the handle is released. It may fire late for a paused process; see <see cref="FencingToken"/>.
    /// </summary>
    public CancellationToken Lost => _key.Lost;

    /// <summary>Deletes the lock key (only the incarnation this handle created), letting the next waiter in. Idempotent.</summary>
    /// <exception cref="Grpc.Core.RpcException">etcd failed the delete; the key then goes with the lease.</exception>
    public Task ReleaseAsync(CancellationToken cancellationToken = default) => _key.DeleteAsync(cancellationToken);

    /// <summary>Releases the lock, bounded by a short timeout; a failure leaves the key to the lease.</summary>
    public ValueTask DisposeAsync() => _key.DisposeAsync();
}
