using Blueprint.Log.Kafka;

namespace Blueprint.Log.Groups;

/// <summary>
/// The rebalance: PreparingRebalance until the members have rejoined, a new generation, the wait for SyncGroups, and
/// the timers that end each wait (initial delay, rebalance timeout, pending syncs, member sessions).
/// </summary>
public sealed partial class GroupCoordinator
{
    private void MaybePrepareRebalance(ClassicGroup group, string reason)
    {
        if (group.CanRebalance)
        {
            PrepareRebalance(group, reason);
        }
    }

    /// <summary>
    /// Starts a rebalance. Syncs parked in CompletingRebalance get <c>RebalanceInProgress</c> so those members rejoin.
    /// An empty group's first join waits <see cref="GroupCoordinatorOptions.InitialRebalanceDelay"/> (longer while new
    /// members keep arriving); otherwise the join completes once every member has rejoined, or at the rebalance timeout.
    /// </summary>
    private void PrepareRebalance(ClassicGroup group, string reason)
    {
        if (group.Is(GroupState.CompletingRebalance))
        {
            ResetAndPropagateAssignmentError(group, ErrorCode.RebalanceInProgress);
        }

        group.ClearPendingSync();
        group.SyncTimer?.Cancel();
        bool wasEmpty = group.Is(GroupState.Empty);
        group.TransitionTo(GroupState.PreparingRebalance, Now);
        GroupCoordinatorLog.RebalancePrepared(_logger, group.GroupId, group.GenerationId, reason);
        if (wasEmpty)
        {
            _store.RecordGroupState(group.GroupId, group.ProtocolType ?? "", emptySinceMs: -1);
        }

        group.JoinTimer ??= new GroupTimer(_time, timer => OnJoinDeadline(group, timer));
        if (wasEmpty && _options.InitialRebalanceDelay > TimeSpan.Zero)
        {
            group.InitialDelayActive = true;
            group.NewMemberAdded = false;
            var rest = group.RebalanceTimeout - _options.InitialRebalanceDelay;
            group.InitialDelayRemaining = rest > TimeSpan.Zero ? rest : TimeSpan.Zero;
            group.JoinTimer.Arm(_options.InitialRebalanceDelay);
        }
        else
        {
            group.InitialDelayActive = false;
            group.JoinTimer.Arm(group.RebalanceTimeout);
            TryCompleteJoin(group);
        }
    }

    private void TryCompleteJoin(ClassicGroup group)
    {
        if (group.Is(GroupState.PreparingRebalance) && !group.InitialDelayActive && group.HasAllMembersJoined)
        {
            CompleteJoin(group);
        }
    }

    private void OnJoinDeadline(ClassicGroup group, GroupTimer timer)
    {
        lock (group.Gate)
        {
            if (!timer.TryExpire() || !group.Is(GroupState.PreparingRebalance))
            {
                return;
            }

            if (group.InitialDelayActive && group.NewMemberAdded && group.InitialDelayRemaining > TimeSpan.Zero)
            {
                // New members arrived during the delay: wait again, within what the rebalance timeout leaves.
                group.NewMemberAdded = false;
                var delay = group.InitialDelayRemaining < _options.InitialRebalanceDelay ? group.InitialDelayRemaining : _options.InitialRebalanceDelay;
                group.InitialDelayRemaining -= delay;
                timer.Arm(delay);
                return;
            }

            CompleteJoin(group);
        }
    }

    /// <summary>
    /// Ends PreparingRebalance: dynamic members that did not rejoin are removed (static ones keep their place until
    /// their session expires), a rejoined member leads if the leader did not rejoin, and the next generation starts:
    /// every parked join is answered (the leader's with every member's metadata) and the members must sync within the
    /// rebalance timeout. With no member left the group becomes Empty.
    /// </summary>
    private void CompleteJoin(ClassicGroup group)
    {
        group.JoinTimer?.Cancel();
        group.InitialDelayActive = false;
        foreach (var member in group.Members.Where(m => !m.IsAwaitingJoin && !m.IsStatic).ToList())
        {
            GroupCoordinatorLog.MemberRemoved(_logger, group.GroupId, member.MemberId, "it did not rejoin before the rebalance timeout");
            RemoveMember(group, member);
        }

        if (!group.MaybeElectNewJoinedLeader() && group.Count > 0)
        {
            // Only static members that have not rejoined are left; wait for them or for their sessions to expire.
            group.JoinTimer!.Arm(group.RebalanceTimeout);
            return;
        }

        group.InitNextGeneration(Now);
        if (group.Is(GroupState.Empty))
        {
            GroupCoordinatorLog.GroupEmpty(_logger, group.GroupId, group.GenerationId);
            _store.RecordGroupState(group.GroupId, group.ProtocolType ?? "", Now.ToUnixTimeMilliseconds());
            return;
        }

        GroupCoordinatorLog.GenerationFormed(_logger, group.GroupId, group.GenerationId, group.Count, group.ProtocolName!, group.LeaderId!);
        var memberMetadata = group.CurrentMemberMetadata();
        foreach (var member in group.Members)
        {
            bool leader = group.IsLeader(member.MemberId);
            CompleteJoinWaiter(member, new JoinGroupResult(
                ErrorCode.None, group.GenerationId, group.ProtocolType, group.ProtocolName, group.LeaderId!, member.MemberId, leader ? memberMetadata : []));
            member.SessionTimer!.Arm(member.SessionTimeout);
            member.IsNew = false;
            group.AddPendingSync(member.MemberId);
        }

        group.SyncTimer ??= new GroupTimer(_time, timer => OnSyncDeadline(group, timer));
        group.SyncTimer.Arm(group.RebalanceTimeout);
    }

