using System.Buffers;
using Microsoft.Extensions.Logging;

namespace Blueprint.Log.Groups;

/// <summary>A group the journal knows, as replayed: its protocol type ("" for a group that only commits) and since when it is empty (-1: it had members).</summary>
internal readonly record struct StoredGroup(string GroupId, string ProtocolType, long EmptySinceMs);

/// <summary>
/// The committed offsets of every group, in memory and in the <see cref="OffsetJournal"/>.
/// <para>
/// Ordering: every change is applied in memory and encoded into the pending journal buffer under one lock, so the
/// journal's order is the order of the changes. A single writer (one task at a time on the thread pool) takes the
/// pending buffer, appends it and fsyncs, then completes every commit that was in it: commits that arrive while one
/// fsync runs share the next one (group commit). A commit is therefore visible to <see cref="TryGet"/> slightly
/// before it is durable; a crash in that window loses it, which a consumer sees as records delivered again
/// (at-least-once), never as records skipped. Deletions (expiry, deleted topics) are journaled the same way but
/// nobody waits for them.
/// </para>
/// <para>
/// Compaction: when the journal reaches <see cref="GroupCoordinatorOptions.JournalCompactionMinBytes"/> and twice its
/// size after the last compaction, the writer encodes the live state under the lock (which covers the records still
/// pending, so they are dropped from the buffer) and replaces the journal with it.
/// </para>
/// <para>
/// A failed write, fsync or rewrite stops the store for good: every later commit fails, because after a failed fsync
/// the page cache can no longer be trusted to match the disk. Reopening replays what reached the disk.
/// </para>
/// </summary>
internal sealed partial class OffsetStore : IAsyncDisposable
{
    /// <summary>The most journal bytes waiting for the writer; a commit beyond it is refused (back-pressure to the client, which retries).</summary>
    public const int MaxPendingBytes = 64 * 1024 * 1024;

    /// <summary>A pending buffer that grew past this is dropped after its write rather than kept for reuse.</summary>
    private const int RetainedBufferBytesMax = 1024 * 1024;

    private readonly Lock _gate = new();
    private readonly Dictionary<string, GroupOffsets> _groups = new(StringComparer.Ordinal);
    private readonly OffsetJournal _journal;
    private readonly bool _fsync;
    private readonly long _compactionMinBytes;
    private readonly ILogger _logger;
    private ArrayBufferWriter<byte> _pending = new();
    private ArrayBufferWriter<byte> _writing = new();
    private TaskCompletionSource? _pendingWaiter;
    private Task _writerTask = Task.CompletedTask;
    private bool _writerRunning;
    private Exception? _failure;
    private bool _disposed;
    private long _compactedBytes;

    private OffsetStore(Func<Action<JournalEntry>, OffsetJournal> openJournal, GroupCoordinatorOptions options, ILogger logger)
    {
        _fsync = options.FsyncCommits;
        _compactionMinBytes = options.JournalCompactionMinBytes;
        _logger = logger;
        _journal = openJournal(Apply);
        _compactedBytes = _journal.LengthBytes;
        foreach (var (groupId, group) in _groups.Where(g => g.Value.Offsets.Count == 0 && !g.Value.HasState).ToList())
        {
            _groups.Remove(groupId);
        }
    }

    /// <summary>What opening the journal found.</summary>
    public JournalRecovery Recovery => _journal.Recovery;

    /// <summary>Opens the store in <paramref name="directory"/>, replaying its journal.</summary>
    public static OffsetStore Open(string directory, GroupCoordinatorOptions options, ILogger logger) =>
        new(apply => OffsetJournal.Open(directory, apply, logger), options, logger);

    /// <summary>The groups the journal holds (with offsets or a recorded state).</summary>
    public List<StoredGroup> StoredGroups()
    {
        lock (_gate)
        {
            return [.. _groups.Select(g => new StoredGroup(g.Key, g.Value.ProtocolType, g.Value.EmptySinceMs))];
        }
    }

    /// <summary>
    /// Stores <paramref name="offsets"/> for the group and returns when they are durable (or written to the OS without
    /// fsync). False, with nothing stored, when the writer is too far behind.
    /// </summary>
    public bool TryCommit(string groupId, IReadOnlyList<(string Topic, int Partition, CommittedOffset Value)> offsets, out Task durable)
    {
        lock (_gate)
        {
            if (_failure is not null || _disposed)
            {
                durable = Task.FromException(_failure ?? new ObjectDisposedException(nameof(OffsetStore)));
                return true;
            }

            if (_pending.WrittenCount > MaxPendingBytes)
            {
                durable = Task.CompletedTask;
                return false;
            }

            var group = GetOrAddLocked(groupId);
            foreach (var (topic, partition, value) in offsets)
            {
                group.Offsets[(topic, partition)] = value;
                OffsetJournalFormat.WriteOffsetCommit(_pending, groupId, topic, partition, value);
            }

            durable = ScheduleWriteLocked();
            return true;
        }
    }

    public bool TryGet(string groupId, string topic, int partition, out CommittedOffset value)
    {
        lock (_gate)
        {
            value = default;
            return _groups.TryGetValue(groupId, out var group) && group.Offsets.TryGetValue((topic, partition), out value);
        }
    }

