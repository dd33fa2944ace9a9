using Blueprint.Coordination.Etcd.Rpc;
using Blueprint.Coordination.Mvcc;
using Grpc.Core;

namespace Blueprint.Coordination.Etcd;

/// <summary>etcd's KV service: reads after a ReadIndex barrier (or locally when serializable), writes through Raft.</summary>
internal sealed class KvService(EtcdServer server) : KV.KVBase
{
    public override async Task<RangeResponse> Range(RangeRequest request, ServerCallContext context)
    {
        if (request.Key.IsEmpty)
        {
            throw EtcdErrors.EmptyKey();
        }

        if (!request.Serializable)
        {
            await server.ReadBarrierAsync(context.CancellationToken).ConfigureAwait(false);
        }

        var response = EtcdServer.Read(() => server.Store.Range(request));
        server.Fill(response.Header);
        return response;
    }

    public override async Task<PutResponse> Put(PutRequest request, ServerCallContext context)
    {
        if (request.Key.IsEmpty)
        {
            throw EtcdErrors.EmptyKey();
        }

        var response = (await server.ProposeAsync(new InternalRequest { Put = request }, context.CancellationToken).ConfigureAwait(false)).Put;
        server.Fill(response.Header);
        return response;
    }

    public override async Task<DeleteRangeResponse> DeleteRange(DeleteRangeRequest request, ServerCallContext context)
    {
        if (request.Key.IsEmpty)
        {
            throw EtcdErrors.EmptyKey();
        }

        var response = (await server.ProposeAsync(new InternalRequest { DeleteRange = request }, context.CancellationToken).ConfigureAwait(false)).DeleteRange;
        server.Fill(response.Header);
        return response;
    }

    public override async Task<TxnResponse> Txn(TxnRequest request, ServerCallContext context)
    {
        var response = (await server.ProposeAsync(new InternalRequest { Txn = request }, context.CancellationToken).ConfigureAwait(false)).Txn;
        server.Fill(response.Header);
        return response;
    }

    public override async Task<CompactionResponse> Compact(CompactionRequest request, ServerCallContext context)
    {
        var response = (await server.ProposeAsync(new InternalRequest { Compaction = request }, context.CancellationToken).ConfigureAwait(false)).Compaction;
        server.Fill(response.Header);
        return response;
    }
}
