using Grpc.Core;

namespace Blueprint.Coordination.Mvcc;

/// <summary>
/// A request the MVCC store refuses: the message is etcd's error text (for example
/// <c>etcdserver: mvcc: required revision has been compacted</c>) and <see cref="Code"/> the gRPC
/// status etcd answers with, so that the service can pass both to etcd clients unchanged.
/// </summary>
public sealed class MvccException : Exception
{
    /// <summary>Creates the exception with status <see cref="StatusCode.Unknown"/>.</summary>
    public MvccException()
    {
    }

    /// <summary>Creates the exception with status <see cref="StatusCode.Unknown"/>.</summary>
    /// <param name="message">etcd's error text.</param>
    public MvccException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with status <see cref="StatusCode.Unknown"/> and a cause.</summary>
    /// <param name="message">etcd's error text.</param>
    /// <param name="innerException">The cause.</param>
    public MvccException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>Creates the exception with a status code.</summary>
    /// <param name="code">The gRPC status etcd answers with.</param>
    /// <param name="message">etcd's error text.</param>
    public MvccException(StatusCode code, string message)
        : base(message)
    {
        Code = code;
    }

    /// <summary>The gRPC status code to answer with.</summary>
    public StatusCode Code { get; } = StatusCode.Unknown;
}

/// <summary>The errors the store raises, with etcd's exact texts and status codes.</summary>
internal static class MvccErrors
{
    public const string CompactedMessage = "etcdserver: mvcc: required revision has been compacted";
    public const string FutureRevisionMessage = "etcdserver: mvcc: required revision is a future revision";

    public static MvccException Compacted() => new(StatusCode.OutOfRange, CompactedMessage);

    public static MvccException FutureRevision() => new(StatusCode.OutOfRange, FutureRevisionMessage);

    public static MvccException EmptyKey() => new(StatusCode.InvalidArgument, "etcdserver: key is not provided");

    public static MvccException KeyNotFound() => new(StatusCode.InvalidArgument, "etcdserver: key not found");

    public static MvccException ValueProvided() => new(StatusCode.InvalidArgument, "etcdserver: value is provided");

    public static MvccException LeaseProvided() => new(StatusCode.InvalidArgument, "etcdserver: lease is provided");

    public static MvccException TooManyOps() => new(StatusCode.InvalidArgument, "etcdserver: too many operations in txn request");

    public static MvccException DuplicateKey() => new(StatusCode.InvalidArgument, "etcdserver: duplicate key given in txn request");

    public static MvccException RequestTooLarge() => new(StatusCode.InvalidArgument, "etcdserver: request is too large");

    public static MvccException LeaseNotFound() => new(StatusCode.NotFound, "etcdserver: requested lease not found");

    public static MvccException LeaseExists() => new(StatusCode.FailedPrecondition, "etcdserver: lease already exists");

    public static MvccException LeaseTtlTooLarge() => new(StatusCode.OutOfRange, "etcdserver: too large lease TTL");

    // The texts below have no etcd 3.4 counterpart; they follow etcd's "etcdserver: ..." style.
    public static MvccException InvalidSortOption() => new(StatusCode.InvalidArgument, "etcdserver: invalid sort option");

    public static MvccException TxnTooDeep() => new(StatusCode.InvalidArgument, "etcdserver: txn requests nested too deeply");

    public static MvccException LeaseIdMissing() => new(StatusCode.InvalidArgument, "etcdserver: lease ID must be chosen by the proposer");

    public static MvccException EmptyRequest() => new(StatusCode.InvalidArgument, "etcdserver: empty request");
}
