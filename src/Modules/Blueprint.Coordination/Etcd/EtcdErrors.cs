using Blueprint.Raft.Hosting;
using Grpc.Core;

namespace Blueprint.Coordination.Etcd;

/// <summary>
/// The errors etcd's gRPC API returns, with etcd's exact codes and messages: clients such as clientv3 (etcdctl) map
/// errors back by their message, so the strings are part of the protocol.
/// </summary>
internal static class EtcdErrors
{
    public static RpcException NoLeader() => new(new Status(StatusCode.Unavailable, "etcdserver: no leader"));

    public static RpcException Timeout() => new(new Status(StatusCode.Unavailable, "etcdserver: request timed out"));

    public static RpcException LeaderChanged() => new(new Status(StatusCode.Unavailable, "etcdserver: leader changed"));

    public static RpcException NotLeader() => new(new Status(StatusCode.FailedPrecondition, "etcdserver: not leader"));

    public static RpcException EmptyKey() => new(new Status(StatusCode.InvalidArgument, "etcdserver: key is not provided"));

    public static RpcException TooLarge() => new(new Status(StatusCode.InvalidArgument, "etcdserver: request is too large"));

    public static RpcException LeaseTtlTooLarge() => new(new Status(StatusCode.OutOfRange, "etcdserver: too large lease TTL"));

    public static RpcException LeaseNotFound() => new(new Status(StatusCode.NotFound, "etcdserver: requested lease not found"));

    public static RpcException MemberNotFound() => new(new Status(StatusCode.NotFound, "etcdserver: member not found"));

    public static RpcException PeerUrlExists() => new(new Status(StatusCode.FailedPrecondition, "etcdserver: Peer URLs already exists"));

    public static RpcException TooManyStreams() => new(new Status(StatusCode.ResourceExhausted, "etcdserver: too many streams on this member"));

    public static RpcException ServerStopped() => new(new Status(StatusCode.Unavailable, "etcdserver: server stopped"));

    public static RpcException TooManyRequests() => new(new Status(StatusCode.ResourceExhausted, "etcdserver: too many requests"));

    /// <summary>etcd's error for a Raft outcome.</summary>
    public static RpcException From(RaftException exception) => exception switch
    {
        RaftUnavailableException => NoLeader(),
        RaftOverloadedException => TooManyRequests(),
        RaftOutcomeUnknownException => Timeout(),
        RaftProposalDroppedException => LeaderChanged(),
        _ => new RpcException(new Status(StatusCode.Unavailable, $"etcdserver: {exception.Message}")),
    };

    public static RpcException Unsupported(string what) => new(new Status(StatusCode.Unimplemented, $"blueprint: {what} is not supported"));
}
