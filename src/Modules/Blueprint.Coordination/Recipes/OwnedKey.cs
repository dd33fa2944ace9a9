namespace Blueprint.Coordination.Recipes;

/// <summary>
/// A key this session created in a lock or election queue: what <see cref="LockHandle"/> and
/// <see cref="LeadershipHandle"/> share. Deleting it is guarded by its create revision, so a stale
/// handle never deletes a successor's key; <see cref="Lost"/> follows the session and the deletion.
/// </summary>
internal sealed class OwnedKey
{
    private readonly EtcdSession _session;
    private readonly CancellationTokenSource _lost;
    private int _deleted;

    public OwnedKey(EtcdSession session, string key, long createRevision)
    {
        _session = session;
        Key = key;
        CreateRevision = createRevision;
        _lost = CancellationTokenSource.CreateLinkedTokenSource(session.Lost);
    }

    public string Key { get; }

    public long CreateRevision { get; }

    public CancellationToken Lost => _lost.Token;

    public bool IsDeleted => Volatile.Read(ref _deleted) == 1;

    /// <summary>Marks the key lost without deleting it (a proclamation found it gone).</summary>
    public Task MarkLostAsync() => _lost.CancelAsync();

    /// <summary>Deletes the key if it is still this incarnation. Idempotent.</summary>
    /// <exception cref="Grpc.Core.RpcException">etcd failed the delete; the key then goes with the lease.</exception>
    public async Task DeleteAsync(CancellationToken cancellationToken)
    {
        if (Interlocked.Exchange(ref _deleted, 1) == 1)
        {
            return;
        }

        try
        {
            await _session.Kv.TxnAsync(
                EtcdKeys.DeleteIfOwned(Key, CreateRevision),
                deadline: RecipeTimeouts.CallDeadline(),
                cancellationToken: cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            await _lost.CancelAsync().ConfigureAwait(false);
        }
    }

    /// <summary>Deletes the key within a short bound unless already deleted (a failure leaves it to the lease), then unhooks <see cref="Lost"/> from the session.</summary>
    public async ValueTask DisposeAsync()
    {
        if (!IsDeleted)
        {
            using var timeout = new CancellationTokenSource(RecipeTimeouts.Release);
            try
            {
                await DeleteAsync(timeout.Token).ConfigureAwait(false);
            }
            catch (Grpc.Core.RpcException)
            {
            }
            catch (OperationCanceledException)
            {
            }
        }

        _lost.Dispose();
    }
}
