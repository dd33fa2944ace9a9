using Blueprint.Coordination.Etcd.Election;
using Blueprint.Coordination.Etcd.Rpc;
using Blueprint.Coordination.Recipes;
using Google.Protobuf;
using Grpc.Core;
using ElectionBase = Blueprint.Coordination.Etcd.Election.Election.ElectionBase;

namespace Blueprint.Coordination.Etcd;

/// <summary>
/// etcd's v3election service, as etcd builds it (server/etcdserver/api/v3election): the <see cref="LeaderElection"/>
/// recipe run by the member on the caller's lease. Campaign blocks until the caller leads and answers its
/// <see cref="LeaderKey"/> (name, key, create revision, lease), which Proclaim and Resign then name; both act only
/// while that key is still the incarnation created at that revision, so a deposed leader can change nothing.
/// </summary>
internal sealed class ElectionService(EtcdServer server, SelfChannel self, StreamGate streams) : ElectionBase
{
    public override Task<CampaignResponse> Campaign(CampaignRequest request, ServerCallContext context)
    {
        string name = RecipeRequests.Name(request.Name, "election name");
        string value = RecipeRequests.Text(request.Value, "campaign value");
        return RecipeRequests.OnCallersLeaseAsync(self, request.Lease, "election: session is expired", context, streams, async (session, cancellationToken) =>
        {
            // Not disposed: disposing the handle would resign, and the leadership now belongs to the caller.
            var leading = await new LeaderElection(session, name).CampaignAsync(value, cancellationToken).ConfigureAwait(false);
            return new CampaignResponse
            {
                Header = RecipeRequests.Header(server, leading.FencingToken),
                Leader = new LeaderKey { Name = request.Name, Key = ByteString.CopyFromUtf8(leading.Key), Rev = leading.FencingToken, Lease = session.LeaseId },
            };
        });
    }

    public override Task<ProclaimResponse> Proclaim(ProclaimRequest request, ServerCallContext context)
    {
        var leader = request.Leader ?? throw RecipeRequests.MissingLeaderKey();
        return RecipeRequests.OnCallersLeaseAsync(self, leader.Lease, "election: session is expired", context, streams, async (session, cancellationToken) =>
        {
            var written = await LeadershipHandle.PutIfOwnedAsync(session, leader.Key, leader.Rev, request.Value, cancellationToken).ConfigureAwait(false);
            return new ProclaimResponse { Header = written.Header };
        });
    }

    public override async Task<LeaderResponse> Leader(LeaderRequest request, ServerCallContext context)
    {
        string name = RecipeRequests.Name(request.Name, "election name");
        await using var session = EtcdSession.Reader(self.Invoker);
        var leader = await RecipeRequests.RelayAsync(() => new LeaderElection(session, name).LeaderKeyAsync(context.CancellationToken)).ConfigureAwait(false)
            ?? throw RecipeRequests.NoLeader();
        return new LeaderResponse { Header = RecipeRequests.Header(server, leader.ModRevision), Kv = leader };
    }

    public override Task Observe(LeaderRequest request, IServerStreamWriter<LeaderResponse> responseStream, ServerCallContext context)
    {
        string name = RecipeRequests.Name(request.Name, "election name");

        // The watch the observation holds is what counts among the member's streams.
        return StreamGate.ServeAsync(streams, context, async stop =>
        {
            await using var session = EtcdSession.Reader(self.Invoker);
            try
            {
                await foreach (var leader in new LeaderElection(session, name).ObserveLeaderKeysAsync(stop).ConfigureAwait(false))
                {
                    await responseStream.WriteAsync(new LeaderResponse { Header = RecipeRequests.Header(server, leader.ModRevision), Kv = leader }, stop).ConfigureAwait(false);
                }
            }
            catch (RpcException error) when (!stop.IsCancellationRequested)
            {
                throw RecipeRequests.Relayed(error);
            }
        }, takeSlot: false);
    }

    public override async Task<ResignResponse> Resign(ResignRequest request, ServerCallContext context)
    {
        var leader = request.Leader ?? throw RecipeRequests.MissingLeaderKey();

        // As etcd: resigning a key that is no longer the leader's is not an error; nothing is deleted.
        var resigned = await RecipeRequests.RelayAsync(() => new KV.KVClient(self.Invoker).TxnAsync(
            EtcdKeys.DeleteIfOwned(leader.Key, leader.Rev),
            deadline: RecipeTimeouts.CallDeadline(),
            cancellationToken: context.CancellationToken).ResponseAsync).ConfigureAwait(false);
        return new ResignResponse { Header = resigned.Header };
    }
}
