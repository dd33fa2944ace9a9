using System.Buffers.Binary;
using Blueprint.Core.Raft;
using Microsoft.Extensions.Logging;

namespace Blueprint.Raft.Hosting;

// The driver loop: one task owns the RaftNode, the state machine and the member table.
public sealed partial class RaftHost
{
    private bool _committedVoter;
    private long _persistedTerm;
    private readonly System.Collections.Concurrent.ConcurrentQueue<Action> _loopWork = new();
    private bool _wasLeader;
    private int _lastLeaderId;
    private long _lastTerm;

    private async Task RunLoopAsync(TaskCompletionSource started)
    {
        var reader = _inputs.Reader;
        Exception? fault = null;
        try
        {
            // Re-apply what storage holds as committed before anything else happens.
            ProcessReady();
            started.TrySetResult();
            while (!IsRemoved && !_stop.IsCancellationRequested && await reader.WaitToReadAsync(CancellationToken.None).ConfigureAwait(false))
            {
                for (int handled = 0; handled < InputsPerReadyMax && reader.TryRead(out var input); handled++)
                {
                    Handle(input);
                }

                RunLoopWork();
                _reads.StartRound(_node!);
                ProcessReady();
            }
        }
#pragma warning disable CA1031 // A fault in the loop is reported to every waiter and logged; the host stops.
        catch (Exception exception)
#pragma warning restore CA1031
        {
            fault = exception;
            ClusterLog.LoopFault(_logger, exception, Id);
        }

        started.TrySetException(fault ?? new RaftUnavailableException($"Raft host {Id} stopped while starting"));
        FailAllWaiters(fault);
        if (_ticker is not null)
        {
            await _ticker.DisposeAsync().ConfigureAwait(false);
        }

        _inputs.Writer.TryComplete();
        SignalStatusChanged();
    }

    private void Handle(Input input)
    {
        var node = _node!;
        switch (input)
        {
            case TickInput:
                node.Tick();
                _reads.OnTick();
                break;
            case PeerInput peer:
                node.Step(peer.Message);
                break;
            case CallInput call:
                call.Action();
                break;
            case WakeInput:
                break;
            default:
                throw new InvalidOperationException($"Unknown input {input.GetType().Name}.");
        }
    }

    private void ProcessReady()
    {
        var node = _node!;
        while (node.HasReady())
        {
            var ready = node.Ready();
            bool early = MaySendBeforePersisting(node, ready);
            if (early)
            {
                SendMessages(ready.Messages);
            }

            _storage.Persist(ready);
            if (ready.HardState is { } persisted)
            {
                _persistedTerm = persisted.Term;
            }

            if (!early)
            {
                SendMessages(ready.Messages);
            }

            if (ready.Snapshot is { } snapshot)
            {
                InstallSnapshot(snapshot);
            }

            foreach (var entry in ready.CommittedEntries)
            {
                ApplyEntry(entry);
            }

            foreach (var read in ready.ReadStates)
            {
                _reads.OnReadState(read);
            }

            node.Advance();
            _reads.Release(node.AppliedIndex);
            _reads.StartRound(node);
        }

        // Checked on every pass, not only after a Ready: the entries applied while the previous snapshot was in
        // progress must start the next one even when nothing else happens (an idle node, a single voter).
        _snapshots.MaybeStart(node, _table);
        PublishStatus();
    }

    /// <summary>
    /// Whether a leader may hand this Ready's messages to the senders before its own disk write (thesis §10.2.1), so
    /// that the followers' writes overlap the leader's. Safe because a leader's appends and heartbeats promise nothing
    /// about its own disk, and the loop handles no acknowledgement before the write below has finished: an entry still
    /// commits only once the leader and a quorum hold it. Only a leader whose term is already on disk does this;
    /// votes, answers to appends and everything of a node that just changed term wait for the write as usual.
    /// </summary>
    private bool MaySendBeforePersisting(RaftNode node, Ready ready)
    {
        if (node.Role != RaftRole.Leader || ready.Snapshot is not null || node.Term != _persistedTerm ||
            (ready.HardState is { } state && state.Term != _persistedTerm))
        {
            return false;
        }

        foreach (var message in ready.Messages)
        {
            bool promisesNothing = message.Type is MessageType.ReadIndexResponse ||
                (message.Type is MessageType.Append or MessageType.Heartbeat && message.Term == _persistedTerm);
            if (!promisesNothing)
            {
                return false;
            }
        }

        return true;
    }

