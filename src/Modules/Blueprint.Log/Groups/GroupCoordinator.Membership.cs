using Blueprint.Log.Kafka;

namespace Blueprint.Log.Groups;

/// <summary>SyncGroup, Heartbeat and LeaveGroup: distributing the leader's assignment and keeping members alive.</summary>
public sealed partial class GroupCoordinator
{
    /// <summary>
    /// Asks for the member's assignment. In CompletingRebalance a follower waits for the leader's SyncGroup, whose
    /// assignments complete every parked sync and make the group Stable; in Stable the current assignment is
    /// returned at once. Cancelling withdraws the sync (the member must still sync before the rebalance timeout).
    /// </summary>
    public Task<SyncGroupResult> SyncAsync(SyncGroupCall call, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(call);
        if (ct.IsCancellationRequested)
        {
            return Task.FromCanceled<SyncGroupResult>(ct);
        }

        var error = IsDisposed ? ErrorCode.CoordinatorNotAvailable
            : !IsValidGroupId(call.GroupId, allowEmpty: false) ? ErrorCode.InvalidGroupId
            : ErrorCode.None;
        var group = error == ErrorCode.None ? FindGroup(call.GroupId) : null;
        if (group is null)
        {
            return Task.FromResult(SyncGroupResult.Failure(error == ErrorCode.None ? ErrorCode.UnknownMemberId : error));
        }

        Parked<SyncGroupResult> parked;
        lock (group.Gate)
        {
            parked = SyncLocked(group, call);
        }

        return parked.Result is not null
            ? Task.FromResult(parked.Result)
            : WithdrawOnCancel(parked.Waiter!, new CancelledSync(group, parked.Member!, parked.Waiter!).Withdraw, ct);
    }

    /// <summary>
    /// A member's heartbeat: None while Stable or CompletingRebalance, <c>RebalanceInProgress</c> while preparing a
    /// rebalance (the member must rejoin), <c>IllegalGeneration</c> for another generation, <c>UnknownMemberId</c>
    /// for a member the group does not have. Every accepted heartbeat pushes the session deadline back.
    /// </summary>
    public ErrorCode Heartbeat(string groupId, int generationId, string memberId, string? groupInstanceId)
    {
        ArgumentNullException.ThrowIfNull(groupId);
        ArgumentNullException.ThrowIfNull(memberId);
        if (IsDisposed)
        {
            return ErrorCode.CoordinatorNotAvailable;
        }

        if (!IsValidGroupId(groupId, allowEmpty: false))
        {
            return ErrorCode.InvalidGroupId;
        }

        var group = FindGroup(groupId);
        if (group is null)
        {
            return ErrorCode.UnknownMemberId;
        }

        lock (group.Gate)
        {
            if (group.Is(GroupState.Dead))
            {
                return ErrorCode.CoordinatorNotAvailable;
            }

            var error = ValidateCurrentMember(group, memberId, groupInstanceId);
            if (error != ErrorCode.None)
            {
                return error;
            }

            if (generationId != group.GenerationId)
            {
                return ErrorCode.IllegalGeneration;
            }

            if (group.Is(GroupState.Empty))
            {
                return ErrorCode.UnknownMemberId;
            }

            var member = group.Get(memberId);
            member.SessionTimer!.Arm(member.SessionTimeout);
            return group.Is(GroupState.PreparingRebalance) ? ErrorCode.RebalanceInProgress : ErrorCode.None;
        }
    }

    /// <summary>
    /// Removes members from the group, each named by member id, or (with member id "") by group.instance.id; the group
    /// rebalances, or becomes Empty (keeping its offsets) when none remain.
    /// </summary>
    public LeaveGroupResult Leave(string groupId, IReadOnlyList<(string MemberId, string? GroupInstanceId)> members)
    {
        ArgumentNullException.ThrowIfNull(groupId);
        ArgumentNullException.ThrowIfNull(members);
        if (IsDisposed)
        {
            return new LeaveGroupResult(ErrorCode.CoordinatorNotAvailable, []);
        }

        if (!IsValidGroupId(groupId, allowEmpty: false))
        {
            return new LeaveGroupResult(ErrorCode.InvalidGroupId, []);
        }

        var group = FindGroup(groupId);
        if (group is null)
        {
            return new LeaveGroupResult(ErrorCode.None, [.. members.Select(m => (m.MemberId, m.GroupInstanceId, ErrorCode.UnknownMemberId))]);
        }

        lock (group.Gate)
        {
            if (group.Is(GroupState.Dead))
            {
                return new LeaveGroupResult(ErrorCode.CoordinatorNotAvailable, []);
            }

            return new LeaveGroupResult(ErrorCode.None, [.. members.Select(m => (m.MemberId, m.GroupInstanceId, LeaveLocked(group, m.MemberId, m.GroupInstanceId)))]);
        }
    }

