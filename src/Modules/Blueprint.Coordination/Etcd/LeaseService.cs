using System.Security.Cryptography;
using Blueprint.Coordination.Etcd.Rpc;
using Blueprint.Coordination.Mvcc;
using Grpc.Core;

namespace Blueprint.Coordination.Etcd;

/// <summary>etcd's Lease service: grants and revocations go through Raft; keep-alives and remaining time are answered by the leader's <see cref="LeaseKeeper"/>.</summary>
internal sealed class LeaseService(EtcdServer server, StreamGate streams) : Lease.LeaseBase
{
    public override async Task<LeaseGrantResponse> LeaseGrant(LeaseGrantRequest request, ServerCallContext context)
    {
        var options = server.Options;
        if (request.TTL > options.LeaseMaxTtlSeconds)
        {
            throw EtcdErrors.LeaseTtlTooLarge();
        }

        // The proposer picks the id, so every replica applies the same one (etcd does the same).
        var grant = new LeaseGrantRequest
        {
            ID = request.ID != 0 ? request.ID : NewLeaseId(),
            TTL = Math.Max(request.TTL, options.LeaseMinTtlSeconds),
        };
        var response = (await server.ProposeAsync(new InternalRequest { LeaseGrant = grant }, context.CancellationToken).ConfigureAwait(false)).LeaseGrant;
        server.Fill(response.Header);
        return response;
    }

    public override async Task<LeaseRevokeResponse> LeaseRevoke(LeaseRevokeRequest request, ServerCallContext context)
    {
        var response = (await server.ProposeAsync(new InternalRequest { LeaseRevoke = request }, context.CancellationToken).ConfigureAwait(false)).LeaseRevoke;
        server.Fill(response.Header);
        return response;
    }

    public override Task LeaseKeepAlive(IAsyncStreamReader<LeaseKeepAliveRequest> requestStream, IServerStreamWriter<LeaseKeepAliveResponse> responseStream, ServerCallContext context) =>
        StreamGate.ServeAsync(streams, context, async stop =>
        {
            await foreach (var request in requestStream.ReadAllAsync(stop).ConfigureAwait(false))
            {
                var ttl = LeaseKeeper.Decode(await server.ForwardToLeaderAsync(LeaseKeeper.KeepAliveKind, LeaseKeeper.Encode(request.ID), stop).ConfigureAwait(false));
                await responseStream.WriteAsync(new LeaseKeepAliveResponse
                {
                    Header = server.Header(server.Store.Revision),
                    ID = request.ID,
                    TTL = ttl,
                }, stop).ConfigureAwait(false);
            }
        });

    public override async Task<LeaseTimeToLiveResponse> LeaseTimeToLive(LeaseTimeToLiveRequest request, ServerCallContext context)
    {
        await server.ReadBarrierAsync(context.CancellationToken).ConfigureAwait(false);
        var lease = server.Store.Lease(request.ID);
        var response = new LeaseTimeToLiveResponse { Header = server.Header(server.Store.Revision), ID = request.ID, TTL = -1 };
        if (lease is null)
        {
            return response;
        }

        response.TTL = LeaseKeeper.Decode(await server.ForwardToLeaderAsync(LeaseKeeper.TimeToLiveKind, LeaseKeeper.Encode(request.ID), context.CancellationToken).ConfigureAwait(false));
        response.GrantedTTL = lease.TtlSeconds;
        if (request.Keys)
        {
            response.Keys.AddRange(lease.Keys);
        }

        return response;
    }

    public override async Task<LeaseLeasesResponse> LeaseLeases(LeaseLeasesRequest request, ServerCallContext context)
    {
        await server.ReadBarrierAsync(context.CancellationToken).ConfigureAwait(false);
        var response = new LeaseLeasesResponse { Header = server.Header(server.Store.Revision) };
        response.Leases.AddRange(server.Store.Leases().Select(lease => new LeaseStatus { ID = lease.Id }));
        return response;
    }

    /// <summary>A random positive 63-bit id, as etcd's lessor hands out.</summary>
    private static long NewLeaseId()
    {
        long id;
        do
        {
            id = BitConverter.ToInt64(RandomNumberGenerator.GetBytes(8)) & long.MaxValue;
        }
        while (id == 0);
        return id;
    }
}