    private void SendMessages(IReadOnlyList<Message> messages)
    {
        foreach (var message in messages)
        {
            if (_senders.TryGetValue(message.To, out var sender))
            {
                sender.TryEnqueue(message);
            }
            else
            {
                ClusterLog.NoAddress(_logger, Id, message.To, message.Type);
            }
        }
    }

    private void ApplyEntry(LogEntry entry)
    {
        byte[] result = [];
        switch (entry.Kind)
        {
            case EntryKind.Normal when entry.Data.Length > 0:
                var body = entry.Data[1..];
                byte tag = entry.Data.Span[0];
                if (tag == TagCommand)
                {
                    result = _stateMachine.Apply(entry.Index, body);
                }
                else if (tag == TagMembers)
                {
                    result = _table.Apply(body.Span);
                    OnTableChanged();
                }
                else
                {
                    throw new InvalidDataException($"Entry {entry.Index} carries unknown tag {tag}.");
                }

                break;
            case EntryKind.Configuration:
                OnConfigurationApplied(entry);
                break;
            default:
                break;
        }

        _proposals.Resolve(entry, result);
    }

    private void OnConfigurationApplied(LogEntry entry)
    {
        var voters = Membership.Decode(entry.Data.Span);
        if (voters.Contains(Id))
        {
            _committedVoter = true;
            return;
        }

        if (_committedVoter)
        {
            // Committed without this node after it had been a voter: it was removed (thesis §4.2.2).
            MarkRemoved($"configuration at index {entry.Index} leaves it out");
        }
    }

    private void MarkRemoved(string why)
    {
        if (IsRemoved)
        {
            return;
        }

        _removed = true;
        ClusterLog.Removed(_logger, Id, why);
    }

    /// <summary>Called by a sender when a peer refuses this node's stream.</summary>
    internal void OnPeerRefused(int peerId, string refusal)
    {
        if (refusal == PeerSender.RefusalRemoved)
        {
            TryEnqueueCall(() => MarkRemoved($"peer {peerId} says so"));
        }
        else
        {
            ClusterLog.PeerRefused(_logger, Id, peerId, refusal);
        }
    }

    private void InstallSnapshot(Snapshot snapshot)
    {
        RestoreFromSnapshot(snapshot);
        _proposals.FailThrough(snapshot.Metadata.Index);
        ClusterLog.SnapshotInstalled(_logger, Id, snapshot.Metadata.Index, snapshot.Metadata.Term);
    }

    private void RestoreFromStorage(Snapshot snapshot)
    {
        RestoreFromSnapshot(snapshot);
    }

    private void RestoreFromSnapshot(Snapshot snapshot)
    {
        if (snapshot.Metadata.Index == 0 || snapshot.Data.IsEmpty)
        {
            _stateMachine.Restore(ReadOnlyMemory<byte>.Empty);
        }
        else
        {
            var data = snapshot.Data;
            int tableLength = BinaryPrimitives.ReadInt32LittleEndian(data.Span);
            var table = MemberTable.Decode(data.Span.Slice(sizeof(int), tableLength));
            if (ClusterId != 0 && table.ClusterId != ClusterId)
            {
                throw new InvalidDataException($"Snapshot at {snapshot.Metadata.Index} belongs to cluster {table.ClusterId:x16}, not {ClusterId:x16}.");
            }

            _stateMachine.Restore(data[(sizeof(int) + tableLength)..]);
            _table = table;
            AdoptClusterId(table.ClusterId);
        }

        _committedVoter |= snapshot.Metadata.Voters.Contains(Id);
        OnTableChanged();
    }

    /// <summary>A snapshot's data: the member table's length, the table, then the state machine's snapshot.</summary>
    internal static byte[] EncodeSnapshot(byte[] table, byte[] machine)
    {
        var data = new byte[sizeof(int) + table.Length + machine.Length];
        BinaryPrimitives.WriteInt32LittleEndian(data, table.Length);
        table.CopyTo(data.AsSpan(sizeof(int)));
        machine.CopyTo(data.AsSpan(sizeof(int) + table.Length));
        return data;
    }

