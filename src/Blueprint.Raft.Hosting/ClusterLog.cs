using Blueprint.Core.Raft;
using Microsoft.Extensions.Logging;

namespace Blueprint.Raft.Hosting;

/// <summary>The log messages of the Raft host and its transport.</summary>
internal static partial class ClusterLog
{
    [LoggerMessage(Level = LogLevel.Information, Message = "Raft host {Id} ({Name}) started: cluster {ClusterId:x16}, snapshot at {SnapshotIndex}, commit {CommitIndex}, members {Members}")]
    public static partial void Started(ILogger logger, int id, string name, ulong clusterId, long snapshotIndex, long commitIndex, string members);

    [LoggerMessage(Level = LogLevel.Information, Message = "Raft host {Id} stopped")]
    public static partial void Stopped(ILogger logger, int id);

    [LoggerMessage(Level = LogLevel.Critical, Message = "Raft host {Id} stopped on a fault in the driver loop")]
    public static partial void LoopFault(ILogger logger, Exception exception, int id);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Raft host {Id}: no address for node {To}; {Type} dropped")]
    public static partial void NoAddress(ILogger logger, int id, int to, MessageType type);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Raft host {Id} was removed from the cluster ({Why}) and stops")]
    public static partial void Removed(ILogger logger, int id, string why);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Raft host {Id}: peer {PeerId} refused the stream: {Refusal}")]
    public static partial void PeerRefused(ILogger logger, int id, int peerId, string refusal);

    [LoggerMessage(Level = LogLevel.Information, Message = "Raft host {Id} installed a snapshot at index {Index} (term {Term})")]
    public static partial void SnapshotInstalled(ILogger logger, int id, long index, long term);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Raft host {Id} compacted its log to index {Index}")]
    public static partial void Compacted(ILogger logger, int id, long index);

    [LoggerMessage(Level = LogLevel.Error, Message = "Raft host {Id} failed to take a snapshot at index {Index}; the log stays uncompacted until the next attempt")]
    public static partial void SnapshotFailed(ILogger logger, Exception exception, int id, long index);

    [LoggerMessage(Level = LogLevel.Information, Message = "Raft host {Id} joined cluster {ClusterId:x16}")]
    public static partial void JoinedCluster(ILogger logger, int id, ulong clusterId);

    [LoggerMessage(Level = LogLevel.Information, Message = "Raft host {Id}: node {LeaderId} leads term {Term}")]
    public static partial void LeaderChanged(ILogger logger, int id, int leaderId, long term);

    [LoggerMessage(Level = LogLevel.Information, Message = "Raft host {Id} added member {MemberId} ('{Name}') at {PeerUrls}")]
    public static partial void MemberAdded(ILogger logger, int id, int memberId, string name, IReadOnlyList<string> peerUrls);

    [LoggerMessage(Level = LogLevel.Information, Message = "Raft host {Id} removed member {MemberId}")]
    public static partial void MemberRemoved(ILogger logger, int id, int memberId);

    [LoggerMessage(Level = LogLevel.Information, Message = "Raft host {Id} published its client URLs {ClientUrls}")]
    public static partial void Published(ILogger logger, int id, IReadOnlyList<string> clientUrls);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Raft host {Id} could not publish its client URLs yet")]
    public static partial void PublishFailed(ILogger logger, Exception exception, int id);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Raft host {Id} refused a message from {From}: {Verdict}")]
    public static partial void MessageRefused(ILogger logger, int id, int from, RaftHost.ReceiveVerdict verdict);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Raft host {Id} dropped a message of unknown type {Type} from {From}")]
    public static partial void UnknownMessage(ILogger logger, int id, int type, int from);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Stream to peer {PeerId} at {Url} failed ({Dropped} messages dropped so far): {Error}")]
    public static partial void StreamFailedWarning(ILogger logger, int peerId, string url, long dropped, string error);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Stream to peer {PeerId} at {Url} failed")]
    public static partial void StreamFailed(ILogger logger, Exception exception, int peerId, string url);
}
