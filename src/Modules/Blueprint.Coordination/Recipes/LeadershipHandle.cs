using Blueprint.Coordination.Etcd.Rpc;
using Google.Protobuf;

namespace Blueprint.Coordination.Recipes;

/// <summary>
/// This session's leadership of a <see cref="LeaderElection"/>. Every operation is guarded by the
/// key's create revision, so a handle whose key was deleted (resigned, lease ended) can never
/// write over a successor's key.
/// </summary>
public sealed class LeadershipHandle : IAsyncDisposable
{
    private readonly EtcdSession _session;
    private readonly OwnedKey _key;

    internal LeadershipHandle(EtcdSession session, string key, long fencingToken)
    {
        _session = session;
        _key = new OwnedKey(session, key, fencingToken);
    }

    /// <summary>The leader key, <c>name/&lt;lease id hex&gt;</c>.</summary>
    public string Key => _key.Key;

    /// <summary>The leader key's create revision: strictly increasing across successive leaders, for fencing what the leader writes.</summary>
    public long FencingToken => _key.CreateRevision;

    /// <summary>Cancelled when the session is lost, on resignation, or when a proclamation finds the key gone.</summary>
    public CancellationToken Lost => _key.Lost;

    /// <summary>Announces a new value without a new election.</summary>
    /// <exception cref="NotLeaderException">The key is no longer the one this campaign created; nothing was written.</exception>
    /// <exception cref="Grpc.Core.RpcException">etcd failed the request or its deadline passed.</exception>
    public async Task ProclaimAsync(string value, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(value);
        if (_key.IsDeleted)
        {
            throw new NotLeaderException($"{Key} resigned");
        }

        try
        {
            await PutIfOwnedAsync(_session, Key, FencingToken, value, cancellationToken).ConfigureAwait(false);
        }
        catch (NotLeaderException)
        {
            await _key.MarkLostAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>Deletes the leader key (only the incarnation this campaign created), letting the next campaigner lead. Idempotent.</summary>
    /// <exception cref="Grpc.Core.RpcException">etcd failed the delete; the key then goes with the lease.</exception>
    public Task ResignAsync(CancellationToken cancellationToken = default) => _key.DeleteAsync(cancellationToken);

    /// <summary>Resigns, bounded by a short timeout; a failure leaves the key to the lease.</summary>
    public ValueTask DisposeAsync() => _key.DisposeAsync();

    /// <summary>Puts <paramref name="value"/> on <paramref name="key"/> only while it is the incarnation created at <paramref name="createRevision"/>.</summary>
    internal static Task PutIfOwnedAsync(EtcdSession session, string key, long createRevision, string value, CancellationToken cancellationToken) =>
        PutIfOwnedAsync(session, EtcdKeys.Bytes(key), createRevision, ByteString.CopyFromUtf8(value), cancellationToken);

    /// <summary>As above, with the key and value as bytes; answers the transaction.</summary>
    internal static async Task<TxnResponse> PutIfOwnedAsync(EtcdSession session, ByteString key, long createRevision, ByteString value, CancellationToken cancellationToken)
    {
        var txn = new TxnRequest();
        txn.Compare.Add(EtcdKeys.CreateRevisionIs(key, createRevision));
        txn.Success.Add(new RequestOp { RequestPut = new PutRequest { Key = key, Value = value, Lease = session.LeaseId } });
        var answer = await session.Kv.TxnAsync(txn, deadline: RecipeTimeouts.CallDeadline(), cancellationToken: cancellationToken).ConfigureAwait(false);
        if (!answer.Succeeded)
        {
            throw new NotLeaderException($"{key.ToStringUtf8()} is no longer the key created at revision {createRevision}");
        }

        return answer;
    }
}
