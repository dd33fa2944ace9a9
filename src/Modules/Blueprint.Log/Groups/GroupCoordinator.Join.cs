using Blueprint.Log.Kafka;

namespace Blueprint.Log.Groups;

/// <summary>JoinGroup: admitting members, handing out member ids, static members, parking joins for the rebalance.</summary>
public sealed partial class GroupCoordinator
{
    /// <summary>
    /// Joins a member to the group. Completes at once with an error, with <c>MemberIdRequired</c> (v4+ new members), or
    /// with the current generation (a follower rejoining unchanged); otherwise when the rebalance completes: every
    /// known member rejoined or the rebalance timeout passed. Cancelling withdraws the join.
    /// </summary>
    public Task<JoinGroupResult> JoinAsync(JoinGroupCall call, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(call);
        if (ct.IsCancellationRequested)
        {
            return Task.FromCanceled<JoinGroupResult>(ct);
        }

        var error = ValidateJoin(call);
        if (error != ErrorCode.None)
        {
            return Task.FromResult(JoinGroupResult.Failure(call.MemberId, error));
        }

        bool isNewMember = call.MemberId.Length == 0;
        var group = isNewMember ? GetOrCreateGroup(call.GroupId) : FindGroup(call.GroupId);
        if (group is null)
        {
            return Task.FromResult(JoinGroupResult.Failure(call.MemberId, isNewMember ? ErrorCode.CoordinatorNotAvailable : ErrorCode.UnknownMemberId));
        }

        Parked<JoinGroupResult> parked;
        lock (group.Gate)
        {
            parked = JoinLocked(group, call, isNewMember);
        }

        return parked.Result is not null
            ? Task.FromResult(parked.Result)
            : WithdrawOnCancel(parked.Waiter!, new CancelledJoin(this, group, parked.Member!, parked.Waiter!).Withdraw, ct);
    }

    /// <summary>
    /// The parked request's task itself (so it is complete the moment the group answers it), withdrawn through
    /// <paramref name="withdraw"/> if <paramref name="ct"/> fires first. The registration is released once answered.
    /// </summary>
    private static Task<T> WithdrawOnCancel<T>(TaskCompletionSource<T> waiter, Action withdraw, CancellationToken ct)
    {
        if (!ct.CanBeCanceled)
        {
            return waiter.Task;
        }

        var registration = ct.Register(static state => ((Action)state!)(), withdraw);
        _ = waiter.Task.ContinueWith(
            static (_, state) => ((CancellationTokenRegistration)state!).Dispose(),
            registration,
            CancellationToken.None,
            TaskContinuationOptions.None,
            TaskScheduler.Default);
        return waiter.Task;
    }

    private ErrorCode ValidateJoin(JoinGroupCall call)
    {
        if (IsDisposed)
        {
            return ErrorCode.CoordinatorNotAvailable;
        }

        if (!IsValidGroupId(call.GroupId, allowEmpty: false))
        {
            return ErrorCode.InvalidGroupId;
        }

        if (call.SessionTimeout < _options.MinSessionTimeout || call.SessionTimeout > _options.MaxSessionTimeout)
        {
            return ErrorCode.InvalidSessionTimeout;
        }

        long bytes = 0;
        foreach (var (name, metadata) in call.Protocols)
        {
            bytes += name.Length + metadata.Length;
        }

        return call.Protocols.Count > _options.MaxProtocolsPerMember || bytes > _options.MaxMemberMetadataBytes
            ? ErrorCode.InvalidRequest
            : ErrorCode.None;
    }

    private Parked<JoinGroupResult> JoinLocked(ClassicGroup group, JoinGroupCall call, bool isNewMember)
    {
        if (group.Is(GroupState.Dead))
        {
            // The group was removed after this request found it; the client looks the coordinator up again and retries.
            return new(JoinGroupResult.Failure(call.MemberId, ErrorCode.CoordinatorNotAvailable));
        }

        if (!AcceptJoiningMember(group, call.MemberId))
        {
            if (group.TryGet(call.MemberId, out var shed))
            {
                RemoveMemberAndUpdateGroup(group, shed, "the group is at its maximum size and the member had not rejoined");
            }

            return new(JoinGroupResult.Failure("", ErrorCode.GroupMaxSizeReached));
        }

        var parked = isNewMember ? NewMemberJoin(group, call) : CurrentMemberJoin(group, call);
        if (group.Is(GroupState.PreparingRebalance))
        {
            TryCompleteJoin(group);
        }

        return parked;
    }