    /// <summary>Keeps one sender per member other than this node, at its dial address.</summary>
    private void OnTableChanged()
    {
        if (_table.ClusterId == 0 && ClusterId != 0)
        {
            _table.ClusterId = ClusterId;
        }

        var members = _table.Members;
        Volatile.Write(ref _members, members);
        Volatile.Write(ref _memberView, new MemberView(_table));
        foreach (var member in members.Where(m => m.Id != Id))
        {
            string url = _options.PeerDialUrls.TryGetValue(member.Id, out var dial) ? dial : member.PeerUrls[0];
            if (_senders.TryGetValue(member.Id, out var existing))
            {
                if (existing.Url == url)
                {
                    continue;
                }

                _senders.TryRemove(member.Id, out _);
                _ = existing.DisposeAsync().AsTask();
            }

            _senders[member.Id] = new PeerSender(this, member.Id, url, _options, _loggers.CreateLogger<PeerSender>(), _time);
        }

        foreach (var stale in _senders.Keys.Where(id => !_table.Contains(id)).ToList())
        {
            if (_senders.TryRemove(stale, out var sender))
            {
                _ = sender.DisposeAsync().AsTask();
            }
        }
    }

    private void AdoptClusterId(ulong clusterId)
    {
        if (clusterId != 0 && Interlocked.CompareExchange(ref _clusterId, clusterId, 0) == 0)
        {
            ClusterLog.JoinedCluster(_logger, Id, clusterId);
        }
    }

    private void PublishStatus()
    {
        var node = _node!;
        var status = new Status(node.LeaderId, node.Term, node.Role, node.AppliedIndex, node.CommitIndex, node.SnapshotIndex);
        Volatile.Write(ref _status, status);
        if (status.Term != _lastTerm)
        {
            // A round in flight under the old term will not be answered (the core drops pending reads when the
            // leader changes): the next round need not wait for it to age out. Its reads stay registered.
            _lastTerm = status.Term;
            _reads.ForgetInFlight();
        }

        if (status.LeaderId != _lastLeaderId)
        {
            _lastLeaderId = status.LeaderId;
            _reads.ForgetInFlight();
            if (status.LeaderId != 0)
            {
                ClusterLog.LeaderChanged(_logger, Id, status.LeaderId, status.Term);
            }

            SignalStatusChanged();
        }

        if (status.IsLeader != _wasLeader)
        {
            _wasLeader = status.IsLeader;
            bool leading = status.IsLeader;
            var handlers = LeadershipChanged;
            if (handlers is not null)
            {
                ThreadPool.QueueUserWorkItem(_ => handlers(leading));
            }
        }
    }

    private void SignalStatusChanged() => Interlocked.Exchange(ref _statusChanged, NewSignal()).TrySetResult();

    private bool TryEnqueueCall(Action action) => _inputs.Writer.TryWrite(new CallInput(action));

    /// <summary>
    /// Hands the loop work it must not lose (the next step of a snapshot, forgetting a read) even when the input
    /// channel is full: the work waits in its own queue, and a full channel means the loop is awake anyway. Each
    /// caller bounds what it posts: one snapshot at a time, one drop per read that was admitted.
    /// </summary>
    private void PostToLoop(Action action)
    {
        _loopWork.Enqueue(action);
        _inputs.Writer.TryWrite(WakeInput.Instance);
    }

    private void RunLoopWork()
    {
        while (_loopWork.TryDequeue(out var action))
        {
            action();
        }
    }

    private abstract class Input;

    private sealed class TickInput : Input
    {
        public static readonly TickInput Instance = new();
    }

    /// <summary>Wakes the loop for <see cref="PostToLoop"/> work.</summary>
    private sealed class WakeInput : Input
    {
        public static readonly WakeInput Instance = new();
    }

    private sealed class PeerInput(Message message) : Input
    {
        public Message Message { get; } = message;
    }

    private sealed class CallInput(Action action) : Input
    {
        public Action Action { get; } = action;
    }
}