    /// <summary>Members of the generation that have not sent SyncGroup within the rebalance timeout are removed, and the group rebalances.</summary>
    private void OnSyncDeadline(ClassicGroup group, GroupTimer timer)
    {
        lock (group.Gate)
        {
            if (!timer.TryExpire() || group.State is not (GroupState.CompletingRebalance or GroupState.Stable) || group.HasReceivedSyncFromAllMembers)
            {
                return;
            }

            foreach (var member in group.PendingSyncMembers())
            {
                GroupCoordinatorLog.MemberRemoved(_logger, group.GroupId, member.MemberId, "it did not sync before the rebalance timeout");
                RemoveMember(group, member);
            }

            PrepareRebalance(group, "members did not sync in time");
        }
    }

    private GroupTimer NewSessionTimer(ClassicGroup group, GroupMember member) => new(_time, timer => OnSessionDeadline(group, member, timer));

    /// <summary>
    /// A member's session expired. A member with a parked join or sync is alive (it is waiting for the group, not
    /// silent) and gets a new deadline when its request is answered; a new member's first join may stay parked
    /// only <see cref="NewMemberJoinTimeout"/>.
    /// </summary>
    private void OnSessionDeadline(ClassicGroup group, GroupMember member, GroupTimer timer)
    {
        lock (group.Gate)
        {
            if (!timer.TryExpire() || !group.TryGet(member.MemberId, out var present) || present != member)
            {
                return;
            }

            if (!member.IsNew && (member.IsAwaitingJoin || member.IsAwaitingSync))
            {
                return;
            }

            GroupCoordinatorLog.MemberRemoved(_logger, group.GroupId, member.MemberId, "its session timed out");
            RemoveMemberAndUpdateGroup(group, member, "a member's session timed out");
        }
    }

    /// <summary>Removes a member (its parked requests get <c>UnknownMemberId</c>) and rebalances or completes the join in progress.</summary>
    private void RemoveMemberAndUpdateGroup(ClassicGroup group, GroupMember member, string reason)
    {
        RemoveMember(group, member);
        switch (group.State)
        {
            case GroupState.Stable or GroupState.CompletingRebalance:
                PrepareRebalance(group, reason);
                break;
            case GroupState.PreparingRebalance:
                TryCompleteJoin(group);
                break;
        }
    }

    private static void RemoveMember(ClassicGroup group, GroupMember member)
    {
        CompleteJoinWaiter(member, JoinGroupResult.Failure("", ErrorCode.UnknownMemberId));
        CompleteSyncWaiter(member, SyncGroupResult.Failure(ErrorCode.UnknownMemberId));
        group.Remove(member);
    }

    private static void ResetAndPropagateAssignmentError(ClassicGroup group, ErrorCode error)
    {
        GroupInvariant.Check(group.Is(GroupState.CompletingRebalance), group.GroupId, "assignment error outside CompletingRebalance");
        foreach (var member in group.Members)
        {
            member.Assignment = [];
        }

        PropagateAssignment(group, error);
    }

    /// <summary>Answers every parked sync with the member's assignment (or the error) and gives that member a new session deadline.</summary>
    private static void PropagateAssignment(ClassicGroup group, ErrorCode error)
    {
        foreach (var member in group.Members)
        {
            if (member.IsAwaitingSync)
            {
                CompleteSyncWaiter(member, error == ErrorCode.None
                    ? new SyncGroupResult(ErrorCode.None, group.ProtocolType, group.ProtocolName, member.Assignment)
                    : SyncGroupResult.Failure(error));
                member.SessionTimer!.Arm(member.SessionTimeout);
            }
        }
    }
}