    /// <summary>
    /// Whether the group has room for the joining member. While preparing a rebalance the members that rejoined count
    /// (members that have not will be dropped anyway, so the last to rejoin are the ones turned away); otherwise the
    /// members present count.
    /// </summary>
    private bool AcceptJoiningMember(ClassicGroup group, string memberId) => group.State switch
    {
        GroupState.Empty or GroupState.Dead => true,
        GroupState.PreparingRebalance =>
            (group.TryGet(memberId, out var member) && member.IsAwaitingJoin) || group.AwaitingJoinCount < _options.MaxGroupSize,
        _ => group.Has(memberId) || group.Count < _options.MaxGroupSize,
    };

    private Parked<JoinGroupResult> NewMemberJoin(ClassicGroup group, JoinGroupCall call)
    {
        if (!group.SupportsProtocols(call.ProtocolType, call.Protocols))
        {
            return new(JoinGroupResult.Failure("", ErrorCode.InconsistentGroupProtocol));
        }

        string newMemberId = $"{call.GroupInstanceId ?? call.ClientId}-{Guid.NewGuid()}";
        if (call.GroupInstanceId is not null)
        {
            string? oldMemberId = group.StaticMemberId(call.GroupInstanceId);
            return oldMemberId is null
                ? AddMemberAndRebalance(group, call, newMemberId)
                : UpdateStaticMemberAndRebalance(group, group.Get(oldMemberId), newMemberId, call);
        }

        if (!call.RequireKnownMemberId)
        {
            return AddMemberAndRebalance(group, call, newMemberId);
        }

        if (group.PendingCount >= _options.MaxGroupSize)
        {
            return new(JoinGroupResult.Failure("", ErrorCode.GroupMaxSizeReached));
        }

        // KIP-394: the member learns its id first and joins with it, so a client whose join times out and retries
        // does not leave a stray member behind. An id not used within the session timeout is forgotten.
        var expiry = new GroupTimer(_time, timer => OnPendingMemberDeadline(group, newMemberId, timer));
        group.AddPending(newMemberId, expiry);
        expiry.Arm(call.SessionTimeout);
        return new(JoinGroupResult.Failure(newMemberId, ErrorCode.MemberIdRequired));
    }

    private Parked<JoinGroupResult> CurrentMemberJoin(ClassicGroup group, JoinGroupCall call)
    {
        string memberId = call.MemberId;
        if (!group.SupportsProtocols(call.ProtocolType, call.Protocols))
        {
            return new(JoinGroupResult.Failure(memberId, ErrorCode.InconsistentGroupProtocol));
        }

        if (group.IsPending(memberId))
        {
            // Ids are handed out only to dynamic members; a static instance presenting one has mixed them up.
            return call.GroupInstanceId is null
                ? AddMemberAndRebalance(group, call, memberId)
                : new(JoinGroupResult.Failure(memberId, ErrorCode.UnknownMemberId));
        }

        var error = ValidateCurrentMember(group, memberId, call.GroupInstanceId);
        if (error != ErrorCode.None)
        {
            return new(JoinGroupResult.Failure(memberId, error));
        }

        var member = group.Get(memberId);
        switch (group.State)
        {
            case GroupState.PreparingRebalance:
                return UpdateMemberAndRebalance(group, member, call);

            case GroupState.CompletingRebalance when member.Matches(call.Protocols):
                // The member lost the join response; it gets the same generation again.
                member.SessionTimer!.Arm(member.SessionTimeout);
                return new(CurrentGeneration(group, member, withMembers: group.IsLeader(memberId)));

            case GroupState.Stable when !group.IsLeader(memberId) && member.Matches(call.Protocols):
                // A follower rejoining unchanged needs no rebalance; it syncs again in the current generation.
                member.SessionTimer!.Arm(member.SessionTimeout);
                return new(CurrentGeneration(group, member, withMembers: false));

            case GroupState.CompletingRebalance or GroupState.Stable:
                // Changed metadata, or the leader asking for a new assignment (e.g. the topics' partitions changed).
                return UpdateMemberAndRebalance(group, member, call);

            default:
                return new(JoinGroupResult.Failure(memberId, ErrorCode.UnknownMemberId));
        }
    }

    private Parked<JoinGroupResult> AddMemberAndRebalance(ClassicGroup group, JoinGroupCall call, string memberId)
    {
        var member = new GroupMember(memberId, call) { IsNew = true };
        if (group.Is(GroupState.PreparingRebalance) && group.GenerationId == 0)
        {
            group.NewMemberAdded = true;
        }

        group.Add(member);
        member.SessionTimer = NewSessionTimer(group, member);
        member.SessionTimer.Arm(NewMemberJoinTimeout);
        var waiter = Park(member);
        MaybePrepareRebalance(group, "a new member joined");
        return new(member, waiter);
    }

    private Parked<JoinGroupResult> UpdateMemberAndRebalance(ClassicGroup group, GroupMember member, JoinGroupCall call)
    {
        UpdateMember(group, member, call);
        var waiter = Park(member);
        MaybePrepareRebalance(group, "a member rejoined with new metadata, or the leader rejoined");
        return new(member, waiter);
    }

