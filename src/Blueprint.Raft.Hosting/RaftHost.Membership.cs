using System.Buffers.Binary;
using Blueprint.Core.Raft;
using Microsoft.Extensions.Logging;

namespace Blueprint.Raft.Hosting;

// Membership through the log: the member table (tag 1 entries) and the voter set (configuration entries).
public sealed partial class RaftHost
{
    private readonly SemaphoreSlim _memberChanges = new(1, 1);

    /// <summary>
    /// Adds a member: the leader gives it the next unused id, records it in the member table, then adds it as a voter
    /// (single-server change, thesis §4.1). Start the new process afterwards with <see cref="RaftHostOptions.Join"/>
    /// and the returned member list. Retrying with the same name and peer URLs finishes an interrupted add.
    /// </summary>
    /// <param name="name">The new member's unique name.</param>
    /// <param name="peerUrls">Where the other members reach it.</param>
    /// <param name="ct">Gives up waiting.</param>
    /// <returns>The member as recorded, with its id.</returns>
    public async Task<RaftMember> AddMemberAsync(string name, IReadOnlyList<string> peerUrls, CancellationToken ct)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentNullException.ThrowIfNull(peerUrls);
        if (peerUrls.Count == 0 || peerUrls.Count > MemberTable.UrlsPerMemberMax || peerUrls.Any(u => !Uri.TryCreate(u, UriKind.Absolute, out _)))
        {
            throw new ArgumentException($"Give 1 to {MemberTable.UrlsPerMemberMax} absolute peer URLs such as http://127.0.0.1:2380.", nameof(peerUrls));
        }