    /// <summary>Every offset of the group, ordered by topic and partition.</summary>
    public List<(string Topic, int Partition, CommittedOffset Value)> GetAll(string groupId)
    {
        lock (_gate)
        {
            if (!_groups.TryGetValue(groupId, out var group))
            {
                return [];
            }

            return [.. group.Offsets
                .OrderBy(o => o.Key.Topic, StringComparer.Ordinal)
                .ThenBy(o => o.Key.Partition)
                .Select(o => (o.Key.Topic, o.Key.Partition, o.Value))];
        }
    }

    /// <summary>Every committed offset of every group (a copy, taken under the lock).</summary>
    public List<(string GroupId, string Topic, int Partition, long Offset)> AllOffsets()
    {
        lock (_gate)
        {
            return [.. _groups.SelectMany(group => group.Value.Offsets.Select(o => (group.Key, o.Key.Topic, o.Key.Partition, o.Value.Offset)))];
        }
    }

    public bool HasOffsets(string groupId)
    {
        lock (_gate)
        {
            return _groups.TryGetValue(groupId, out var group) && group.Offsets.Count > 0;
        }
    }

    /// <summary>Records the group's protocol type and since when it is empty (-1 while it has members); journaled only when it changes.</summary>
    public void RecordGroupState(string groupId, string protocolType, long emptySinceMs)
    {
        lock (_gate)
        {
            if (!CanWriteLocked())
            {
                return;
            }

            var group = GetOrAddLocked(groupId);
            if (group.HasState && group.ProtocolType == protocolType && group.EmptySinceMs == emptySinceMs)
            {
                return;
            }

            group.HasState = true;
            group.ProtocolType = protocolType;
            group.EmptySinceMs = emptySinceMs;
            OffsetJournalFormat.WriteGroupState(_pending, groupId, protocolType, emptySinceMs);
            _ = ScheduleWriteLocked();
        }
    }

    /// <summary>Removes the group's offsets for which <paramref name="expired"/> holds; returns how many.</summary>
    public int RemoveOffsets(string groupId, Func<string, CommittedOffset, bool> expired)
    {
        lock (_gate)
        {
            if (!CanWriteLocked() || !_groups.TryGetValue(groupId, out var group))
            {
                return 0;
            }

            var removed = group.Offsets.Where(o => expired(o.Key.Topic, o.Value)).Select(o => o.Key).ToList();
            foreach (var key in removed)
            {
                group.Offsets.Remove(key);
                OffsetJournalFormat.WriteOffsetDelete(_pending, groupId, key.Topic, key.Partition);
            }

            DropIfUnusedLocked(groupId, group);
            if (removed.Count > 0)
            {
                _ = ScheduleWriteLocked();
            }

            return removed.Count;
        }
    }

    /// <summary>Removes every group's offsets of <paramref name="topic"/>; returns how many.</summary>
    public int RemoveTopic(string topic)
    {
        lock (_gate)
        {
            if (!CanWriteLocked())
            {
                return 0;
            }

            int removed = 0;
            foreach (var (groupId, group) in _groups.ToList())
            {
                removed += group.Offsets.Keys.Where(k => k.Topic == topic).ToList().Count(group.Offsets.Remove);
                DropIfUnusedLocked(groupId, group);
            }

            OffsetJournalFormat.WriteTopicDelete(_pending, topic);
            _ = ScheduleWriteLocked();
            return removed;
        }
    }

    /// <summary>Forgets the group and its offsets.</summary>
    public void RemoveGroup(string groupId)
    {
        lock (_gate)
        {
            if (CanWriteLocked() && _groups.Remove(groupId))
            {
                OffsetJournalFormat.WriteGroupDelete(_pending, groupId);
                _ = ScheduleWriteLocked();
            }
        }
    }

    /// <summary>Writes what is pending, fsyncs and closes the journal.</summary>
    public async ValueTask DisposeAsync()
    {
        Task writer;
        lock (_gate)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            writer = _writerTask;
        }

