using Blueprint.Coordination.Etcd.Lock;
using Blueprint.Coordination.Etcd.Rpc;
using Blueprint.Coordination.Recipes;
using Google.Protobuf;
using Grpc.Core;
using LockBase = Blueprint.Coordination.Etcd.Lock.Lock.LockBase;

namespace Blueprint.Coordination.Etcd;

/// <summary>
/// etcd's v3lock service, as etcd builds it (server/etcdserver/api/v3lock): the <see cref="DistributedLock"/> recipe
/// run by the member on the caller's lease. Lock blocks until the caller holds the lock and answers the key
/// <c>name/&lt;lease hex&gt;</c>, whose create revision is the fencing token; the lock lasts as long as the key,
/// so as long as the caller keeps its lease alive. Unlock deletes the key.
/// </summary>
internal sealed class LockService(EtcdServer server, SelfChannel self, StreamGate streams) : LockBase
{
    public override Task<LockResponse> Lock(LockRequest request, ServerCallContext context)
    {
        string name = RecipeRequests.Name(request.Name, "lock name");
        return RecipeRequests.OnCallersLeaseAsync(self, request.Lease, "mutex: session is expired", context, streams, async (session, cancellationToken) =>
        {
            // Not disposed: disposing the handle would release the lock, which now belongs to the caller.
            var held = await new DistributedLock(session, name).AcquireAsync(cancellationToken).ConfigureAwait(false);
            return new LockResponse
            {
                Header = RecipeRequests.Header(server, held.FencingToken),
                Key = ByteString.CopyFromUtf8(held.Key),
            };
        });
    }

    public override async Task<UnlockResponse> Unlock(UnlockRequest request, ServerCallContext context)
    {
        // As etcd: the key is deleted whoever holds it; the key names the holder.
        var deleted = await RecipeRequests.RelayAsync(() => new KV.KVClient(self.Invoker).DeleteRangeAsync(
            new DeleteRangeRequest { Key = request.Key },
            deadline: RecipeTimeouts.CallDeadline(),
            cancellationToken: context.CancellationToken).ResponseAsync).ConfigureAwait(false);
        return new UnlockResponse { Header = deleted.Header };
    }
}
