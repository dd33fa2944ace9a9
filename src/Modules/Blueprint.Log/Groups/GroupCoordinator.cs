using System.Collections.Concurrent;
using Blueprint.Log.Kafka;
using Microsoft.Extensions.Logging;

namespace Blueprint.Log.Groups;

/// <summary>
/// The coordinator of classic Kafka consumer groups (the JoinGroup/SyncGroup protocol, with the rebalance timeout of
/// KIP-62, the member ids of KIP-394 and the static membership of KIP-345) and of their committed offsets, modelled on
/// Kafka's GroupCoordinator and GroupMetadata. The broker turns decoded requests into calls here and encodes the results.
/// <para>
/// Concurrency: each group has its own lock; no call blocks a thread waiting for other members. A JoinGroup or
/// SyncGroup that must wait parks a <see cref="TaskCompletionSource{TResult}"/> on its member, completed by another
/// member's request or by a timer of the injected <see cref="TimeProvider"/>. Cancelling a parked request (its
/// connection closed) withdraws it under the lock: a member that had not joined before is removed, any other member
/// keeps its place until its session or the rebalance times out.
/// </para>
/// <para>
/// Durability: committed offsets go to an append-only journal in the coordinator's directory (see
/// <see cref="OffsetStore"/>) and survive a restart; membership does not, as members rejoin after a restart anyway.
/// </para>
/// </summary>
public sealed partial class GroupCoordinator : IAsyncDisposable
{
    /// <summary>How long a new member's first JoinGroup may stay parked before it is dropped (Kafka's NewMemberJoinTimeoutMs).</summary>
    internal static readonly TimeSpan NewMemberJoinTimeout = TimeSpan.FromMinutes(5);

    /// <summary>The longest topic name Kafka allows; longer (or empty) names in a commit get <c>InvalidTopicException</c>.</summary>
    internal const int MaxTopicNameLength = 249;

    private readonly GroupCoordinatorOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly OffsetStore _store;
    private readonly ConcurrentDictionary<string, ClassicGroup> _groups = new(StringComparer.Ordinal);
    private readonly Lock _registryGate = new();
    private readonly ITimer _retentionTimer;
    private int _disposed;

    private GroupCoordinator(GroupCoordinatorOptions options, TimeProvider time, ILogger logger, OffsetStore store)
    {
        _options = options;
        _time = time;
        _logger = logger;
        _store = store;
        var now = time.GetUtcNow();
        foreach (var stored in store.StoredGroups())
        {
            bool managed = stored.ProtocolType.Length > 0;
            var emptySince = stored.EmptySinceMs >= 0 ? DateTimeOffset.FromUnixTimeMilliseconds(stored.EmptySinceMs) : now;
            _groups[stored.GroupId] = new ClassicGroup(stored.GroupId, emptySince) { ProtocolType = managed ? stored.ProtocolType : null };
            if (managed && stored.EmptySinceMs < 0)
            {
                // The group had members when the coordinator stopped; they are gone, so its retention starts now.
                store.RecordGroupState(stored.GroupId, stored.ProtocolType, now.ToUnixTimeMilliseconds());
            }
        }

        _retentionTimer = time.CreateTimer(
            static state => ((GroupCoordinator)state!).RemoveExpiredOffsets(),
            this,
            options.OffsetsRetentionCheckInterval,
            options.OffsetsRetentionCheckInterval);
    }

    /// <summary>The number of groups held, including empty groups that only keep offsets.</summary>
    public int GroupCount => _groups.Count;

    /// <summary>
    /// Opens the coordinator on <paramref name="directory"/> (created when missing), replaying its offsets journal and
    /// cutting off a torn tail. Throws <see cref="ArgumentException"/> listing every problem of <paramref name="options"/>.
    /// </summary>
    public static GroupCoordinator Open(string directory, GroupCoordinatorOptions options, TimeProvider time, ILogger logger)
    {
        ArgumentException.ThrowIfNullOrEmpty(directory);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(time);
        ArgumentNullException.ThrowIfNull(logger);
        var problems = options.Validate();
        if (problems.Count > 0)
        {
            throw new ArgumentException("Invalid group coordinator options: " + string.Join(" ", problems), nameof(options));
        }

        var store = OffsetStore.Open(directory, options, logger);
        var coordinator = new GroupCoordinator(options, time, logger, store);
        GroupCoordinatorLog.Opened(logger, directory, coordinator._groups.Count, store.Recovery.TruncatedBytes);
        return coordinator;
    }

    /// <summary>Every committed offset of every group.</summary>
    public List<(string GroupId, string Topic, int Partition, long Offset)> CommittedOffsets() => _store.AllOffsets();

    /// <summary>Every group with its protocol type ("" for groups that only commit offsets) and state, ordered by id.</summary>
    public IReadOnlyList<(string GroupId, string ProtocolType, string State)> ListGroups()
    {
        var list = new List<(string GroupId, string ProtocolType, string State)>();
        foreach (var group in _groups.Values)
        {
            lock (group.Gate)
            {
                if (!group.Is(GroupState.Dead))
                {
                    list.Add((group.GroupId, group.ProtocolType ?? "", group.State.ToString()));
                }
            }
        }

        list.Sort(static (a, b) => string.CompareOrdinal(a.GroupId, b.GroupId));
        return list;
    }