    /// <summary>
    /// A static instance rejoined without its member id (it restarted): its member gets the new id and the old id is
    /// fenced. In a Stable group whose protocol would not change this needs no rebalance; the answer names the old
    /// leader id, so a restarted leader does not compute an assignment the Stable group would ignore.
    /// </summary>
    private Parked<JoinGroupResult> UpdateStaticMemberAndRebalance(ClassicGroup group, GroupMember member, string newMemberId, JoinGroupCall call)
    {
        string? currentLeader = group.LeaderId;
        CompleteJoinWaiter(member, JoinGroupResult.Failure(member.MemberId, ErrorCode.FencedInstanceId));
        CompleteSyncWaiter(member, SyncGroupResult.Failure(ErrorCode.FencedInstanceId));
        group.ReplaceStaticMember(member, newMemberId);
        UpdateMember(group, member, call);
        switch (group.State)
        {
            case GroupState.Stable when group.SelectProtocol() == group.ProtocolName:
                return new(new JoinGroupResult(ErrorCode.None, group.GenerationId, group.ProtocolType, group.ProtocolName, currentLeader ?? "", newMemberId, []));

            case GroupState.Stable or GroupState.CompletingRebalance:
                // In CompletingRebalance the leader may be assigning to the old id, so the group must rebalance.
                var waiter = Park(member);
                PrepareRebalance(group, "a static member rejoined with a new member id");
                return new(member, waiter);

            case GroupState.PreparingRebalance:
                return new(member, Park(member));

            default:
                throw new InvalidOperationException($"Group '{group.GroupId}' has a static member while {group.State}.");
        }
    }

    private static void UpdateMember(ClassicGroup group, GroupMember member, JoinGroupCall call)
    {
        group.UpdateProtocols(member, call.Protocols);
        member.SessionTimeout = call.SessionTimeout;
        member.RebalanceTimeout = call.RebalanceTimeout;
        member.SessionTimer!.Arm(member.SessionTimeout);
    }

    /// <summary>Parks a join on the member; a join it already had parked is answered <c>RebalanceInProgress</c> (superseded).</summary>
    private static TaskCompletionSource<JoinGroupResult> Park(GroupMember member)
    {
        CompleteJoinWaiter(member, JoinGroupResult.Failure(member.MemberId, ErrorCode.RebalanceInProgress));
        var waiter = new TaskCompletionSource<JoinGroupResult>(TaskCreationOptions.RunContinuationsAsynchronously);
        member.JoinWaiter = waiter;
        return waiter;
    }

    private static JoinGroupResult CurrentGeneration(ClassicGroup group, GroupMember member, bool withMembers) => new(
        ErrorCode.None,
        group.GenerationId,
        group.ProtocolType,
        group.ProtocolName,
        group.LeaderId ?? "",
        member.MemberId,
        withMembers ? group.CurrentMemberMetadata() : []);

    private void OnPendingMemberDeadline(ClassicGroup group, string memberId, GroupTimer timer)
    {
        lock (group.Gate)
        {
            if (timer.TryExpire() && group.RemovePending(memberId) && group.Is(GroupState.PreparingRebalance))
            {
                TryCompleteJoin(group);
            }
        }
    }

    /// <summary>A JoinGroup whose connection closed while it was parked.</summary>
    private sealed class CancelledJoin(GroupCoordinator coordinator, ClassicGroup group, GroupMember member, TaskCompletionSource<JoinGroupResult> waiter)
    {
        public void Withdraw()
        {
            lock (group.Gate)
            {
                if (member.JoinWaiter != waiter)
                {
                    return;
                }

                member.JoinWaiter = null;
                waiter.TrySetCanceled();
                if (!group.TryGet(member.MemberId, out var present) || present != member)
                {
                    return;
                }

                if (member.IsNew)
                {
                    // It never had a generation: nobody waits for it, so it leaves at once.
                    coordinator.RemoveMemberAndUpdateGroup(group, member, "its first join was cancelled");
                }
                else
                {
                    // It keeps its place until the rebalance completes without it or its session expires.
                    member.SessionTimer!.Arm(member.SessionTimeout);
                }
            }
        }
    }
}

/// <summary>A request answered at once (<see cref="Result"/>) or parked on a member until the group answers it.</summary>
internal readonly record struct Parked<T>(T? Result, GroupMember? Member, TaskCompletionSource<T>? Waiter)
    where T : class
{
    public Parked(T result)
        : this(result, null, null)
    {
    }

    public Parked(GroupMember member, TaskCompletionSource<T> waiter)
        : this(null, member, waiter)
    {
    }
}
