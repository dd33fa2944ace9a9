using Blueprint.Coordination.Etcd.Rpc;
using Grpc.Core;

namespace Blueprint.Coordination.Etcd;

/// <summary>etcd's Maintenance service: status (what <c>etcdctl endpoint status</c> shows), alarms (none are raised), leader moves.</summary>
internal sealed class MaintenanceService(EtcdServer server) : Maintenance.MaintenanceBase
{
    /// <summary>The etcd API version this member speaks; clients compare it, so it is etcd's numbering.</summary>
    public const string ApiVersion = "3.4.0";

    public override Task<StatusResponse> Status(StatusRequest request, ServerCallContext context)
    {
        var host = server.Host;
        var size = server.DatabaseBytes();
        return Task.FromResult(new StatusResponse
        {
            Header = server.Header(server.Store.Revision),
            Version = ApiVersion,
            DbSize = size,
            DbSizeInUse = size,
            Leader = (ulong)host.LeaderId,
            RaftIndex = (ulong)host.CommitIndex,
            RaftTerm = (ulong)host.Term,
            RaftAppliedIndex = (ulong)host.AppliedIndex,
        });
    }

    public override Task<AlarmResponse> Alarm(AlarmRequest request, ServerCallContext context) =>
        Task.FromResult(new AlarmResponse { Header = server.Header(server.Store.Revision) });

    public override async Task<MoveLeaderResponse> MoveLeader(MoveLeaderRequest request, ServerCallContext context)
    {
        if (!server.Host.IsLeader)
        {
            throw EtcdErrors.NotLeader();
        }

        if (request.TargetID == 0 || request.TargetID > int.MaxValue || server.Host.Members.All(member => (ulong)member.Id != request.TargetID))
        {
            throw EtcdErrors.MemberNotFound();
        }

        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(context.CancellationToken);
        deadline.CancelAfter(TimeSpan.FromMilliseconds(server.Options.RequestTimeoutMs));
        try
        {
            await server.Host.TransferLeadershipAsync((int)request.TargetID, deadline.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!context.CancellationToken.IsCancellationRequested)
        {
            throw EtcdErrors.Timeout();
        }

        return new MoveLeaderResponse { Header = server.Header(server.Store.Revision) };
    }

    public override Task<DefragmentResponse> Defragment(DefragmentRequest request, ServerCallContext context) =>
        // Compaction frees superseded versions at once; there is no file to defragment.
        Task.FromResult(new DefragmentResponse { Header = server.Header(server.Store.Revision) });

    public override Task<HashResponse> Hash(HashRequest request, ServerCallContext context) =>
        throw EtcdErrors.Unsupported("Hash (the bolt database hash)");

    public override Task<HashKVResponse> HashKV(HashKVRequest request, ServerCallContext context) =>
        throw EtcdErrors.Unsupported("HashKV");

    public override Task Snapshot(SnapshotRequest request, IServerStreamWriter<SnapshotResponse> responseStream, ServerCallContext context) =>
        throw EtcdErrors.Unsupported("Snapshot (etcd's snapshots are bolt databases)");
}
