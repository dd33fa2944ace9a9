using System.Text;
using Blueprint.Log.Kafka;

namespace Blueprint.Log.Groups;

/// <summary>OffsetCommit, OffsetFetch, offsets of deleted topics, and the expiry of offsets and empty groups.</summary>
public sealed partial class GroupCoordinator
{
    /// <summary>
    /// Commits offsets for a member of the current generation, or, with generation -1, for a client that uses no group
    /// membership while the group is empty or unknown. Completes once the stored offsets are durable (fsynced when
    /// <see cref="GroupCoordinatorOptions.FsyncCommits"/>). Each partition gets its own error.
    /// </summary>
    public async Task<IReadOnlyList<PartitionCommitResult>> CommitOffsetsAsync(OffsetCommitCall call, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(call);
        ct.ThrowIfCancellationRequested();
        var errors = new ErrorCode[call.Offsets.Count];
        var stored = new List<(string Topic, int Partition, CommittedOffset Value)>(call.Offsets.Count);
        Task? durable = null;
        var groupError = ValidateCommitGroup(call, out var group);
        if (groupError == ErrorCode.None)
        {
            lock (group!.Gate)
            {
                groupError = ValidateOffsetCommit(group, call);
                if (groupError == ErrorCode.None)
                {
                    durable = StoreOffsets(group, call, errors, stored, out groupError);
                }
            }
        }

        if (durable is not null)
        {
            try
            {
                await durable.WaitAsync(ct).ConfigureAwait(false);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                // As Kafka maps a failed write of the offsets log: the client finds the coordinator again and retries.
                groupError = ErrorCode.NotCoordinator;
            }
        }

        var results = new PartitionCommitResult[errors.Length];
        for (int i = 0; i < errors.Length; i++)
        {
            var entry = call.Offsets[i];
            results[i] = new PartitionCommitResult(entry.Topic, entry.Partition, errors[i] != ErrorCode.None ? errors[i] : groupError);
        }

        return results;
    }

    /// <summary>
    /// The group's committed offsets: for the partitions asked (offset -1 where there is none), or, with
    /// <paramref name="topics"/> null, all of them. Needs no membership, as in Kafka.
    /// </summary>
    public OffsetFetchResult FetchOffsets(string groupId, IReadOnlyList<(string Topic, IReadOnlyList<int> Partitions)>? topics)
    {
        ArgumentNullException.ThrowIfNull(groupId);
        if (IsDisposed)
        {
            return new OffsetFetchResult(ErrorCode.CoordinatorNotAvailable, []);
        }

        if (!IsValidGroupId(groupId, allowEmpty: true))
        {
            return new OffsetFetchResult(ErrorCode.InvalidGroupId, []);
        }

        if (topics is null)
        {
            return new OffsetFetchResult(ErrorCode.None, [.. _store.GetAll(groupId).Select(o => Fetched(o.Topic, o.Partition, o.Value))]);
        }

        var offsets = new List<FetchedOffset>();
        foreach (var (topic, partitions) in topics)
        {
            foreach (int partition in partitions)
            {
                offsets.Add(_store.TryGet(groupId, topic, partition, out var value)
                    ? Fetched(topic, partition, value)
                    : new FetchedOffset(topic, partition, -1, -1, "", ErrorCode.None));
            }
        }

        return new OffsetFetchResult(ErrorCode.None, offsets);
    }

    /// <summary>Forgets every group's offsets of a deleted topic (journaled; a reopened coordinator does not bring them back).</summary>
    public void DeleteTopicOffsets(string topic)
    {
        ArgumentNullException.ThrowIfNull(topic);
        if (!IsDisposed)
        {
            int removed = _store.RemoveTopic(topic);
            GroupCoordinatorLog.TopicOffsetsDeleted(_logger, topic, removed);
        }
    }

    private static FetchedOffset Fetched(string topic, int partition, CommittedOffset value) =>
        new(topic, partition, value.Offset, value.LeaderEpoch, value.Metadata, ErrorCode.None);

    private ErrorCode ValidateCommitGroup(OffsetCommitCall call, out ClassicGroup? group)
    {
        group = null;
        if (IsDisposed)
        {
            return ErrorCode.CoordinatorNotAvailable;
        }

        if (!IsValidGroupId(call.GroupId, allowEmpty: true))
        {
            return ErrorCode.InvalidGroupId;
        }

        group = FindGroup(call.GroupId);
        if (group is not null)
        {
            return ErrorCode.None;
        }

        if (call.GenerationId >= 0)
        {
            // A generation of a group this coordinator does not have: an old one (or another coordinator's).
            return ErrorCode.IllegalGeneration;
        }

        // A client that uses the group only to store offsets creates it with its first commit.
        group = GetOrCreateGroup(call.GroupId);
        return group is null ? ErrorCode.CoordinatorNotAvailable : ErrorCode.None;
    }

