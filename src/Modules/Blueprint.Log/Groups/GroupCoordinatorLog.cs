using Microsoft.Extensions.Logging;

namespace Blueprint.Log.Groups;

/// <summary>The coordinator's log messages (source-generated).</summary>
internal static partial class GroupCoordinatorLog
{
    [LoggerMessage(Level = LogLevel.Information, Message = "Group coordinator opened on {Directory}: {Groups} groups, {TruncatedBytes} bytes of torn journal tail cut")]
    public static partial void Opened(ILogger logger, string directory, int groups, long truncatedBytes);

    [LoggerMessage(Level = LogLevel.Information, Message = "Group {GroupId} preparing to rebalance after generation {GenerationId}: {Reason}")]
    public static partial void RebalancePrepared(ILogger logger, string groupId, int generationId, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Group {GroupId} formed generation {GenerationId} with {Members} members, protocol {Protocol}, leader {LeaderId}")]
    public static partial void GenerationFormed(ILogger logger, string groupId, int generationId, int members, string protocol, string leaderId);

    [LoggerMessage(Level = LogLevel.Information, Message = "Group {GroupId} is stable in generation {GenerationId}")]
    public static partial void GroupStable(ILogger logger, string groupId, int generationId);

    [LoggerMessage(Level = LogLevel.Information, Message = "Group {GroupId} is empty after generation {GenerationId}")]
    public static partial void GroupEmpty(ILogger logger, string groupId, int generationId);

    [LoggerMessage(Level = LogLevel.Information, Message = "Group {GroupId} removed member {MemberId}: {Reason}")]
    public static partial void MemberRemoved(ILogger logger, string groupId, string memberId, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Group {GroupId} refused: the coordinator holds its maximum of {MaxGroups} groups")]
    public static partial void GroupLimitReached(ILogger logger, string groupId, int maxGroups);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Group {GroupId}: the leader's assignment for {MemberId} has {Bytes} bytes, more than {MaxBytes}; the generation fails")]
    public static partial void AssignmentTooLarge(ILogger logger, string groupId, string memberId, int bytes, int maxBytes);

    [LoggerMessage(Level = LogLevel.Information, Message = "Group {GroupId}: {Count} offsets expired")]
    public static partial void OffsetsExpired(ILogger logger, string groupId, int count);

    [LoggerMessage(Level = LogLevel.Information, Message = "Group {GroupId} removed: empty and without offsets")]
    public static partial void GroupRemoved(ILogger logger, string groupId);

    [LoggerMessage(Level = LogLevel.Information, Message = "Offsets of deleted topic {Topic} removed: {Count}")]
    public static partial void TopicOffsetsDeleted(ILogger logger, string topic, int count);
}