        await writer.ConfigureAwait(false);
        lock (_gate)
        {
            try
            {
                if (_failure is null)
                {
                    _journal.Sync();
                }
            }
            catch (IOException e)
            {
                Log.WriteFailed(_logger, e);
            }
            finally
            {
                _journal.Dispose();
            }
        }
    }

    private void Apply(JournalEntry entry)
    {
        switch (entry)
        {
            case OffsetCommitRecord commit:
                GetOrAddLocked(commit.GroupId).Offsets[(commit.Topic, commit.Partition)] = commit.Value;
                break;
            case OffsetDeleteRecord delete:
                if (_groups.TryGetValue(delete.GroupId, out var group))
                {
                    group.Offsets.Remove((delete.Topic, delete.Partition));
                }

                break;
            case TopicDeleteRecord topicDelete:
                foreach (var offsets in _groups.Values)
                {
                    offsets.Offsets.Keys.Where(k => k.Topic == topicDelete.Topic).ToList().ForEach(k => offsets.Offsets.Remove(k));
                }

                break;
            case GroupStateRecord state:
                var stateGroup = GetOrAddLocked(state.GroupId);
                stateGroup.HasState = true;
                stateGroup.ProtocolType = state.ProtocolType;
                stateGroup.EmptySinceMs = state.EmptySinceMs;
                break;
            case GroupDeleteRecord groupDelete:
                _groups.Remove(groupDelete.GroupId);
                break;
            default:
                throw new InvalidOperationException($"Unhandled journal entry {entry.GetType().Name}.");
        }
    }

    private GroupOffsets GetOrAddLocked(string groupId)
    {
        if (!_groups.TryGetValue(groupId, out var group))
        {
            group = new GroupOffsets();
            _groups.Add(groupId, group);
        }

        return group;
    }

    private void DropIfUnusedLocked(string groupId, GroupOffsets group)
    {
        if (group.Offsets.Count == 0 && !group.HasState)
        {
            _groups.Remove(groupId);
        }
    }

    private bool CanWriteLocked() => _failure is null && !_disposed;

    private Task ScheduleWriteLocked()
    {
        _pendingWaiter ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var task = _pendingWaiter.Task;
        if (!_writerRunning)
        {
            _writerRunning = true;
            _writerTask = Task.Run(WriteLoop);
        }

        return task;
    }

    /// <summary>The single writer: appends and fsyncs batches until nothing is pending, compacting when due.</summary>
    private void WriteLoop()
    {
        while (true)
        {
            ArrayBufferWriter<byte> batch;
            TaskCompletionSource waiter;
            lock (_gate)
            {
                if (_pending.WrittenCount == 0)
                {
                    _writerRunning = false;
                    return;
                }

                batch = _pending;
                _pending = _writing;
                _writing = batch;
                waiter = _pendingWaiter!;
                _pendingWaiter = null;
            }

            try
            {
                _journal.Append(batch.WrittenSpan);
                if (_fsync)
                {
                    _journal.Sync();
                }
            }
            catch (Exception e)
            {
                // Whatever stopped the write, nobody waiting may hang: every later commit fails instead.
                Fail(e, waiter);
                return;
            }

            if (batch.Capacity > RetainedBufferBytesMax)
            {
                _writing = new ArrayBufferWriter<byte>();
            }
            else
            {
                batch.ResetWrittenCount();
            }

            waiter.SetResult();
            if (_journal.LengthBytes >= Math.Max(_compactionMinBytes, 2 * _compactedBytes) && !TryCompact())
            {
                return;
            }
        }
    }

    /// <summary>Replaces the journal with the live state; false (and the store failed) when the rewrite fails.</summary>
    private bool TryCompact()
    {
        var snapshot = new ArrayBufferWriter<byte>();
        TaskCompletionSource? covered;
        long before;
        lock (_gate)
        {
            before = _journal.LengthBytes;
            OffsetJournalFormat.WriteHeader(snapshot);
            foreach (var (groupId, group) in _groups)
            {
                if (group.HasState)
                {
                    OffsetJournalFormat.WriteGroupState(snapshot, groupId, group.ProtocolType, group.EmptySinceMs);
                }

                foreach (var ((topic, partition), value) in group.Offsets)
                {
                    OffsetJournalFormat.WriteOffsetCommit(snapshot, groupId, topic, partition, value);
                }
            }

            // The snapshot already holds the effect of every pending record, so those records need no writing.
            covered = _pendingWaiter;
            _pendingWaiter = null;
            _pending.ResetWrittenCount();
        }

        try
        {
            _journal.Rewrite(snapshot.WrittenSpan);
        }
        catch (Exception e)
        {
            Fail(e, covered);
            return false;
        }

        _compactedBytes = snapshot.WrittenCount;
        Log.Compacted(_logger, before, snapshot.WrittenCount);
        covered?.SetResult();
        return true;
    }

    private void Fail(Exception error, TaskCompletionSource? waiter)
    {
        TaskCompletionSource? later;
        lock (_gate)
        {
            _failure = error;
            later = _pendingWaiter;
            _pendingWaiter = null;
            _pending.ResetWrittenCount();
            _writerRunning = false;
        }

        Log.WriteFailed(_logger, error);
        waiter?.SetException(error);
        later?.SetException(error);
    }

    /// <summary>One group's offsets and recorded state.</summary>
    private sealed class GroupOffsets
    {
        public Dictionary<(string Topic, int Partition), CommittedOffset> Offsets { get; } = [];

        /// <summary>Whether a group-state record exists (a group that had members); else the group only commits.</summary>
        public bool HasState { get; set; }

        public string ProtocolType { get; set; } = "";

        public long EmptySinceMs { get; set; } = -1;
    }

    private static partial class Log
    {
        [LoggerMessage(Level = LogLevel.Information, Message = "Offsets journal compacted from {BeforeBytes} to {AfterBytes} bytes")]
        public static partial void Compacted(ILogger logger, long beforeBytes, long afterBytes);

        [LoggerMessage(Level = LogLevel.Error, Message = "Offsets journal write failed; offset commits are refused until the coordinator is reopened")]
        public static partial void WriteFailed(ILogger logger, Exception error);
    }
}