    /// <summary>Kafka's rules: generation -1 commits to an empty group; otherwise the member must be current, of this generation, and not mid-assignment.</summary>
    private static ErrorCode ValidateOffsetCommit(ClassicGroup group, OffsetCommitCall call)
    {
        if (group.Is(GroupState.Dead))
        {
            return ErrorCode.CoordinatorNotAvailable;
        }

        if (call.GenerationId < 0 && group.Is(GroupState.Empty))
        {
            return ErrorCode.None;
        }

        ErrorCode error;
        if (call.GenerationId >= 0 || call.MemberId.Length > 0 || call.GroupInstanceId is not null)
        {
            error = ValidateCurrentMember(group, call.MemberId, call.GroupInstanceId);
            if (error == ErrorCode.None && call.GenerationId != group.GenerationId)
            {
                error = ErrorCode.IllegalGeneration;
            }
        }
        else
        {
            // Without membership only an empty group takes commits.
            error = group.Is(GroupState.Empty) ? ErrorCode.None : ErrorCode.UnknownMemberId;
        }

        if (error == ErrorCode.None && group.Is(GroupState.CompletingRebalance))
        {
            // The member knows the new generation but not yet its assignment: it must sync first. (While
            // PreparingRebalance commits are allowed: the previous generation's owners commit before rejoining.)
            error = ErrorCode.RebalanceInProgress;
        }

        return error;
    }

    /// <summary>Checks each partition, stores the valid ones and returns the task that completes when they are durable (null when none).</summary>
    private Task? StoreOffsets(ClassicGroup group, OffsetCommitCall call, ErrorCode[] errors, List<(string Topic, int Partition, CommittedOffset Value)> stored, out ErrorCode groupError)
    {
        groupError = ErrorCode.None;
        if (group.TryGet(call.MemberId, out var member))
        {
            member.SessionTimer?.Arm(member.SessionTimeout);
        }

        long nowMs = Now.ToUnixTimeMilliseconds();
        for (int i = 0; i < call.Offsets.Count; i++)
        {
            var entry = call.Offsets[i];
            string metadata = entry.Metadata ?? "";
            if (entry.Topic.Length is 0 or > MaxTopicNameLength)
            {
                errors[i] = ErrorCode.InvalidTopicException;
            }
            else if (metadata.Length > _options.MaxMetadataBytes || Encoding.UTF8.GetByteCount(metadata) > _options.MaxMetadataBytes)
            {
                errors[i] = ErrorCode.OffsetMetadataTooLarge;
            }
            else
            {
                stored.Add((entry.Topic, entry.Partition, new CommittedOffset(entry.Offset, entry.LeaderEpoch, metadata, nowMs)));
            }
        }

        if (stored.Count == 0)
        {
            return null;
        }

        if (!_store.TryCommit(group.GroupId, stored, out var durable))
        {
            // The journal writer is far behind: refuse rather than queue without bound; the client retries.
            groupError = ErrorCode.CoordinatorNotAvailable;
            return null;
        }

        return durable;
    }

    /// <summary>
    /// The periodic expiry (Kafka's offsets retention): an empty group's offsets expire
    /// <see cref="GroupCoordinatorOptions.OffsetsRetention"/> after it became empty; a Stable consumer group's
    /// offsets of topics no member subscribes to, that long after their commit; a group that only commits, each
    /// offset that long after its commit. An empty group left without offsets is removed.
    /// </summary>
    internal void RemoveExpiredOffsets()
    {
        if (IsDisposed)
        {
            return;
        }

        var now = Now;
        long nowMs = now.ToUnixTimeMilliseconds();
        long retentionMs = (long)Math.Min(_options.OffsetsRetention.TotalMilliseconds, long.MaxValue / 2);
        foreach (var group in _groups.Values)
        {
            lock (group.Gate)
            {
                if (group.Is(GroupState.Dead))
                {
                    continue;
                }

                int expired = group switch
                {
                    { ProtocolType: not null, State: GroupState.Empty } when now - group.StateChangedAt >= _options.OffsetsRetention =>
                        _store.RemoveOffsets(group.GroupId, static (_, _) => true),
                    { ProtocolType: ClassicGroup.ConsumerProtocolType, State: GroupState.Stable, SubscribedTopics: { } subscribed } =>
                        _store.RemoveOffsets(group.GroupId, (topic, value) => !subscribed.Contains(topic) && nowMs - value.CommitTimestampMs >= retentionMs),
                    { ProtocolType: null } =>
                        _store.RemoveOffsets(group.GroupId, (_, value) => nowMs - value.CommitTimestampMs >= retentionMs),
                    _ => 0,
                };
                if (expired > 0)
                {
                    GroupCoordinatorLog.OffsetsExpired(_logger, group.GroupId, expired);
                }

                if (group.Is(GroupState.Empty) && group.PendingCount == 0 && !_store.HasOffsets(group.GroupId))
                {
                    group.TransitionTo(GroupState.Dead, now);
                    DisposeGroupTimers(group);
                    _groups.TryRemove(new KeyValuePair<string, ClassicGroup>(group.GroupId, group));
                    _store.RemoveGroup(group.GroupId);
                    GroupCoordinatorLog.GroupRemoved(_logger, group.GroupId);
                }
            }
        }
    }
}
