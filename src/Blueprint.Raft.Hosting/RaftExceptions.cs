namespace Blueprint.Raft.Hosting;

/// <summary>The base of every operating error a <see cref="RaftHost"/> reports.</summary>
public abstract class RaftException : Exception
{
    /// <summary>Creates the exception.</summary>
    /// <param name="message">What happened.</param>
    /// <param name="inner">The cause, if any.</param>
    protected RaftException(string message, Exception? inner = null)
        : base(message, inner)
    {
    }

    /// <summary>The code carried across a forwarded call.</summary>
    internal abstract ForwardErrorCode Code { get; }
}

/// <summary>
/// The request was not carried out: no leader is known, the host is stopped or removed, or the leader refused it.
/// Nothing was appended, so a retry is safe (gRPC <c>Unavailable</c>).
/// </summary>
public sealed class RaftUnavailableException : RaftException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="message">What happened.</param>
    /// <param name="inner">The cause, if any.</param>
    public RaftUnavailableException(string message, Exception? inner = null)
        : base(message, inner)
    {
    }

    internal override ForwardErrorCode Code => ForwardErrorCode.Unavailable;
}

/// <summary>
/// A queue or the leader's uncommitted log is full; nothing was appended and the caller should back off
/// (gRPC <c>ResourceExhausted</c>).
/// </summary>
public sealed class RaftOverloadedException : RaftException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="message">Which limit was reached.</param>
    public RaftOverloadedException(string message)
        : base(message)
    {
    }

    internal override ForwardErrorCode Code => ForwardErrorCode.Overloaded;
}

/// <summary>
/// The caller stopped waiting (cancellation, deadline, shutdown) after the proposal may have been appended: it may
/// still commit or may be lost. A blind retry may apply the command twice (gRPC <c>DeadlineExceeded</c> or
/// <c>Unknown</c>).
/// </summary>
public sealed class RaftOutcomeUnknownException : RaftException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="message">What happened.</param>
    /// <param name="inner">The cause, if any.</param>
    public RaftOutcomeUnknownException(string message, Exception? inner = null)
        : base(message, inner)
    {
    }

    internal override ForwardErrorCode Code => ForwardErrorCode.OutcomeUnknown;
}

/// <summary>
/// The proposal was appended but a later leader overwrote it: it will never apply, so a retry is safe
/// (gRPC <c>Aborted</c>).
/// </summary>
public sealed class RaftProposalDroppedException : RaftException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="message">Where the proposal was and what replaced it.</param>
    public RaftProposalDroppedException(string message)
        : base(message)
    {
    }

    internal override ForwardErrorCode Code => ForwardErrorCode.Dropped;
}

/// <summary>The error codes of <c>ForwardResponse.error_code</c>; 0 is success.</summary>
internal enum ForwardErrorCode
{
    None = 0,
    Unavailable = 1,
    NotLeader = 2,
    Overloaded = 3,
    OutcomeUnknown = 4,
    Dropped = 5,
    NoHandler = 6,
    InvalidArgument = 7,
    Internal = 8,
}

/// <summary>This node is not the leader (or is handing leadership over): retried against the current leader.</summary>
internal sealed class RaftNotLeaderException(string message) : RaftException(message)
{
    internal override ForwardErrorCode Code => ForwardErrorCode.NotLeader;
}

/// <summary>The core refused a configuration change for now; retried after a tick.</summary>
internal sealed class RaftConfigChangeRefusedException(string message) : RaftException(message)
{
    internal override ForwardErrorCode Code => ForwardErrorCode.Unavailable;
}
