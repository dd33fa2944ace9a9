// The wait of etcd's client/v3/concurrency (key.go, waitDeletes/waitDelete): a contender whose key
// has create revision R waits until no key under the prefix has a create revision below R. It
// watches only the key just ahead of it, so a release wakes one waiter, not the whole queue.
using Blueprint.Coordination.Etcd.Mvccpb;
using Blueprint.Coordination.Etcd.Rpc;
using Grpc.Core;

namespace Blueprint.Coordination.Recipes;

/// <summary>The queue of keys under a prefix, ordered by create revision.</summary>
internal static class KeyQueue
{
    /// <summary>
    /// Returns once every key under <paramref name="prefix"/> with a create revision at or below
    /// <paramref name="maxCreateRevision"/> is deleted. A broken watch stream is reopened after a
    /// short pause; the wait ends only by success, by <paramref name="cancellationToken"/>, or by
    /// a non-transient error.
    /// </summary>
    public static async Task WaitForPredecessorsAsync(EtcdSession session, string prefix, long maxCreateRevision, CancellationToken cancellationToken)
    {
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            try
            {
                var ahead = await session.Kv.RangeAsync(
                    EtcdKeys.LastCreatedUpTo(prefix, maxCreateRevision),
                    deadline: RecipeTimeouts.CallDeadline(),
                    cancellationToken: cancellationToken).ConfigureAwait(false);
                if (ahead.Kvs.Count == 0)
                {
                    return;
                }

                // Events after the read: the delete cannot have happened at or before it.
                await WaitForDeleteAsync(session, ahead.Kvs[0].Key, ahead.Header.Revision + 1, cancellationToken).ConfigureAwait(false);
            }
            catch (RpcException error) when (IsTransient(error) && !cancellationToken.IsCancellationRequested)
            {
                await Task.Delay(RecipeTimeouts.Retry, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    /// <summary>
    /// Returns when <paramref name="key"/> is deleted at or after <paramref name="fromRevision"/>,
    /// or when the server cancelled the watch because its start revision was compacted: either way the caller reads the
    /// queue again rather than trusting a stale view.
    /// </summary>
    private static async Task WaitForDeleteAsync(EtcdSession session, Google.Protobuf.ByteString key, long fromRevision, CancellationToken cancellationToken)
    {
        using var call = session.Watch.Watch(cancellationToken: cancellationToken);
        var create = new WatchCreateRequest { Key = key, StartRevision = fromRevision };
        create.Filters.Add(WatchCreateRequest.Types.FilterType.Noput);
        await call.RequestStream.WriteAsync(new WatchRequest { CreateRequest = create }, cancellationToken).ConfigureAwait(false);
        while (await call.ResponseStream.MoveNext(cancellationToken).ConfigureAwait(false))
        {
            var answer = call.ResponseStream.Current;
            if (answer.Canceled && answer.CompactRevision > 0)
            {
                return;
            }

            if (answer.Canceled)
            {
                throw new RpcException(new Status(StatusCode.FailedPrecondition, $"the server cancelled the watch: {answer.CancelReason}"));
            }

            if (answer.Events.Any(change => change.Type == Event.Types.EventType.Delete))
            {
                return;
            }
        }

        throw new RpcException(new Status(StatusCode.Unavailable, "the watch stream ended while waiting for a delete"));
    }

    /// <summary>Whether the call may succeed if retried: the server was unreachable, or busy electing a leader.</summary>
    public static bool IsTransient(RpcException error) =>
        error.StatusCode is StatusCode.Unavailable or StatusCode.DeadlineExceeded or StatusCode.Internal;

    /// <summary>
    /// Reads <paramref name="key"/> to confirm it is still the incarnation created at
    /// <paramref name="createRevision"/>: after a long wait, the lease may have ended meanwhile.
    /// </summary>
    public static async Task<RangeResponse?> ReadIfOwnedAsync(EtcdSession session, string key, long createRevision, CancellationToken cancellationToken)
    {
        var own = await session.Kv.RangeAsync(
            new RangeRequest { Key = EtcdKeys.Bytes(key) },
            deadline: RecipeTimeouts.CallDeadline(),
            cancellationToken: cancellationToken).ConfigureAwait(false);
        return own.Kvs.Count == 1 && own.Kvs[0].CreateRevision == createRevision ? own : null;
    }

    /// <summary>
    /// Takes a place in the queue under <paramref name="prefix"/> with the session's own key and
    /// returns when it is first: every older key is gone. The caller's key is deleted again when
    /// the wait is cancelled or fails, so an abandoned attempt does not block the queue until the
    /// lease ends.
    /// </summary>
    /// <param name="session">The session whose lease the key lives on.</param>
    /// <param name="prefix">The lock's or election's prefix.</param>
    /// <param name="value">The value written with a new key.</param>
    /// <param name="onExisting">Runs when the session already had a key (it keeps its place), with that key-value; an election uses it to proclaim a new value.</param>
    /// <param name="what">Names the operation in exception messages ("lock 'jobs'").</param>
    /// <param name="cancellationToken">Stops waiting.</param>
    /// <returns>The key and its create revision, the fencing token.</returns>
    /// <exception cref="SessionLostException">The lease ended before the turn came.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> fired.</exception>
    public static async Task<(string Key, long CreateRevision)> TakeTurnAsync(
        EtcdSession session, string prefix, string value, Func<string, long, KeyValue, CancellationToken, Task>? onExisting, string what, CancellationToken cancellationToken)
    {
        ThrowIfLost(session, what);
        var key = EtcdKeys.Own(prefix, session.LeaseId);
        TxnResponse joined;

        // The join itself is not cancelled, only the wait for it: a caller who gives up meanwhile still learns
        // whether the key was written, so that an abandoned key does not block the queue until the lease ends.
        var join = session.Kv.TxnAsync(EtcdKeys.Enqueue(key, value, session.LeaseId, EtcdKeys.FirstCreated(prefix)), deadline: RecipeTimeouts.CallDeadline(), cancellationToken: CancellationToken.None);
        try
        {
            joined = await join.ResponseAsync.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException error) when (cancellationToken.IsCancellationRequested)
        {
            _ = UndoAbandonedJoinAsync(session, join, key);
            throw new OperationCanceledException($"{what}: cancelled while joining the queue", error, cancellationToken);
        }
        catch
        {
            join.Dispose();
            throw;
        }

        join.Dispose();

        var (createRevision, existing) = EtcdKeys.OwnEntry(joined);
        var first = joined.Responses[1].ResponseRange.Kvs;
        if (first.Count == 0 || first[0].CreateRevision == createRevision)
        {
            // Uncontended: one round trip.
            if (existing is not null && onExisting is not null)
            {
                await onExisting(key, createRevision, existing, cancellationToken).ConfigureAwait(false);
            }

            return (key, createRevision);
        }

        using var waiting = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, session.Lost);
        try
        {
            if (existing is not null && onExisting is not null)
            {
                await onExisting(key, createRevision, existing, waiting.Token).ConfigureAwait(false);
            }

            await WaitForPredecessorsAsync(session, prefix, createRevision - 1, waiting.Token).ConfigureAwait(false);
            if (await ReadIfOwnedAsync(session, key, createRevision, waiting.Token).ConfigureAwait(false) is null)
            {
                throw new SessionLostException($"{what}: the key {key} was deleted while waiting (the lease expired or was revoked)");
            }

            return (key, createRevision);
        }
        catch (Exception error) when ((error is OperationCanceledException or RpcException) && session.Lost.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            throw new SessionLostException($"{what}: the session's lease {session.LeaseId:x} was lost while waiting", error);
        }
        catch (Exception error) when (error is not SessionLostException)
        {
            await DeleteQuietlyAsync(session, key, createRevision).ConfigureAwait(false);
            if (error is RpcException && cancellationToken.IsCancellationRequested)
            {
                // Grpc.Net.Client reports a cancelled stream as an RpcException; callers expect the standard exception.
                throw new OperationCanceledException($"{what}: cancelled while waiting", error, cancellationToken);
            }

            throw;
        }
    }

    /// <summary>Once a join its caller stopped waiting for completes, deletes the key if that join created it.</summary>
    private static async Task UndoAbandonedJoinAsync(EtcdSession session, AsyncUnaryCall<TxnResponse> join, string key)
    {
        try
        {
            var (createRevision, existing) = EtcdKeys.OwnEntry(await join.ResponseAsync.ConfigureAwait(false));
            if (existing is null)
            {
                await DeleteQuietlyAsync(session, key, createRevision).ConfigureAwait(false);
            }
        }
        catch (Exception error) when (error is RpcException or ObjectDisposedException)
        {
            // The join failed or its answer was lost, or the channel was closed meanwhile (the member is stopping):
            // a key it wrote, if any, goes with the lease.
        }
        finally
        {
            join.Dispose();
        }
    }

    /// <summary>
    /// Deletes the caller's key if it is still the given incarnation, retrying transient failures within
    /// <see cref="RecipeTimeouts.Release"/>; what still fails is left to the lease.
    /// </summary>
    public static async Task DeleteQuietlyAsync(EtcdSession session, string key, long createRevision)
    {
        using var timeout = new CancellationTokenSource(RecipeTimeouts.Release);
        var deadline = DateTime.UtcNow + RecipeTimeouts.Release;
        try
        {
            while (true)
            {
                try
                {
                    await session.Kv.TxnAsync(EtcdKeys.DeleteIfOwned(key, createRevision), deadline: deadline, cancellationToken: timeout.Token).ConfigureAwait(false);
                    return;
                }
                catch (RpcException error) when (IsTransient(error) && !timeout.IsCancellationRequested)
                {
                    await Task.Delay(RecipeTimeouts.Retry, timeout.Token).ConfigureAwait(false);
                }
            }
        }
        catch (Exception error) when (error is RpcException or OperationCanceledException or ObjectDisposedException)
        {
            // Left to the lease (a closed channel: the member that ran this is stopping).
        }
    }

    /// <summary>Throws <see cref="SessionLostException"/> when the session already ended.</summary>
    public static void ThrowIfLost(EtcdSession session, string what)
    {
        if (session.Lost.IsCancellationRequested)
        {
            throw new SessionLostException($"{what}: the session's lease {session.LeaseId:x} is already lost");
        }
    }

    /// <summary>
    /// The first change to the key (or range) at or after <paramref name="fromRevision"/>, or null
    /// when the server cancelled the watch because that revision was compacted.
    /// </summary>
    public static async Task<Event?> NextEventAsync(EtcdSession session, Google.Protobuf.ByteString key, Google.Protobuf.ByteString rangeEnd, long fromRevision, CancellationToken cancellationToken)
    {
        using var call = session.Watch.Watch(cancellationToken: cancellationToken);
        var create = new WatchCreateRequest { Key = key, RangeEnd = rangeEnd, StartRevision = fromRevision };
        await call.RequestStream.WriteAsync(new WatchRequest { CreateRequest = create }, cancellationToken).ConfigureAwait(false);
        while (await call.ResponseStream.MoveNext(cancellationToken).ConfigureAwait(false))
        {
            var answer = call.ResponseStream.Current;
            if (answer.Canceled && answer.CompactRevision > 0)
            {
                return null;
            }

            if (answer.Canceled)
            {
                throw new RpcException(new Status(StatusCode.FailedPrecondition, $"the server cancelled the watch: {answer.CancelReason}"));
            }

            if (answer.Events.Count > 0)
            {
                return answer.Events[0];
            }
        }

        throw new RpcException(new Status(StatusCode.Unavailable, "the watch stream ended while waiting for a change"));
    }
}
