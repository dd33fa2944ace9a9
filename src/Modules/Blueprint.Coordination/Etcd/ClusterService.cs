using Blueprint.Coordination.Etcd.Rpc;
using Blueprint.Raft.Hosting;
using Grpc.Core;
using EtcdCluster = Blueprint.Coordination.Etcd.Rpc.Cluster;

namespace Blueprint.Coordination.Etcd;

/// <summary>etcd's Cluster service: the replicated member table; members are added and removed one at a time through Raft.</summary>
internal sealed class ClusterService(EtcdServer server) : EtcdCluster.ClusterBase
{
    // etcd 3.4 answers from the member's applied table, as this does.
    public override Task<MemberListResponse> MemberList(MemberListRequest request, ServerCallContext context)
    {
        var response = new MemberListResponse { Header = server.Header(server.Store.Revision) };
        response.Members.AddRange(server.Host.Members.Select(ToMember));
        return Task.FromResult(response);
    }

    public override async Task<MemberAddResponse> MemberAdd(MemberAddRequest request, ServerCallContext context)
    {
        if (request.IsLearner)
        {
            throw EtcdErrors.Unsupported("adding a learner");
        }

        if (request.PeerURLs.Count == 0)
        {
            throw new RpcException(new Status(StatusCode.InvalidArgument, "etcdserver: member add needs at least one peer URL"));
        }

        foreach (var url in request.PeerURLs)
        {
            if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || uri.Scheme != Uri.UriSchemeHttp)
            {
                throw new RpcException(new Status(StatusCode.InvalidArgument, $"etcdserver: '{url}' is not an http:// peer URL"));
            }

            if (server.Host.Members.Any(member => member.PeerUrls.Contains(url, StringComparer.OrdinalIgnoreCase)))
            {
                throw EtcdErrors.PeerUrlExists();
            }
        }

        // etcd's MemberAdd carries no name: the member names itself when it starts. Until then it is listed unnamed
        // ("unstarted"); the host keys it by a provisional name made of its peer URL.
        var added = await Membership(token => server.Host.AddMemberAsync($"unstarted@{request.PeerURLs[0]}", [.. request.PeerURLs], token), context).ConfigureAwait(false);
        var response = new MemberAddResponse { Header = server.Header(server.Store.Revision), Member = ToMember(added) };
        response.Members.AddRange(server.Host.Members.Select(ToMember));
        return response;
    }

    public override async Task<MemberRemoveResponse> MemberRemove(MemberRemoveRequest request, ServerCallContext context)
    {
        if (request.ID == 0 || request.ID > int.MaxValue || server.Host.Members.All(member => (ulong)member.Id != request.ID))
        {
            throw EtcdErrors.MemberNotFound();
        }

        await Membership(async token =>
        {
            await server.Host.RemoveMemberAsync((int)request.ID, token).ConfigureAwait(false);
            return true;
        }, context).ConfigureAwait(false);
        var response = new MemberRemoveResponse { Header = server.Header(server.Store.Revision) };
        response.Members.AddRange(server.Host.Members.Select(ToMember));
        return response;
    }

    public override Task<MemberUpdateResponse> MemberUpdate(MemberUpdateRequest request, ServerCallContext context) =>
        throw EtcdErrors.Unsupported("changing a member's peer URLs (remove it and add it again)");

    public override Task<MemberPromoteResponse> MemberPromote(MemberPromoteRequest request, ServerCallContext context) =>
        throw EtcdErrors.Unsupported("promoting a learner (there are no learners)");

    internal static Member ToMember(RaftMember member)
    {
        var result = new Member { ID = (ulong)member.Id, Name = member.ClientUrls.Count == 0 ? "" : member.Name };
        result.PeerURLs.AddRange(member.PeerUrls);
        result.ClientURLs.AddRange(member.ClientUrls);
        return result;
    }

    private async Task<T> Membership<T>(Func<CancellationToken, Task<T>> change, ServerCallContext context)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(context.CancellationToken);
        deadline.CancelAfter(TimeSpan.FromMilliseconds(server.Options.RequestTimeoutMs * 2));
        try
        {
            return await change(deadline.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!context.CancellationToken.IsCancellationRequested)
        {
            throw EtcdErrors.Timeout();
        }
        catch (RaftException e)
        {
            throw EtcdErrors.From(e);
        }
        catch (InvalidOperationException e)
        {
            throw new RpcException(new Status(StatusCode.FailedPrecondition, $"etcdserver: {e.Message}"));
        }
    }
}