    private ErrorCode LeaveLocked(ClassicGroup group, string memberId, string? groupInstanceId)
    {
        if (memberId.Length == 0)
        {
            // An administrative removal of a static member by its instance id.
            string? current = group.StaticMemberId(groupInstanceId);
            if (current is null)
            {
                return ErrorCode.UnknownMemberId;
            }

            memberId = current;
        }
        else if (group.IsPending(memberId))
        {
            group.RemovePending(memberId);
            TryCompleteJoin(group);
            return ErrorCode.None;
        }
        else
        {
            var error = ValidateCurrentMember(group, memberId, groupInstanceId);
            if (error != ErrorCode.None)
            {
                return error;
            }
        }

        GroupCoordinatorLog.MemberRemoved(_logger, group.GroupId, memberId, "it left the group");
        RemoveMemberAndUpdateGroup(group, group.Get(memberId), "a member left the group");
        return ErrorCode.None;
    }

    private Parked<SyncGroupResult> SyncLocked(ClassicGroup group, SyncGroupCall call)
    {
        if (group.Is(GroupState.Dead))
        {
            return new(SyncGroupResult.Failure(ErrorCode.CoordinatorNotAvailable));
        }

        var error = ValidateCurrentMember(group, call.MemberId, call.GroupInstanceId);
        if (error == ErrorCode.None && call.GenerationId != group.GenerationId)
        {
            error = ErrorCode.IllegalGeneration;
        }

        if (error == ErrorCode.None
            && ((call.ProtocolType is not null && call.ProtocolType != group.ProtocolType)
                || (call.ProtocolName is not null && call.ProtocolName != group.ProtocolName)))
        {
            error = ErrorCode.InconsistentGroupProtocol;
        }

        if (error != ErrorCode.None)
        {
            return new(SyncGroupResult.Failure(error));
        }

        var member = group.Get(call.MemberId);
        switch (group.State)
        {
            case GroupState.PreparingRebalance:
                return new(SyncGroupResult.Failure(ErrorCode.RebalanceInProgress));

            case GroupState.CompletingRebalance:
                CompleteSyncWaiter(member, SyncGroupResult.Failure(ErrorCode.RebalanceInProgress));
                var waiter = new TaskCompletionSource<SyncGroupResult>(TaskCreationOptions.RunContinuationsAsynchronously);
                member.SyncWaiter = waiter;
                MarkSynced(group, member);
                if (group.IsLeader(member.MemberId))
                {
                    ApplyLeaderAssignment(group, call.Assignments);
                }

                return new(member, waiter);

            case GroupState.Stable:
                MarkSynced(group, member);
                member.SessionTimer!.Arm(member.SessionTimeout);
                return new(new SyncGroupResult(ErrorCode.None, group.ProtocolType, group.ProtocolName, member.Assignment));

            default:
                return new(SyncGroupResult.Failure(ErrorCode.UnknownMemberId));
        }
    }

    private static void MarkSynced(ClassicGroup group, GroupMember member)
    {
        group.RemovePendingSync(member.MemberId);
        if (group.HasReceivedSyncFromAllMembers)
        {
            group.SyncTimer?.Cancel();
        }
    }

    /// <summary>
    /// The leader's assignment: members it left out get an empty one, ids it names that are not members are ignored.
    /// An assignment over <see cref="GroupCoordinatorOptions.MaxAssignmentBytes"/> fails the generation as an
    /// unstorable group record does in Kafka (<c>UnknownServerError</c> to every parked sync, then a rebalance).
    /// </summary>
    private void ApplyLeaderAssignment(ClassicGroup group, IReadOnlyList<(string MemberId, byte[] Assignment)> assignments)
    {
        var byMember = new Dictionary<string, byte[]>(StringComparer.Ordinal);
        foreach (var (memberId, assignment) in assignments)
        {
            if (assignment.Length > _options.MaxAssignmentBytes)
            {
                GroupCoordinatorLog.AssignmentTooLarge(_logger, group.GroupId, memberId, assignment.Length, _options.MaxAssignmentBytes);
                ResetAndPropagateAssignmentError(group, ErrorCode.UnknownServerError);
                PrepareRebalance(group, "the leader's assignment was too large");
                return;
            }

            byMember[memberId] = assignment;
        }

        foreach (var member in group.Members)
        {
            member.Assignment = byMember.GetValueOrDefault(member.MemberId, []);
        }

        PropagateAssignment(group, ErrorCode.None);
        group.TransitionTo(GroupState.Stable, Now);
        GroupCoordinatorLog.GroupStable(_logger, group.GroupId, group.GenerationId);
    }

    /// <summary>A SyncGroup whose connection closed while it was parked.</summary>
    private sealed class CancelledSync(ClassicGroup group, GroupMember member, TaskCompletionSource<SyncGroupResult> waiter)
    {
        public void Withdraw()
        {
            lock (group.Gate)
            {
                if (member.SyncWaiter != waiter)
                {
                    return;
                }

                member.SyncWaiter = null;
                waiter.TrySetCanceled();
                member.SessionTimer?.Arm(member.SessionTimeout);
            }
        }
    }
}