        var request = MemberTable.EncodeMember(new RaftMember(0, name, [.. peerUrls], []));
        var result = await OnLeaderAsync(KindMemberAdd, request, ct).ConfigureAwait(false);
        return MemberTable.DecodeMember(result);
    }

    /// <summary>Removes a member: first from the voters, then from the member table. A leader removing itself hands leadership over first.</summary>
    /// <param name="id">The member's id.</param>
    /// <param name="ct">Gives up waiting.</param>
    /// <returns>A task that completes when both changes are applied on the leader.</returns>
    public async Task RemoveMemberAsync(int id, CancellationToken ct)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(id);
        await OnLeaderAsync(KindMemberRemove, EncodeId(id), ct).ConfigureAwait(false);
    }

    /// <summary>Hands leadership to <paramref name="target"/> (thesis §3.10) and waits until this node sees it lead.</summary>
    /// <param name="target">Another voter.</param>
    /// <param name="ct">Gives up waiting.</param>
    /// <returns>A task that completes once <paramref name="target"/> leads.</returns>
    public async Task TransferLeadershipAsync(int target, CancellationToken ct)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(target);
        var electionTimeout = _options.TickInterval * _options.ElectionTimeoutTicks;
        while (LeaderId != target)
        {
            await OnLeaderAsync(KindTransfer, EncodeId(target), ct).ConfigureAwait(false);
            var deadline = _time.GetUtcNow() + electionTimeout;
            while (LeaderId != target && _time.GetUtcNow() < deadline)
            {
                if (ct.IsCancellationRequested)
                {
                    throw new RaftUnavailableException($"Raft host {Id}: leadership did not move to {target} before the caller gave up");
                }

                await WaitForRetryAsync(Volatile.Read(ref _statusChanged).Task, ct).ConfigureAwait(false);
            }
        }
    }

    private async Task<byte[]> AddMemberOnLeaderAsync(ReadOnlyMemory<byte> payload, CancellationToken ct)
    {
        var request = MemberTable.DecodeMember(payload.Span);
        await _memberChanges.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            var members = Members;
            var member = members.FirstOrDefault(m => m.Name == request.Name);
            if (member is not null && !member.PeerUrls.SequenceEqual(request.PeerUrls))
            {
                throw new ArgumentException($"Member '{request.Name}' exists with peer URLs {string.Join(",", member.PeerUrls)}.");
            }

            if (member is null)
            {
                if (members.FirstOrDefault(m => m.PeerUrls.Intersect(request.PeerUrls).Any()) is { } holder)
                {
                    throw new ArgumentException($"Member {holder.Id} ('{holder.Name}') already uses a peer URL of {string.Join(",", request.PeerUrls)}.");
                }

                if (members.Count >= MemberTable.MembersMax)
                {
                    throw new ArgumentException($"The cluster holds {members.Count} members, the most allowed (MembersMax).");
                }

                member = request with { Id = Volatile.Read(ref _memberView).NextId };
                await ProposeLocalAsync(node => node.Propose(Tagged(TagMembers, MemberTable.EncodeAdd(member))), ct).ConfigureAwait(false);
            }

            await ChangeVotersAsync(new ConfigChange(ConfigChangeKind.AddVoter, member.Id), ct).ConfigureAwait(false);
            ClusterLog.MemberAdded(_logger, Id, member.Id, member.Name, member.PeerUrls);
            return MemberTable.EncodeMember(member);
        }
        finally
        {
            _memberChanges.Release();
        }
    }

    private async Task<byte[]> RemoveMemberOnLeaderAsync(ReadOnlyMemory<byte> payload, CancellationToken ct)
    {
        int id = BinaryPrimitives.ReadInt32LittleEndian(payload.Span);
        await _memberChanges.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            var voters = await OnLoopAsync(node => node.Voters, ct).ConfigureAwait(false);
            if (id == Id)
            {
                // The leader cannot count its own acknowledgement once removed: hand over first, the caller retries there.
                int target = voters.FirstOrDefault(v => v != Id);
                if (target == 0)
                {
                    throw new ArgumentException($"Member {id} is the last voter and cannot be removed.");
                }

                await OnLoopAsync(node => node.TransferLeadership(target), ct).ConfigureAwait(false);
                throw new RaftNotLeaderException($"Raft host {Id} hands leadership to {target} before removing itself");
            }

            if (!voters.Contains(id) && !Members.Any(m => m.Id == id))
            {
                throw new ArgumentException($"No member has id {id}.");
            }

            if (voters.Contains(id))
            {
                await ChangeVotersAsync(new ConfigChange(ConfigChangeKind.RemoveVoter, id), ct).ConfigureAwait(false);
            }

            if (Members.Any(m => m.Id == id))
            {
                await ProposeLocalAsync(node => node.Propose(Tagged(TagMembers, MemberTable.EncodeRemove(id))), ct).ConfigureAwait(false);
            }

            ClusterLog.MemberRemoved(_logger, Id, id);
            return [];
        }
        finally
        {
            _memberChanges.Release();
        }
    }

    private async Task<byte[]> TransferOnLeaderAsync(ReadOnlyMemory<byte> payload, CancellationToken ct)
    {
        int target = BinaryPrimitives.ReadInt32LittleEndian(payload.Span);
        bool started = await OnLoopAsync(node => node.Role != RaftRole.Leader ? (bool?)null : node.TransferLeadership(target), ct).ConfigureAwait(false)
            ?? throw new RaftNotLeaderException($"Raft host {Id} is not the leader");
        return started ? [] : throw new ArgumentException($"Node {target} is not another voter of leader {Id}.");
    }

    /// <summary>Proposes one voter change, retrying while the core refuses it for now, until it is applied or already in force.</summary>
    private async Task ChangeVotersAsync(ConfigChange change, CancellationToken ct)
    {
        while (true)
        {
            var voters = await OnLoopAsync(node => node.Voters, ct).ConfigureAwait(false);
            bool inForce = change.Kind == ConfigChangeKind.AddVoter ? voters.Contains(change.NodeId) : !voters.Contains(change.NodeId);
            if (inForce)
            {
                // Appended already (by an earlier attempt): wait for it to commit with a barrier of our own.
                await ProposeLocalAsync(node => node.Propose(Tagged(TagMembers, MemberTable.EncodeNothing())), ct).ConfigureAwait(false);
                return;
            }

            try
            {
                await ProposeLocalAsync(node => node.ProposeConfigChange(change), ct).ConfigureAwait(false);
                return;
            }
            catch (RaftConfigChangeRefusedException) when (!ct.IsCancellationRequested)
            {
                await WaitForRetryAsync(Volatile.Read(ref _statusChanged).Task, ct).ConfigureAwait(false);
                if (ct.IsCancellationRequested)
                {
                    throw new RaftUnavailableException($"Raft host {Id}: the change {change} was refused until the caller gave up");
                }
            }
        }
    }

    /// <summary>Runs <paramref name="read"/> on the driver loop and returns its value.</summary>
    private async Task<T> OnLoopAsync<T>(Func<RaftNode, T> read, CancellationToken ct)
    {
        var done = new TaskCompletionSource<T>(TaskCreationOptions.RunContinuationsAsynchronously);
        EnqueueOrThrow(() =>
        {
            if (_loopStopped)
            {
                done.TrySetException(new RaftUnavailableException($"Raft host {Id} is not running"));
                return;
            }

            done.TrySetResult(read(_node!));
        });
        return await done.Task.WaitAsync(ct).ConfigureAwait(false);
    }

    private async Task PublishClientUrlsAsync()
    {
        var ct = _stop.Token;
        while (!ct.IsCancellationRequested && !IsRemoved)
        {
            var self = Members.FirstOrDefault(m => m.Id == Id);
            if (self is not null && self.ClientUrls.SequenceEqual(_options.ClientUrls) && self.Name == _options.Name)
            {
                return;
            }

            var signal = Volatile.Read(ref _statusChanged).Task;
            if (self is not null && LeaderId != 0)
            {
                using var attempt = CancellationTokenSource.CreateLinkedTokenSource(ct);
                attempt.CancelAfter(_options.ForwardTimeout);
                try
                {
                    await OnLeaderAsync(KindPropose, Tagged(TagMembers, MemberTable.EncodePublish(Id, _options.Name, _options.ClientUrls)), attempt.Token).ConfigureAwait(false);
                    ClusterLog.Published(_logger, Id, _options.ClientUrls);
                    continue;
                }
                catch (Exception exception) when (exception is RaftException or OperationCanceledException)
                {
                    ClusterLog.PublishFailed(_logger, exception, Id);
                }
            }

            await WaitForRetryAsync(signal, ct).ConfigureAwait(false);
        }
    }

    private static byte[] EncodeId(int id)
    {
        var bytes = new byte[sizeof(int)];
        BinaryPrimitives.WriteInt32LittleEndian(bytes, id);
        return bytes;
    }
}