    /// <summary>Describes each group asked for; an unknown group is described as Dead with no error, as Kafka does before DescribeGroups v6.</summary>
    public IReadOnlyList<GroupDescription> DescribeGroups(IReadOnlyList<string> groupIds)
    {
        ArgumentNullException.ThrowIfNull(groupIds);
        var descriptions = new List<GroupDescription>(groupIds.Count);
        foreach (string groupId in groupIds)
        {
            descriptions.Add(Describe(groupId));
        }

        return descriptions;
    }

    /// <summary>Answers every parked request with <c>NotCoordinator</c>, stops the timers, writes what is pending and closes the journal.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        await _retentionTimer.DisposeAsync().ConfigureAwait(false);
        foreach (var group in _groups.Values)
        {
            lock (group.Gate)
            {
                Unload(group);
            }
        }

        await _store.DisposeAsync().ConfigureAwait(false);
    }

    private bool IsDisposed => Volatile.Read(ref _disposed) != 0;

    private DateTimeOffset Now => _time.GetUtcNow();

    private GroupDescription Describe(string groupId)
    {
        if (IsDisposed)
        {
            return new GroupDescription(ErrorCode.CoordinatorNotAvailable, groupId, "", "", "", []);
        }

        if (groupId.Length > _options.MaxGroupIdLength)
        {
            return new GroupDescription(ErrorCode.InvalidGroupId, groupId, "", "", "", []);
        }

        if (_groups.TryGetValue(groupId, out var group))
        {
            lock (group.Gate)
            {
                if (!group.Is(GroupState.Dead))
                {
                    return group.Describe();
                }
            }
        }

        return new GroupDescription(ErrorCode.None, groupId, nameof(GroupState.Dead), "", "", []);
    }

    /// <summary>Group ids of every group-management call must be non-empty and not too long; offset calls accept "" as Kafka does.</summary>
    private bool IsValidGroupId(string groupId, bool allowEmpty) =>
        (allowEmpty || groupId.Length > 0) && groupId.Length <= _options.MaxGroupIdLength;

    private ClassicGroup? FindGroup(string groupId) => _groups.TryGetValue(groupId, out var group) ? group : null;

    /// <summary>The group, created Empty when missing; null when the coordinator already holds <see cref="GroupCoordinatorOptions.MaxGroups"/>.</summary>
    private ClassicGroup? GetOrCreateGroup(string groupId)
    {
        if (_groups.TryGetValue(groupId, out var group))
        {
            return group;
        }

        lock (_registryGate)
        {
            if (_groups.TryGetValue(groupId, out group))
            {
                return group;
            }

            if (_groups.Count >= _options.MaxGroups)
            {
                GroupCoordinatorLog.GroupLimitReached(_logger, groupId, _options.MaxGroups);
                return null;
            }

            group = new ClassicGroup(groupId, Now);
            _groups[groupId] = group;
            return group;
        }
    }

    /// <summary>Takes a group out of service: parked requests get <c>NotCoordinator</c>, timers stop, the group is Dead.</summary>
    private void Unload(ClassicGroup group)
    {
        if (group.Is(GroupState.Dead))
        {
            return;
        }

        foreach (var member in group.Members)
        {
            CompleteJoinWaiter(member, JoinGroupResult.Failure(member.MemberId, ErrorCode.NotCoordinator));
            CompleteSyncWaiter(member, SyncGroupResult.Failure(ErrorCode.NotCoordinator));
            member.SessionTimer?.Dispose();
        }

        DisposeGroupTimers(group);
        group.TransitionTo(GroupState.Dead, Now);
    }

    private static void DisposeGroupTimers(ClassicGroup group)
    {
        group.JoinTimer?.Dispose();
        group.SyncTimer?.Dispose();
        group.ClearPending();
    }

    /// <summary>
    /// Checks that a request names a current member: with a group.instance.id, the instance must be registered under
    /// this member id (else <c>FencedInstanceId</c>, or <c>UnknownMemberId</c> for an unknown instance); without, the
    /// member id must be present.
    /// </summary>
    private static ErrorCode ValidateCurrentMember(ClassicGroup group, string memberId, string? groupInstanceId)
    {
        if (groupInstanceId is not null)
        {
            string? registered = group.StaticMemberId(groupInstanceId);
            if (registered is null)
            {
                return ErrorCode.UnknownMemberId;
            }

            if (registered != memberId)
            {
                return ErrorCode.FencedInstanceId;
            }
        }

        return group.Has(memberId) ? ErrorCode.None : ErrorCode.UnknownMemberId;
    }

    private static void CompleteJoinWaiter(GroupMember member, JoinGroupResult result)
    {
        var waiter = member.JoinWaiter;
        member.JoinWaiter = null;
        waiter?.TrySetResult(result);
    }

    private static void CompleteSyncWaiter(GroupMember member, SyncGroupResult result)
    {
        var waiter = member.SyncWaiter;
        member.SyncWaiter = null;
        waiter?.TrySetResult(result);
    }
}
